/**
 * The hardened security profile (CIS Kubernetes Benchmark v1.12): which flags each control-plane
 * component gets and which host files and directories the API server mounts. Pure data from the plan;
 * the constructs render the files (lib/render/security.ts) and mount them.
 */
import { Arg, ComponentSpec, ExtraVolume } from '../spec/types';
import type { ClusterPlan } from './plan';

/** Directory of the hardened API server's config files on every master. */
export const SECURITY_CONFIG_DIR = '/etc/kubernetes/security';

/** Directory of the API server's audit log on every master (hostPath DirectoryOrCreate, read-write). */
export const AUDIT_LOG_DIR = '/var/log/kubernetes/audit';

/** The config files the hardened API server reads: volume name and host path (mounted at the same path). */
export const HARDENED_API_SERVER_FILES = {
  admission: { volume: 'admission-config', path: `${SECURITY_CONFIG_DIR}/admission-config.yaml` },
  auditPolicy: { volume: 'audit-policy', path: `${SECURITY_CONFIG_DIR}/audit-policy.yaml` },
  authentication: { volume: 'authentication-config', path: `${SECURITY_CONFIG_DIR}/authentication-config.yaml` },
  encryption: { volume: 'encryption-config', path: `${SECURITY_CONFIG_DIR}/encryption-config.yaml` },
} as const;

/**
 * Paths anonymous requests may reach (AuthenticationConfiguration `anonymous.conditions`): the health
 * endpoints that kubelet probes, haproxy/LVS checks and keepalived's check script request without
 * credentials, and the cluster-info ConfigMap that `kubeadm join` reads anonymously for token discovery.
 * Everything else answers 401 to an anonymous client.
 */
export const ANONYMOUS_PATHS = ['/healthz', '/livez', '/readyz', '/api/v1/namespaces/kube-public/configmaps/cluster-info'] as const;

/**
 * TLS 1.2 cipher suites the API server offers (CIS 1.2.29: AEAD suites with ECDHE only; TLS 1.3 suites are
 * not configurable in Go and always strong).
 */
export const STRONG_TLS_CIPHER_SUITES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
] as const;

/**
 * Admission plugins of the hardened API server, added to the ones on by default (which include
 * ServiceAccount and NamespaceLifecycle, CIS 1.2.12/1.2.13): NodeRestriction (kubeadm's, 1.2.14),
 * EventRateLimit (1.2.9, limits in the admission config file), AlwaysPullImages (1.2.11) and
 * DenyServiceExternalIPs (1.2.3).
 */
export const HARDENED_ADMISSION_PLUGINS = ['NodeRestriction', 'EventRateLimit', 'AlwaysPullImages', 'DenyServiceExternalIPs'] as const;

/**
 * Terminated pods kept before the controller manager deletes them (CIS 1.3.1 asks for a value; its example
 * is 10, which deletes a failed Job's pods before anyone can read their logs; the default is 12500).
 */
export const TERMINATED_POD_GC_THRESHOLD = 1000;

/** Audit log rotation (CIS 1.2.17-1.2.19: at least 30 days, 10 files, 100 MB). */
export const AUDIT_LOG_ROTATION = { maxAgeDays: 30, maxBackups: 10, maxSizeMb: 100 } as const;

/** Components the profile changes, by pod name. */
export type SecuredComponent = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'etcd';

