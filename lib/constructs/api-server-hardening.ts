import { Construct } from 'constructs';
import { ClusterPlan } from '../plan/plan';
import { HARDENED_API_SERVER_FILES, hardenedApiServerVolumes } from '../plan/security';
import { isEncryptionKey, renderAdmissionConfig, renderAuditPolicy, renderAuthenticationConfig, renderEncryptionConfig } from '../render/security';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';
import { InputError } from '../spec/errors';

/** Props of the hardened API server's host files. */
export interface ApiServerHardeningProps {
  /** The cluster plan (security profile `hardened`). */
  readonly plan: ClusterPlan;
  /** The base64 encoding of the 32-byte key that encrypts Secrets; the same on every master. */
  readonly encryptionKey: string;
}

/**
 * The host files the hardened API server reads (admission, audit policy, authentication, encryption
 * configs; all 0600 under /etc/kubernetes/security) on one master, and their mounts into its pod.
 */
export class ApiServerHardening extends Construct {
  /** The config files, one HostFile each. */
  public readonly files: readonly HostFile[];
  private readonly plan: ClusterPlan;

  constructor(scope: Construct, id: string, props: ApiServerHardeningProps) {
    super(scope, id);
    if (props.plan.security.profile !== 'hardened') {
      throw new InputError('ApiServerHardening needs a plan with security.profile "hardened" (fix: set it in the spec, or do not add ApiServerHardening)');
    }
    // The key is never part of a message.
    if (!isEncryptionKey(props.encryptionKey)) {
      throw new InputError('ApiServerHardening: encryptionKey is not the base64 encoding of 32 bytes (fix: pass e.g. crypto.randomBytes(32).toString("base64"))');
    }
    this.plan = props.plan;
    const F = HARDENED_API_SERVER_FILES;
    const file = (id: string, path: string, content: string) => new HostFile(this, id, { path, content, mode: 0o600 });
    this.files = [
      file('admission', F.admission.path, renderAdmissionConfig()),
      file('audit-policy', F.auditPolicy.path, renderAuditPolicy()),
      file('authentication', F.authentication.path, renderAuthenticationConfig(props.plan.profile.authenticationConfigApiVersion)),
      file('encryption', F.encryption.path, renderEncryptionConfig(props.encryptionKey.trim())),
    ];
  }

  /**
   * Mounts every config file read-only with hostPath type `File` (its checksum rolls the pod when it
   * changes) and the audit log directory read-write with `DirectoryOrCreate` — the same volumes the
   * kubeadm config lists.
   */
  public mountInto(apiServer: StaticPod): void {
    for (const v of hardenedApiServerVolumes(this.plan)) {
      if (v.pathType !== 'File') {
        apiServer.addVolume({ name: v.name, hostPath: v.hostPath!, type: v.pathType!, readOnly: v.readOnly });
        continue;
      }
      const file = this.files.find((f) => f.absolutePath === v.hostPath);
      if (!file) throw new InputError(`ApiServerHardening: no host file for volume ${v.name} at ${v.hostPath} (fix: render every file of HARDENED_API_SERVER_FILES)`);
      apiServer.mountHostFile(v.name, file);
    }
  }
}
