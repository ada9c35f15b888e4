/**
 * What the PKI holds, as a pure function of the plan: the CAs, and per node every certificate kubeadm
 * makes (subject, SANs, usages, issuing CA), where it goes on the node, and which pods read it. No
 * cryptography here (lib/pki/issue.ts does that), so the rules are cheap to test.
 *
 * Sources: kubeadm's cmd/kubeadm/app/phases/certs/certlist.go and phases/kubeconfig/kubeconfig.go.
 */
import { firstHostAddress, hostPort, ipFamily } from '../util/net';
import { apiServerCertSans } from '../plan/cert-sans';
import { ClusterPlan, MasterPlan } from '../plan/plan';

/** The CAs, named by their path under the PKI directory (kubeadm's layout). */
export type CaId = 'ca' | 'front-proxy-ca' | 'etcd/ca';

/** A CA: CN (also its DNS SAN, as kubeadm does since 1.21). */
export interface CaSpec {
  readonly id: CaId;
  readonly commonName: string;
}

/** Extended key usages kubeadm's certificates carry. */
export type Usage = 'serverAuth' | 'clientAuth';

/** Where an issued certificate goes on the node. */
export type LeafOutput =
  /** `<path>.crt` (0644) and `<path>.key` (0600). */
  | { readonly kind: 'files'; readonly base: string }
  /** A kubeconfig (0600) embedding the CA, the certificate and the key. */
  | { readonly kind: 'kubeconfig'; readonly path: string; readonly server: string };

/** One certificate of one node. */
export interface LeafSpec {
  /** Name in the state directory and in reports, e.g. `apiserver`, `etcd/server`, `admin.conf`. */
  readonly id: string;
  readonly ca: CaId;
  readonly commonName: string;
  /** Organizations (kubeadm's groups). */
  readonly organizations: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly usages: readonly Usage[];
  readonly output: LeafOutput;
  /** What must restart when it changes: static pods by name, or `kubelet`. */
  readonly restarts: readonly string[];
}

/** A file copied from the shared state (a CA certificate or key, the service-account key pair). */
export interface SharedFile {
  /** Path in the state directory, e.g. `ca.key`. */
  readonly source: string;
  /** Absolute path on the node. */
  readonly path: string;
  readonly mode: number;
}

/** What one node gets. */
export interface NodePkiSpec {
  readonly node: string;
  readonly role: 'master' | 'worker';
  readonly shared: readonly SharedFile[];
  readonly leaves: readonly LeafSpec[];
}

/** The whole PKI of a cluster. */
export interface PkiProfile {
  readonly cas: readonly CaSpec[];
  readonly nodes: readonly NodePkiSpec[];
}

/** Modes: certificates world-readable as kubeadm writes them; keys, sa.pub and kubeconfigs 0600. */
export const CERT_MODE = 0o644;
export const SECRET_MODE = 0o600;

/** Splits SANs into DNS names and IP addresses (kubeadm parses certSANs the same way), without duplicates. */
export function splitSans(sans: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const s of sans) {
    const list = ipFamily(s) === 0 ? dnsNames : ipAddresses;
    if (!list.includes(s)) list.push(s);
  }
  return { dnsNames, ipAddresses };
}

/**
 * The API server certificate's SANs on one master, as kubeadm computes them (certlist.go
 * GetAPIServerAltNames): node name, kubernetes, kubernetes.default, kubernetes.default.svc and
 * kubernetes.default.svc.<domain>; the first address of the (first) service subnet and the advertise
 * address; the control-plane endpoint host; and the certSANs of the emitted kubeadm config (VIP, every
 * master, LB hosts, and localhost/127.0.0.1/::1 when workers use a local proxy).
 */