/** Flags the hardened profile adds to a component (none under `kubeadm`), as kubeadm extraArgs. */
export function hardenedArgs(plan: ClusterPlan, component: SecuredComponent): Arg[] {
  if (plan.security.profile !== 'hardened') return [];
  const F = HARDENED_API_SERVER_FILES;
  const flags: Record<SecuredComponent, Record<string, string>> = {
    'kube-apiserver': {
      'admission-control-config-file': F.admission.path,
      'audit-log-maxage': String(AUDIT_LOG_ROTATION.maxAgeDays),
      'audit-log-maxbackup': String(AUDIT_LOG_ROTATION.maxBackups),
      'audit-log-maxsize': String(AUDIT_LOG_ROTATION.maxSizeMb),
      'audit-log-path': `${AUDIT_LOG_DIR}/audit.log`,
      'audit-policy-file': F.auditPolicy.path,
      // Replaces --anonymous-auth (the API server refuses both together): anonymous only on ANONYMOUS_PATHS.
      'authentication-config': F.authentication.path,
      'enable-admission-plugins': HARDENED_ADMISSION_PLUGINS.join(','),
      'encryption-provider-config': F.encryption.path,
      'kubelet-certificate-authority': `${plan.certificatesDir}/ca.crt`,
      'profiling': 'false',
      'service-account-extend-token-expiration': 'false',
      'service-account-lookup': 'true',
      'tls-cipher-suites': STRONG_TLS_CIPHER_SUITES.join(','),
    },
    'kube-controller-manager': {
      'profiling': 'false',
      'terminated-pod-gc-threshold': String(TERMINATED_POD_GC_THRESHOLD),
    },
    'kube-scheduler': { profiling: 'false' },
    'etcd': { 'auto-tls': 'false', 'peer-auto-tls': 'false' },
  };
  return Object.entries(flags[component]).map(([name, value]) => ({ name, value }));
}

/**
 * The library's own flags (LIBRARY_ARGS), then the profile's, then the user's, a flag dropped when a
 * later list sets the same name: the extraArgs kubeadm is given for this component, so a kubeadm-written
 * manifest equals ours.
 */
export function effectiveExtraArgs(plan: ClusterPlan, component: SecuredComponent, user: readonly Arg[] = []): Arg[] {
  const lists = [LIBRARY_ARGS[component] ?? [], hardenedArgs(plan, component), user];
  return lists.flatMap((list, i) => list.filter((a) => !lists.slice(i + 1).some((later) => later.some((b) => b.name === a.name))));
}

/**
 * Flags this library sets on a component under every profile, beyond kubeadm's: each is a listed
 * difference from kubeadm (README, "Differences from kubeadm"; test/fixtures/kubeadm-differences.yaml).
 */
export const LIBRARY_ARGS: Readonly<Partial<Record<SecuredComponent, readonly Arg[]>>> = {
  // On SIGTERM the API server closes its port at once but, with kubeadm's flags, does not close the
  // watches it serves, so its HTTP server waits for them until the kubelet's 30 s grace period ends in
  // SIGKILL (kubernetes/kubernetes#131052). With a grace period for the watches it closes them and exits
  // within it: measured with the real kubelet 1.37.2, a changed API server manifest had its new container
  // started 15.2-15.5 s after install.sh instead of 34.4-40.0 s (3 runs each).
  'kube-apiserver': [{ name: 'shutdown-watch-termination-grace-period', value: '5s' }],
};

/**
 * hostPath volumes the hardened API server needs: every config file read-only with type `File` (a missing
 * file fails the pod instead of being created empty) and the audit log directory read-write with
 * `DirectoryOrCreate`. In kubeadm's extraVolumes form (name, hostPath, mountPath, pathType, readOnly).
 */
export function hardenedApiServerVolumes(plan: ClusterPlan): ExtraVolume[] {
  if (plan.security.profile !== 'hardened') return [];
  return [
    ...Object.values(HARDENED_API_SERVER_FILES).map((f): ExtraVolume => ({ name: f.volume, hostPath: f.path, mountPath: f.path, pathType: 'File', readOnly: true })),
    { name: 'audit-log', hostPath: AUDIT_LOG_DIR, mountPath: AUDIT_LOG_DIR, pathType: 'DirectoryOrCreate', readOnly: false },
  ];
}

/** A component's escape hatches with the profile's flags and volumes merged in, as kubeadm's config states them. */
export function effectiveComponentSpec(plan: ClusterPlan, component: SecuredComponent, user: ComponentSpec): ComponentSpec {
  const volumes = component === 'kube-apiserver' ? hardenedApiServerVolumes(plan) : [];
  return {
    ...user,
    extraArgs: effectiveExtraArgs(plan, component, user.extraArgs),
    extraVolumes: [...volumes, ...(user.extraVolumes ?? [])],
  };
}
