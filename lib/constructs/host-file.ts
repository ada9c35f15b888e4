import { Construct } from 'constructs';
import { InputError } from '../spec/errors';
import { hasBrand, setBrand } from '../util/brand';

/** Marks a HostFile, also one of another copy of this package. */
const HOST_FILE = Symbol.for('cdk8s-ha-control-plane.HostFile');

/** Props of a file written into a node's bundle. */
export interface HostFileProps {
  /** Absolute path on the node, e.g. /etc/keepalived/keepalived.conf. */
  readonly path: string;
  /** File content. */
  readonly content: string;
  /**
   * File mode.
   * @default 0o644
   */
  readonly mode?: number;
}

/**
 * A host file a static pod needs (a config it mounts, a script, the kubeadm config). The bundle writer
 * writes it under the node's directory at its absolute path, before any manifest.
 */
export class HostFile extends Construct {
  /** True for a {@link HostFile} of any copy of this package (`instanceof` sees only its own copy's). */
  public static isHostFile(x: unknown): x is HostFile {
    return hasBrand(x, HOST_FILE);
  }

  /** Absolute path on the node. */
  public readonly absolutePath: string;
  /** Content. */
  public readonly content: string;
  /** Mode. */
  public readonly mode: number;

  constructor(scope: Construct, id: string, props: HostFileProps) {
    super(scope, id);
    setBrand(this, HOST_FILE);
    if (!props.path.startsWith('/') || props.path.split('/').includes('..') || props.path.endsWith('/')) {
      throw new InputError(`HostFile path ${JSON.stringify(props.path)} is not an absolute file path (fix: use e.g. "/etc/haproxy/haproxy.cfg")`);
    }
    if (props.path.startsWith('/etc/kubernetes/manifests/')) {
      throw new InputError(`HostFile path ${JSON.stringify(props.path)} is inside the manifests directory, where the kubelet would start it (fix: put host files elsewhere; manifests come from StaticPod)`);
    }
    this.absolutePath = props.path;
    this.content = props.content;
    this.mode = props.mode ?? 0o644;
  }
}
