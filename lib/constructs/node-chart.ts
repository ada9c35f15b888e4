import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';
import { hasBrand, setBrand } from '../util/brand';

/** Marks a NodeChart, also one of another copy of this package. */
const NODE_CHART = Symbol.for('cdk8s-ha-control-plane.NodeChart');

/** Props of a node's chart. */
export interface NodeChartProps {
  /** Cluster name: the first directory level of the bundle. */
  readonly clusterName: string;
  /** Node name: the second level; the node's root filesystem below it. */
  readonly nodeName: string;
  /** The node's role, for reports. */
  readonly role: 'master' | 'worker' | 'load-balancer';
}

/**
 * One node's bundle: the static pods and host files of one node. The bundle writer (StaticPodApp)
 * writes it to `<outdir>/<cluster>/<node>/` as that node's root filesystem.
 */
export class NodeChart extends Chart {
  /** True for a {@link NodeChart} of any copy of this package (`instanceof` sees only its own copy's). */
  public static isNodeChart(x: unknown): x is NodeChart {
    return hasBrand(x, NODE_CHART);
  }

  /** Cluster name. */
  public readonly clusterName: string;
  /** Node name. */
  public readonly nodeName: string;
  /** Role. */
  public readonly role: NodeChartProps['role'];

  constructor(scope: Construct, id: string, props: NodeChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    setBrand(this, NODE_CHART);
    this.clusterName = props.clusterName;
    this.nodeName = props.nodeName;
    this.role = props.role;
  }

  /** The bundle directory relative to the output directory. */
  public get bundleDir(): string {
    return `${this.clusterName}/${this.nodeName}`;
  }

  /** Static pods of this node, in construction order. */
  public get staticPods(): StaticPod[] {
    return this.node.findAll().filter(StaticPod.isStaticPod);
  }

  /** Role and pods, for reports: `master: etcd, kube-apiserver, ...`. */
  public get description(): string {
    return `${this.role}: ${this.staticPods.map((p) => p.podName).join(', ') || 'no pods'}`;
  }

  /** Host files of this node, in construction order. */
  public get hostFiles(): HostFile[] {
    return this.node.findAll().filter(HostFile.isHostFile);
  }
}
