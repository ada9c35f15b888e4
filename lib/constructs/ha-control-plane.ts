import { Construct } from 'constructs';
import { ClusterPlan, planCluster } from '../plan/plan';
import { ClusterSpec } from '../spec/types';
import { Etcd } from './etcd';
import { KubeApiServer } from './kube-apiserver';
import { KubeControllerManager } from './kube-controller-manager';
import { KubeScheduler } from './kube-scheduler';
import { NodeChart } from './node-chart';

/** Props of a highly available control plane. */
export interface HaControlPlaneProps {
  /** The cluster spec (validated here; invalid input throws SpecError before anything is built). */
  readonly spec: ClusterSpec;
}

/**
 * A highly available control plane: one NodeChart per master holding etcd (stacked), kube-apiserver,
 * kube-controller-manager and kube-scheduler static pods.
 *
 * ```ts
 * const app = new StaticPodApp();
 * new HaControlPlane(app, 'prod', { spec });
 * app.synth();   // dist/<spec.name>/<master>/etc/kubernetes/manifests/*.yaml
 * ```
 */
export class HaControlPlane extends Construct {
  /** The resolved plan the charts were built from. */
  public readonly plan: ClusterPlan;
  /** One chart per master, by node name. */
  public readonly masters: ReadonlyMap<string, NodeChart>;

  constructor(scope: Construct, id: string, props: HaControlPlaneProps) {
    super(scope, id);
    this.plan = planCluster(props.spec);
    const masters = new Map<string, NodeChart>();
    for (const master of this.plan.masters) {
      const chart = new NodeChart(this, master.name, { clusterName: this.plan.name, nodeName: master.name, role: 'master' });
      if (this.plan.etcd.kind === 'local') new Etcd(chart, 'etcd', { plan: this.plan, master });
      new KubeApiServer(chart, 'kube-apiserver', { plan: this.plan, master });
      new KubeControllerManager(chart, 'kube-controller-manager', { plan: this.plan, master });
      new KubeScheduler(chart, 'kube-scheduler', { plan: this.plan, master });
      masters.set(master.name, chart);
    }
    this.masters = masters;
  }
}
