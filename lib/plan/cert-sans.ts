import { ipFamily, ipToBigInt } from '../util/net';
import { ClusterPlan } from './plan';

/**
 * The Subject Alternative Names the API server certificate needs beyond kubeadm's defaults: the
 * endpoint host and the VIP (they differ when the endpoint is a DNS name), every master's name and
 * address (so any master is reachable directly and through the VIP), the LB hosts' names and addresses,
 * localhost/127.0.0.1/::1 when workers reach the API through a local proxy, and last the spec's
 * `apiServer.certSANs`; without duplicates.
 */
export function apiServerCertSans(plan: ClusterPlan): string[] {
  const out: string[] = [];
  const keys = new Set<string>();
  // One entry per name or address: IPv6 spellings of one address ("fd00::1", "fd00:0::1") count once.
  const sans = {
    add(s: string) {
      const family = ipFamily(s);
      const key = family === 0 ? s.toLowerCase() : `${family}:${ipToBigInt(s)}`;
      if (!keys.has(key)) {
        keys.add(key);
        out.push(s);
      }
    },
  };
  sans.add(plan.endpoint.host);
  if (plan.loadBalancer) sans.add(plan.loadBalancer.vip);
  for (const m of plan.masters) {
    sans.add(m.name);
    sans.add(m.address);
  }
  if (plan.loadBalancer?.placement === 'hosts') {
    for (const n of plan.loadBalancer.keepalived.nodes) {
      sans.add(n.name);
      sans.add(n.address);
    }
  }
  if (plan.workerProxy) {
    sans.add('localhost');
    sans.add('127.0.0.1');
    sans.add('::1');
  }
  for (const s of plan.apiServer.certSANs) sans.add(s);
  return out;
}
