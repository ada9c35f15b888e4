import { InputError } from '../util/input-error';
import { ClusterPlan } from '../plan/plan';
import { HARDENED_API_SERVER_FILES, hardenedApiServerVolumes } from '../plan/security';
import { isEncryptionKey, renderAdmissionConfig, renderAuditPolicy, renderAuthenticationConfig, renderEncryptionConfig } from '../render/security';
import { HostPathMount, PodFile } from './pod';

/** What the hardened API server adds to its pod: its config files (mounted) and the audit log directory. */
export interface ApiServerHardeningMounts {
  /** admission, audit policy, authentication and encryption configs, 0600, each mounted read-only (`File`). */
  readonly files: readonly PodFile[];
  /** The other volumes (the audit log directory, read-write, `DirectoryOrCreate`). */
  readonly volumes: readonly HostPathMount[];
}

/**
 * The host files and volumes of the hardened API server (security profile `hardened`) on one master:
 * the same volumes the kubeadm config lists (hardenedApiServerVolumes), every config file a host file
 * (0600 under /etc/kubernetes/security) mounted with hostPath type `File`, so its checksum rolls the pod.
 * Throws when the plan is not hardened or the key is not the base64 encoding of 32 bytes.
 */
export function apiServerHardening(plan: ClusterPlan, encryptionKey: string): ApiServerHardeningMounts {
  if (plan.security.profile !== 'hardened') {
    throw new InputError('ApiServerHardening needs a plan with security.profile "hardened" (fix: set it in the spec, or do not add ApiServerHardening)');
  }
  // The key is never part of a message.
  if (!isEncryptionKey(encryptionKey)) {
    throw new InputError('ApiServerHardening: encryptionKey is not the base64 encoding of 32 bytes (fix: pass e.g. crypto.randomBytes(32).toString("base64"))');
  }
  const F = HARDENED_API_SERVER_FILES;
  const content = new Map<string, string>([
    [F.admission.path, renderAdmissionConfig()],
    [F.auditPolicy.path, renderAuditPolicy()],
    [F.authentication.path, renderAuthenticationConfig(plan.profile.authenticationConfigApiVersion)],
    [F.encryption.path, renderEncryptionConfig(encryptionKey.trim())],
  ]);
  const files: PodFile[] = [];
  const volumes: HostPathMount[] = [];
  for (const v of hardenedApiServerVolumes(plan)) {
    if (v.pathType !== 'File') {
      volumes.push({ name: v.name, hostPath: v.hostPath!, type: v.pathType!, readOnly: v.readOnly });
      continue;
    }
    const text = content.get(v.hostPath!);
    if (text === undefined) throw new InputError(`ApiServerHardening: no host file for volume ${v.name} at ${v.hostPath} (fix: render every file of HARDENED_API_SERVER_FILES)`);
    files.push({ path: v.hostPath!, content: text, mode: 0o600, volume: v.name });
  }
  return { files, volumes };
}
