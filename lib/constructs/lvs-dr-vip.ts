import { Construct } from 'constructs';
import { lvsDrVipPod } from '../components/lvs-dr-vip';
import { ClusterPlan } from '../plan/plan';
import { StaticPod } from './static-pod';

export { DR_SYSCTL_PATH } from '../components/lvs-dr-vip';

/** Props of the loopback VIP pod of a master behind LVS direct routing. */
export interface LvsDrVipProps {
  /** The cluster plan (its loadBalancer is lvs-dr). */
  readonly plan: ClusterPlan;
}

/** The VIP on a master's loopback behind LVS direct routing: the pod of lvsDrVipPod (lib/components/lvs-dr-vip.ts). */
export class LvsDrVip extends StaticPod {
  constructor(scope: Construct, id: string, props: LvsDrVipProps) {
    super(scope, id, lvsDrVipPod(props.plan));
  }
}
