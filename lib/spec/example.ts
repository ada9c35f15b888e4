import { ClusterSpec } from './types';

/**
 * The embedded default example: three stacked-etcd masters on Kubernetes 1.37 behind a keepalived VIP
 * and haproxy on every master (VIP:8443 → each API server's 6443).
 * `cdk8s synth` on a fresh clone synthesizes this cluster.
 */
export const EXAMPLE_SPEC: ClusterSpec = {
  name: 'example',
  kubernetesVersion: '1.37',
  controlPlaneEndpoint: { host: '192.168.10.100', port: 8443 },
  masters: [
    { name: 'master-1', address: '192.168.10.11' },
    { name: 'master-2', address: '192.168.10.12' },
    { name: 'master-3', address: '192.168.10.13' },
  ],
  networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16', dnsDomain: 'cluster.local' },
  loadBalancer: { type: 'haproxy' },
  keepalived: { interface: 'eth0' },
};
