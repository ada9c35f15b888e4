import { Construct } from 'constructs';
import { keepalivedPod } from '../components/keepalived';
import { LoadBalancerPlan, VrrpNode } from '../plan/lb-plan';
import { StaticPod } from './static-pod';

export { KEEPALIVED_DIR } from '../components/keepalived';

/** Props of keepalived on one LB node. */
export interface KeepalivedProps {
  /** The LB/VIP plan. */
  readonly lb: LoadBalancerPlan;
  /** This node of the VRRP group. */
  readonly node: VrrpNode;
}

/** keepalived holding the VIP, with its host files: the pod of keepalivedPod (lib/components/keepalived.ts). */
export class Keepalived extends StaticPod {
  constructor(scope: Construct, id: string, props: KeepalivedProps) {
    super(scope, id, keepalivedPod(props.lb, props.node));
  }
}
