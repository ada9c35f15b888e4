import { args } from '../plan/args';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { componentPod, kubeconfigArgs, kubeconfigVolume, localBindAddress } from './common';
import { PodDescription } from './pod';

/** The scheduler's kubeconfig (kubeadm's scheduler.conf). */
export const SCHEDULER_KUBECONFIG = '/etc/kubernetes/scheduler.conf';

/**
 * kube-scheduler as kubeadm writes it (getSchedulerCommand), leader-elected: /livez, /readyz, /livez
 * probes on port 10259 of its bind address, its kubeconfig mounted. The same on every master.
 */
export function schedulerPod(plan: ClusterPlan, _master?: MasterPlan): PodDescription {
  const defaults = args({ ...kubeconfigArgs(SCHEDULER_KUBECONFIG), 'bind-address': '127.0.0.1', 'leader-elect': 'true' });
  const probe = (path: string) => ({ host: localBindAddress(plan.scheduler.overrides.extraArgs), path, port: 10259, scheme: 'HTTPS' as const });
  return {
    ...componentPod(plan, 'kube-scheduler', 'scheduler', plan.scheduler, defaults),
    requests: { cpu: '100m' },
    volumes: [kubeconfigVolume(SCHEDULER_KUBECONFIG)],
    probes: { liveness: probe('/livez'), readiness: probe('/readyz'), startup: probe('/livez') },
  };
}
