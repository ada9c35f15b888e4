import { Construct } from 'constructs';
import { apiServerHardening } from '../components/api-server-hardening';
import { ClusterPlan } from '../plan/plan';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';

/** Props of the hardened API server's host files. */
export interface ApiServerHardeningProps {
  /** The cluster plan (security profile `hardened`). */
  readonly plan: ClusterPlan;
  /** The base64 encoding of the 32-byte key that encrypts Secrets; the same on every master. */
  readonly encryptionKey: string;
}

/**
 * The host files the hardened API server reads (admission, audit policy, authentication, encryption
 * configs; all 0600 under /etc/kubernetes/security) on one master, and their mounts into its pod: those
 * of apiServerHardening (lib/components/api-server-hardening.ts). `KubeApiServer` with an `encryptionKey`
 * includes them itself.
 */
export class ApiServerHardening extends Construct {
  /** The config files, one HostFile each. */
  public readonly files: readonly HostFile[];
  private readonly mounts: ReturnType<typeof apiServerHardening>;

  constructor(scope: Construct, id: string, props: ApiServerHardeningProps) {
    super(scope, id);
    this.mounts = apiServerHardening(props.plan, props.encryptionKey);
    this.files = this.mounts.files.map((f) => new HostFile(this, f.volume!, f));
  }

  /**
   * Mounts every config file read-only with hostPath type `File` (its checksum rolls the pod when it
   * changes) and the audit log directory read-write with `DirectoryOrCreate` — the same volumes the
   * kubeadm config lists.
   */
  public mountInto(apiServer: StaticPod): void {
    for (const v of this.mounts.volumes) apiServer.addVolume(v);
    this.mounts.files.forEach((f, i) => apiServer.mountHostFile(f.volume!, this.files[i]));
  }
}
