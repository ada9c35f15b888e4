import { yaml } from '../util/yaml';

/** What a kubeconfig kubeadm writes holds: one cluster, one user (the certificate's CN), one context. */
export interface KubeconfigProps {
  /** kubeadm's clusterName, e.g. `kubernetes`. */
  readonly clusterName: string;
  /** API server URL. */
  readonly server: string;
  /** User name: the client certificate's CN. */
  readonly user: string;
  /** PEM of the cluster CA, the client certificate and its key (embedded base64, as kubeadm does). */
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/** A kubeconfig as kubeadm writes it (phases/kubeconfig: CreateWithCerts): context `<user>@<cluster>`. */
export function renderKubeconfig(p: KubeconfigProps): string {
  const context = `${p.user}@${p.clusterName}`;
  return yaml.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: p.clusterName, cluster: { 'certificate-authority-data': b64(p.caPem), server: p.server } }],
    contexts: [{ name: context, context: { cluster: p.clusterName, user: p.user } }],
    'current-context': context,
    preferences: {},
    users: [{ name: p.user, user: { 'client-certificate-data': b64(p.certPem), 'client-key-data': b64(p.keyPem) } }],
  }, { lineWidth: 0 });
}
