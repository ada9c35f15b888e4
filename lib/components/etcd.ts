import { InputError } from '../util/input-error';
import { args, lastArgValue } from '../plan/args';
import { DEFAULTS } from '../plan/defaults';
import { ClusterPlan, LocalEtcdPlan, MasterPlan } from '../plan/plan';
import { effectiveExtraArgs } from '../plan/security';
import { Arg } from '../spec/types';
import { hostPort } from '../util/net';
import { componentPod } from './common';
import { PodDescription } from './pod';

/** etcd's metrics and health port, on loopback only (kubeadm's EtcdMetricsPort). */
export const ETCD_METRICS_PORT = 2381;

/**
 * Where the kubelet probes etcd (kubeadm's GetEtcdProbeEndpoint): the first URL of the last
 * `listen-metrics-urls` among the extra flags — its host (the loopback address when empty), its port
 * (2381 when absent) and its scheme — else http on the loopback address, port 2381.
 */
export function etcdProbeEndpoint(extraArgs: readonly Arg[], loopback: string): { host: string; port: number; scheme: 'HTTP' | 'HTTPS' } {
  const fallback = { host: loopback, port: ETCD_METRICS_PORT, scheme: 'HTTP' as const };
  const value = lastArgValue(extraArgs, 'listen-metrics-urls');
  if (value === undefined) return fallback;
  let url: URL;
  try {
    url = new URL(value.split(',')[0]);
  } catch {
    return fallback;
  }
  const port = url.port === '' ? ETCD_METRICS_PORT : Number(url.port);
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1') || loopback, port, scheme: url.protocol === 'https:' ? 'HTTPS' : 'HTTP' };
}

/** The stacked etcd plan, or an error naming the fix when the plan has external etcd or the master no member. */
function localEtcd(plan: ClusterPlan, master: MasterPlan): { etcd: LocalEtcdPlan; member: NonNullable<MasterPlan['etcd']> } {
  if (plan.etcd.kind !== 'local' || !master.etcd) {
    throw new InputError('Etcd needs a plan with stacked etcd (fix: remove etcd.external from the spec, or do not add Etcd pods)');
  }
  return { etcd: plan.etcd, member: master.etcd };
}

/**
 * A stacked member's flags as kubeadm's getEtcdCommand sets them (before the profile's and the user's),
 * spelled for the etcd version deployed, with the full --initial-cluster of a bootstrap-all-at-once cluster.
 */
export function etcdArgs(plan: ClusterPlan, master: MasterPlan): Arg[] {
  const { etcd, member } = localEtcd(plan, master);
  const pki = `${plan.certificatesDir}/etcd`;
  const clientUrl = `https://${hostPort(master.address, DEFAULTS.etcdClientPort)}`;
  const peerUrl = `https://${hostPort(master.address, DEFAULTS.etcdPeerPort)}`;
  return [
    ...args({
      'name': master.name,
      'listen-client-urls': `https://${hostPort(master.loopback, DEFAULTS.etcdClientPort)},${clientUrl}`,
      'advertise-client-urls': clientUrl,
      'listen-peer-urls': peerUrl,
      'initial-advertise-peer-urls': peerUrl,
      'initial-cluster': member.initialCluster.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      'initial-cluster-state': member.state,
      'data-dir': etcd.dataDir,
      'cert-file': `${pki}/server.crt`,
      'key-file': `${pki}/server.key`,
      'trusted-ca-file': `${pki}/ca.crt`,
      'client-cert-auth': 'true',
      'peer-cert-file': `${pki}/peer.crt`,
      'peer-key-file': `${pki}/peer.key`,
      'peer-trusted-ca-file': `${pki}/ca.crt`,
      'peer-client-cert-auth': 'true',
      'snapshot-count': '10000',
      'listen-metrics-urls': `http://${hostPort(master.loopback, ETCD_METRICS_PORT)}`,
    }),
    ...etcd.profile.flags,
  ];
}

/**
 * A stacked etcd member on one master as kubeadm writes it (phases/etcd/local.go): data directory and
 * certificates read-write (mounts in that order, unsorted), probes on the metrics endpoint, which follows
 * a user's `listen-metrics-urls` (etcdProbeEndpoint) with the health paths of the deployed etcd.
 */
export function etcdPod(plan: ClusterPlan, master: MasterPlan): PodDescription {
  const { etcd } = localEtcd(plan, master);
  const endpoint = etcdProbeEndpoint(effectiveExtraArgs(plan, 'etcd', etcd.overrides.extraArgs), master.loopback);
  const probe = (path: string) => ({ ...endpoint, path });
  return {
    ...componentPod(plan, 'etcd', 'etcd.local', etcd, etcdArgs(plan, master)),
    annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${hostPort(master.address, DEFAULTS.etcdClientPort)}` },
    requests: { cpu: '100m', memory: '100Mi' },
    volumes: [
      { name: 'etcd-data', hostPath: etcd.dataDir, type: 'DirectoryOrCreate' },
      { name: 'etcd-certs', hostPath: `${plan.certificatesDir}/etcd`, type: 'DirectoryOrCreate' },
    ],
    sortMounts: false,
    probes: {
      liveness: probe(etcd.probePaths.liveness),
      readiness: probe(etcd.probePaths.readiness),
      startup: probe(etcd.probePaths.startup),
    },
  };
}
