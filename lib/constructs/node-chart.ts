import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';

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
  /** Cluster name. */
  public readonly clusterName: string;
  /** Node name. */
  public readonly nodeName: string;
  /** Role. */
  public readonly role: NodeChartProps['role'];

  constructor(scope: Construct, id: string, props: NodeChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
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
    return this.node.findAll().filter((c): c is StaticPod => c instanceof StaticPod);
  }

  /** Role and pods, for reports: `master: etcd, kube-apiserver, ...`. */
  public get description(): string {
    return `${this.role}: ${this.staticPods.map((p) => p.podName).join(', ') || 'no pods'}`;
  }

  /** Host files of this node, in construction order. */
  public get hostFiles(): HostFile[] {
    return this.node.findAll().filter((c): c is HostFile => c instanceof HostFile);
  }
}
