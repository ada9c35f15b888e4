import { Construct } from 'constructs';
import { schedulerPod } from '../components/kube-scheduler';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { StaticPod } from './static-pod';

/** Props of kube-scheduler. */
export interface KubeSchedulerProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master it runs on. */
  readonly master: MasterPlan;
}

/** kube-scheduler as kubeadm writes it: the pod of schedulerPod (lib/components/kube-scheduler.ts). */
export class KubeScheduler extends StaticPod {
  constructor(scope: Construct, id: string, props: KubeSchedulerProps) {
    super(scope, id, schedulerPod(props.plan, props.master));
  }
}
