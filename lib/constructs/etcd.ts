import { Construct } from 'constructs';
import { args, lastArgValue } from '../plan/args';
import { DEFAULTS } from '../plan/defaults';
import { hostPort } from '../util/net';
import { ClusterPlan, LocalEtcdPlan, MasterPlan } from '../plan/plan';
import { effectiveExtraArgs } from '../plan/security';
import { Arg } from '../spec/types';
import { componentPodProps } from './common';
import { StaticPod } from './static-pod';
import { InputError } from '../spec/errors';

/** Props of a stacked etcd member. */
export interface EtcdProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master this member runs on. */
  readonly master: MasterPlan;
}

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

/**
 * A stacked etcd member as kubeadm writes it (phases/etcd/local.go), with the flags spelled for the
 * etcd version actually deployed and the full --initial-cluster of a bootstrap-all-at-once cluster.
 */
export class Etcd extends StaticPod {
  constructor(scope: Construct, id: string, props: EtcdProps) {
    const { plan, master } = props;
    if (plan.etcd.kind !== 'local' || !master.etcd) {
      throw new InputError('Etcd needs a plan with stacked etcd (fix: remove etcd.external from the spec, or do not add Etcd pods)');
    }
    const etcd: LocalEtcdPlan = plan.etcd;
    const pki = `${plan.certificatesDir}/etcd`;
    const clientUrl = `https://${hostPort(master.address, DEFAULTS.etcdClientPort)}`;
    const peerUrl = `https://${hostPort(master.address, DEFAULTS.etcdPeerPort)}`;
    const defaults = [
      ...args({
        'name': master.name,
        'listen-client-urls': `https://${hostPort(master.loopback, DEFAULTS.etcdClientPort)},${clientUrl}`,
        'advertise-client-urls': clientUrl,
        'listen-peer-urls': peerUrl,
        'initial-advertise-peer-urls': peerUrl,
        'initial-cluster': master.etcd.initialCluster.map((m) => `${m.name}=${m.peerUrl}`).join(','),
        'initial-cluster-state': master.etcd.state,
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
    const endpoint = etcdProbeEndpoint(effectiveExtraArgs(plan, 'etcd', etcd.overrides.extraArgs), master.loopback);
    const probe = (path: string) => ({ ...endpoint, path });
    super(scope, id, {
      ...componentPodProps(plan, 'etcd', 'etcd.local', etcd, defaults),
      annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': clientUrl },
      requests: { cpu: '100m', memory: '100Mi' },
      volumes: [
        { name: 'etcd-data', hostPath: etcd.dataDir, type: 'DirectoryOrCreate' },
        { name: 'etcd-certs', hostPath: pki, type: 'DirectoryOrCreate' },
      ],
      sortMounts: false,
      probes: {
        liveness: probe(etcd.probePaths.liveness),
        readiness: probe(etcd.probePaths.readiness),
        startup: probe(etcd.probePaths.startup),
      },
    });
  }
}
