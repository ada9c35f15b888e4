/** Defaults that are not per-version. */
export const DEFAULTS = {
  imageRepository: 'registry.k8s.io',
  certificatesDir: '/etc/kubernetes/pki',
  clusterName: 'kubernetes',
  serviceSubnet: '10.96.0.0/12',
  dnsDomain: 'cluster.local',
  apiServerPort: 6443,
  /** etcd's client and peer ports (kubeadm's, fixed: kubeadm has no setting for them). */
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
  etcdDataDir: '/var/lib/etcd',
  caCertificatePaths: ['/etc/ca-certificates', '/usr/local/share/ca-certificates', '/usr/share/ca-certificates'],
  /** PKI state directory (relative to the spec file's directory); `<name>` is the cluster name. */
  pkiDir: 'ha-control-plane-state/<name>/pki',
  /** Generated PKI (kubeadm's defaults where kubeadm has one). */
  pki: { keyAlgorithm: 'RSA-2048', certificateValidityDays: 365, caCertificateValidityDays: 3650, renewBeforeDays: 30, backdateMinutes: 5 },
} as const;

/** An etcd image kubeadm's config can name: `<repository>/etcd:<tag>` (no digest). */
export const KUBEADM_ETCD_IMAGE = /^(.+)\/etcd:([\w][\w.-]{0,127})$/;
