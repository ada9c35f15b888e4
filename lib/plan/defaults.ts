/** Defaults that are not per-version. */
export const DEFAULTS = {
  imageRepository: 'registry.k8s.io',
  certificatesDir: '/etc/kubernetes/pki',
  clusterName: 'kubernetes',
  serviceSubnet: '10.96.0.0/12',
  dnsDomain: 'cluster.local',
  apiServerPort: 6443,
  etcdDataDir: '/var/lib/etcd',
  caCertificatePaths: ['/etc/ca-certificates', '/usr/local/share/ca-certificates', '/usr/share/ca-certificates'],
} as const;
