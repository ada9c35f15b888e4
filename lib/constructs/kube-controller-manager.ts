import { Construct } from 'constructs';
import { controllerManagerPod } from '../components/kube-controller-manager';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { StaticPod } from './static-pod';

export { FLEXVOLUME_DIR } from '../components/kube-controller-manager';

/** Props of kube-controller-manager. */
export interface KubeControllerManagerProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master it runs on. */
  readonly master: MasterPlan;
}

/** kube-controller-manager as kubeadm writes it: the pod of controllerManagerPod (lib/components/kube-controller-manager.ts). */
export class KubeControllerManager extends StaticPod {
  constructor(scope: Construct, id: string, props: KubeControllerManagerProps) {
    super(scope, id, controllerManagerPod(props.plan, props.master));
  }
}
