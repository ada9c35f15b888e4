import { args } from '../plan/args';
import { DEFAULTS } from '../plan/defaults';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { Arg } from '../spec/types';
import { hostPort } from '../util/net';
import { apiServerHardening } from './api-server-hardening';
import { componentPod, pkiAndCaVolumes } from './common';
import { HostPathMount, PodDescription } from './pod';

/** The CA directories kubeadm may mount; etcd certificates below them need no volume of their own. */
const KUBEADM_CA_DIRS = ['/etc/ssl/certs', '/etc/pki/ca-trust', '/etc/pki/tls/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];

/**
 * Read-only volumes for external etcd certificate files outside the certificates directory and the CA
 * directories (kubeadm's getEtcdCertVolumes): one `etcd-certs-<i>` per distinct directory, a directory
 * inside another one dropped, in sorted order, with kubeadm's plain prefix tests.
 */
export function externalEtcdCertVolumes(plan: ClusterPlan): HostPathMount[] {
  if (plan.etcd.kind !== 'external') return [];
  const dirs = new Set<string>();
  for (const file of [plan.etcd.caFile, plan.etcd.certFile, plan.etcd.keyFile]) {
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) || '/' : '.';
    if (dir === '.' || dir.startsWith(plan.certificatesDir) || KUBEADM_CA_DIRS.some((p) => dir.startsWith(p))) continue;
    let covered = false;
    for (const existing of [...dirs]) {
      if (existing.startsWith(dir)) dirs.delete(existing);
      else if (dir.startsWith(existing)) covered = true;
    }
    if (!covered) dirs.add(dir);
  }
  return [...dirs].sort().map((dir, i) => ({ name: `etcd-certs-${i}`, hostPath: dir, type: 'DirectoryOrCreate', readOnly: true }));
}

/** kube-apiserver's flags as kubeadm's getAPIServerCommand sets them (before the profile's and the user's). */
export function apiServerArgs(plan: ClusterPlan, master: MasterPlan): Arg[] {
  const P = plan.certificatesDir;
  const etcd = plan.etcd.kind === 'local'
    ? {
      'etcd-servers': `https://${hostPort(master.loopback, DEFAULTS.etcdClientPort)}`,
      'etcd-cafile': `${P}/etcd/ca.crt`,
      'etcd-certfile': `${P}/apiserver-etcd-client.crt`,
      'etcd-keyfile': `${P}/apiserver-etcd-client.key`,
    }
    : {
      'etcd-servers': plan.etcd.endpoints.join(','),
      'etcd-cafile': plan.etcd.caFile,
      'etcd-certfile': plan.etcd.certFile,
      'etcd-keyfile': plan.etcd.keyFile,
    };
  return args({
    'advertise-address': master.address,
    'allow-privileged': 'true',
    'authorization-mode': 'Node,RBAC',
    'client-ca-file': `${P}/ca.crt`,
    'enable-admission-plugins': 'NodeRestriction',
    'enable-bootstrap-token-auth': 'true',
    ...etcd,
    'kubelet-client-certificate': `${P}/apiserver-kubelet-client.crt`,
    'kubelet-client-key': `${P}/apiserver-kubelet-client.key`,
    'kubelet-preferred-address-types': 'InternalIP,ExternalIP,Hostname',
    'proxy-client-cert-file': `${P}/front-proxy-client.crt`,
    'proxy-client-key-file': `${P}/front-proxy-client.key`,
    'requestheader-allowed-names': 'front-proxy-client',
    'requestheader-client-ca-file': `${P}/front-proxy-ca.crt`,
    'requestheader-extra-headers-prefix': 'X-Remote-Extra-',
    'requestheader-group-headers': 'X-Remote-Group',
    'requestheader-username-headers': 'X-Remote-User',
    'secure-port': String(plan.apiServer.bindPort),
    'service-account-issuer': `https://kubernetes.default.svc.${plan.networking.dnsDomain}`,
    'service-account-key-file': `${P}/sa.pub`,
    'service-account-signing-key-file': `${P}/sa.key`,
    'service-cluster-ip-range': plan.networking.serviceSubnet,
    'tls-cert-file': `${P}/apiserver.crt`,
    'tls-private-key-file': `${P}/apiserver.key`,
  });
}

/**
 * kube-apiserver on one master as kubeadm writes it (phases/controlplane/manifests.go: getAPIServerCommand
 * and its volumes): probes /livez, /readyz, /livez over HTTPS on the advertise address. With an
 * encryption key (security profile `hardened`), also the hardening config files and their mounts.
 */
export function apiServerPod(plan: ClusterPlan, master: MasterPlan, encryptionKey?: string): PodDescription {
  const port = plan.apiServer.bindPort;
  const hardening = encryptionKey === undefined ? undefined : apiServerHardening(plan, encryptionKey);
  const probe = (path: string) => ({ host: master.address, path, port, scheme: 'HTTPS' as const });
  return {
    ...componentPod(plan, 'kube-apiserver', 'apiServer', plan.apiServer, apiServerArgs(plan, master)),
    annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': hostPort(master.address, port) },
    requests: { cpu: '250m' },
    volumes: [...pkiAndCaVolumes(plan), ...externalEtcdCertVolumes(plan), ...(hardening?.volumes ?? [])],
    probes: { liveness: probe('/livez'), readiness: probe('/readyz'), startup: probe('/livez') },
    files: hardening?.files,
  };
}
