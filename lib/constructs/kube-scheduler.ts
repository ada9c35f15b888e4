import { Construct } from 'constructs';
import { args } from '../plan/args';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { componentPodProps, kubeconfigArgs, kubeconfigVolume, localBindAddress } from './common';
import { StaticPod } from './static-pod';

/** Props of kube-scheduler. */
export interface KubeSchedulerProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master it runs on. */
  readonly master: MasterPlan;
}

/** kube-scheduler as kubeadm writes it (getSchedulerCommand), leader-elected, /livez + /readyz probes. */
export class KubeScheduler extends StaticPod {
  constructor(scope: Construct, id: string, props: KubeSchedulerProps) {
    const { plan } = props;
    const kubeconfig = '/etc/kubernetes/scheduler.conf';
    const defaults = args({ ...kubeconfigArgs(kubeconfig), 'bind-address': '127.0.0.1', 'leader-elect': 'true' });
    const probe = (path: string) => ({ host: localBindAddress(plan.scheduler.overrides.extraArgs), path, port: 10259, scheme: 'HTTPS' as const });
    super(scope, id, {
      ...componentPodProps(plan, 'kube-scheduler', 'scheduler', plan.scheduler, defaults),
      requests: { cpu: '100m' },
      volumes: [kubeconfigVolume(kubeconfig)],
      probes: { liveness: probe('/livez'), readiness: probe('/readyz'), startup: probe('/livez') },
    });
  }
}
