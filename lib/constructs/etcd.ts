import { Construct } from 'constructs';
import { etcdPod } from '../components/etcd';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { StaticPod } from './static-pod';

export { ETCD_METRICS_PORT, etcdProbeEndpoint } from '../components/etcd';

/** Props of a stacked etcd member. */
export interface EtcdProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master this member runs on. */
  readonly master: MasterPlan;
}

/** A stacked etcd member as kubeadm writes it (phases/etcd/local.go): the pod of etcdPod (lib/components/etcd.ts). */
export class Etcd extends StaticPod {
  constructor(scope: Construct, id: string, props: EtcdProps) {
    super(scope, id, etcdPod(props.plan, props.master));
  }
}