export function apiServerSans(plan: ClusterPlan, master: MasterPlan): { dnsNames: string[]; ipAddresses: string[] } {
  const serviceIp = firstHostAddress(plan.networking.serviceSubnet.split(',')[0].trim());
  const domain = plan.networking.dnsDomain;
  return splitSans([
    master.name, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`,
    ...(serviceIp ? [serviceIp] : []), master.address,
    plan.endpoint.host,
    ...apiServerCertSans(plan),
  ]);
}

/** The certificates and kubeconfigs of one master. */
function masterLeaves(plan: ClusterPlan, master: MasterPlan, first: boolean): LeafSpec[] {
  const P = plan.certificatesDir;
  const local = `https://${hostPort(master.address, plan.apiServer.bindPort)}`;
  const endpoint = `https://${hostPort(plan.endpoint.host, plan.endpoint.port)}`;
  const files = (name: string) => ({ kind: 'files' as const, base: `${P}/${name}` });
  const kubeconfig = (name: string, server: string) => ({ kind: 'kubeconfig' as const, path: `/etc/kubernetes/${name}`, server });
  const client = (id: string, ca: CaId, commonName: string, organizations: string[], output: LeafOutput, restarts: string[]): LeafSpec =>
    ({ id, ca, commonName, organizations, dnsNames: [], ipAddresses: [], usages: ['clientAuth'], output, restarts });

  const leaves: LeafSpec[] = [
    { id: 'apiserver', ca: 'ca', commonName: 'kube-apiserver', organizations: [], ...apiServerSans(plan, master), usages: ['serverAuth'], output: files('apiserver'), restarts: ['kube-apiserver'] },
    client('apiserver-kubelet-client', 'ca', 'kube-apiserver-kubelet-client', plan.pki.kubeletClientBinding ? [] : ['kubeadm:cluster-admins'], files('apiserver-kubelet-client'), ['kube-apiserver']),
    client('front-proxy-client', 'front-proxy-ca', 'front-proxy-client', [], files('front-proxy-client'), ['kube-apiserver']),
  ];
  if (plan.etcd.kind === 'local') {
    // etcd checks a peer's source address against its certificate: the advertise address must be in it.
    const etcdSans = { dnsNames: [master.name, 'localhost'], ipAddresses: [...new Set([master.address, '127.0.0.1', '::1'])] };
    leaves.push(
      client('apiserver-etcd-client', 'etcd/ca', 'kube-apiserver-etcd-client', [], files('apiserver-etcd-client'), ['kube-apiserver']),
      { id: 'etcd/server', ca: 'etcd/ca', commonName: master.name, organizations: [], ...etcdSans, usages: ['serverAuth', 'clientAuth'], output: files('etcd/server'), restarts: ['etcd'] },
      { id: 'etcd/peer', ca: 'etcd/ca', commonName: master.name, organizations: [], ...etcdSans, usages: ['serverAuth', 'clientAuth'], output: files('etcd/peer'), restarts: ['etcd'] },
      client('etcd/healthcheck-client', 'etcd/ca', 'kube-etcd-healthcheck-client', [], files('etcd/healthcheck-client'), []),
    );
  }
  leaves.push(client('admin.conf', 'ca', 'kubernetes-admin', ['kubeadm:cluster-admins'], kubeconfig('admin.conf', endpoint), []));
  if (first) leaves.push(client('super-admin.conf', 'ca', 'kubernetes-super-admin', ['system:masters'], kubeconfig('super-admin.conf', endpoint), []));
  leaves.push(
    client('controller-manager.conf', 'ca', 'system:kube-controller-manager', [], kubeconfig('controller-manager.conf', local), ['kube-controller-manager']),
    client('scheduler.conf', 'ca', 'system:kube-scheduler', [], kubeconfig('scheduler.conf', local), ['kube-scheduler']),
    // Since 1.33 (ControlPlaneKubeletLocalMode beta, GA in 1.35) a control-plane kubelet talks to its own API server.
    client('kubelet.conf', 'ca', `system:node:${master.name}`, ['system:nodes'], kubeconfig('kubelet.conf', local), ['kubelet']),
  );
  return leaves;
}

/**
 * The cluster's PKI: CAs shared by all masters; per master the certificates kubeadm makes and the
 * kubeconfigs; per worker with a bundle (workerProxy) the cluster CA certificate and a kubelet.conf
 * through the local proxy. Masters get the CA keys they use at run time only (ca.key: the controller
 * manager signs with it; sa.key); front-proxy-ca.key and etcd/ca.key stay in the state directory.
 */
export function pkiProfile(plan: ClusterPlan): PkiProfile {
  const P = plan.certificatesDir;
  const localEtcd = plan.etcd.kind === 'local';
  const cas: CaSpec[] = [
    { id: 'ca', commonName: 'kubernetes' },
    { id: 'front-proxy-ca', commonName: 'front-proxy-ca' },
    ...(localEtcd ? [{ id: 'etcd/ca' as const, commonName: 'etcd-ca' }] : []),
  ];
  const masterShared: SharedFile[] = [
    { source: 'ca.crt', path: `${P}/ca.crt`, mode: CERT_MODE },
    { source: 'ca.key', path: `${P}/ca.key`, mode: SECRET_MODE },
    { source: 'front-proxy-ca.crt', path: `${P}/front-proxy-ca.crt`, mode: CERT_MODE },
    ...(localEtcd ? [{ source: 'etcd/ca.crt', path: `${P}/etcd/ca.crt`, mode: CERT_MODE }] : []),
    { source: 'sa.key', path: `${P}/sa.key`, mode: SECRET_MODE },
    { source: 'sa.pub', path: `${P}/sa.pub`, mode: SECRET_MODE },
  ];
  const nodes: NodePkiSpec[] = plan.masters.map((m, i) => ({ node: m.name, role: 'master' as const, shared: masterShared, leaves: masterLeaves(plan, m, i === 0) }));
  const wp = plan.workerProxy;
  if (wp) {
    const server = wp.serverUrl;
    for (const w of wp.workers) {
      nodes.push({
        node: w.name,
        role: 'worker',
        shared: [{ source: 'ca.crt', path: `${P}/ca.crt`, mode: CERT_MODE }],
        leaves: [{
          id: 'kubelet.conf', ca: 'ca', commonName: `system:node:${w.name}`, organizations: ['system:nodes'], dnsNames: [], ipAddresses: [],
          usages: ['clientAuth'], output: { kind: 'kubeconfig', path: '/etc/kubernetes/kubelet.conf', server }, restarts: ['kubelet'],
        }],
      });
    }
  }
  return { cas, nodes };
}
