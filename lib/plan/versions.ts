/**
 * The one version table: what changes between supported Kubernetes minors and between etcd lines.
 * Everything version-dependent in the manifests is read from here; components hold no version `if`s.
 */

/** What kubeadm does for one Kubernetes minor. */
export interface KubernetesProfile {
  /** The minor, e.g. "1.37". */
  readonly minor: string;
  /** Latest patch release seen; the default version for the minor. */
  readonly latestPatch: string;
  /** Default etcd image tag kubeadm uses for this minor. */
  readonly etcdImageTag: string;
  /** Default pause image tag. */
  readonly pauseImageTag: string;
  /** Default CoreDNS image tag. */
  readonly corednsImageTag: string;
  /** Containers declare a named port `probe-port` and probes refer to it (kubeadm ≥ 1.34). */
  readonly namedProbePort: boolean;
  /** Manifests carry `metadata.creationTimestamp: null` (kubeadm < 1.34). */
  readonly creationTimestampNull: boolean;
  /** kube-controller-manager mounts the flexvolume plugin directory (kubeadm < 1.36). */
  readonly flexvolumeDir: boolean;
  /**
   * The etcd flag spelling kubeadm writes: `by-etcd-version` picks by the deployed etcd (kubeadm 1.34–1.35),
   * `3.6` always writes the 3.6 spellings (kubeadm ≥ 1.36, its < 3.6 branch is gone). We always spell for
   * the deployed etcd; this column records what kubeadm would do, to say so when we differ.
   */
  readonly kubeadmEtcdSpelling: 'by-etcd-version' | '3.6';
  /** kubeadm config API version. */
  readonly kubeadmApiVersion: string;
  /**
   * API version of the API server's AuthenticationConfiguration (--authentication-config) with an
   * `anonymous` section: v1beta1 on 1.33 (StructuredAuthenticationConfiguration and
   * AnonymousAuthConfigurableEndpoints beta, on by default), v1 from 1.34 (both GA).
   */
  readonly authenticationConfigApiVersion: string;
  /**
   * First patch of the minor whose kubeadm makes apiserver-kubelet-client.crt with CN
   * kube-apiserver-kubelet-client and no O, granting its access through the ClusterRoleBinding
   * kubeadm:apiserver-kubelet-client (1.37.0, backported to 1.33.12, 1.34.8, 1.35.5, 1.36.1); earlier
   * patches put it in O kubeadm:cluster-admins.
   */
  readonly kubeletClientBindingSincePatch: number;
  /**
   * What the kubelet does with a static pod that references API objects (a Secret, ConfigMap,
   * ServiceAccount, PVC, CSI or projected volume …; pkg/api/pod HasAPIObjectReference, the same list on
   * 1.34–1.37): `runs` it (1.33, which refuses only ClusterTrustBundle projections and ResourceClaims),
   * `refuses-by-default` ("static pods may not reference …", pkg/kubelet/config/common.go, while the
   * beta feature gate PreventStaticPodAPIReferences is on, its default: 1.34–1.36), or `refuses` (1.37:
   * the gate is gone, the check unconditional). On every minor the API server's NodeRestriction refuses
   * the mirror pod of such a pod, so the node may not read the objects it names.
   */
  readonly staticPodApiReferences: 'runs' | 'refuses-by-default' | 'refuses';
}

/** Supported Kubernetes minors, oldest first. */
export const KUBERNETES_PROFILES: readonly KubernetesProfile[] = [
  { minor: '1.33', latestPatch: '1.33.13', etcdImageTag: '3.5.24-0', pauseImageTag: '3.10', corednsImageTag: 'v1.12.0', namedProbePort: false, creationTimestampNull: true, flexvolumeDir: true, kubeadmEtcdSpelling: 'by-etcd-version', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4', authenticationConfigApiVersion: 'apiserver.config.k8s.io/v1beta1', kubeletClientBindingSincePatch: 12, staticPodApiReferences: 'runs' },
  { minor: '1.34', latestPatch: '1.34.4', etcdImageTag: '3.6.5-0', pauseImageTag: '3.10.1', corednsImageTag: 'v1.12.1', namedProbePort: true, creationTimestampNull: false, flexvolumeDir: true, kubeadmEtcdSpelling: 'by-etcd-version', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4', authenticationConfigApiVersion: 'apiserver.config.k8s.io/v1', kubeletClientBindingSincePatch: 8, staticPodApiReferences: 'refuses-by-default' },
  { minor: '1.35', latestPatch: '1.35.4', etcdImageTag: '3.6.6-0', pauseImageTag: '3.10.1', corednsImageTag: 'v1.13.1', namedProbePort: true, creationTimestampNull: false, flexvolumeDir: true, kubeadmEtcdSpelling: 'by-etcd-version', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4', authenticationConfigApiVersion: 'apiserver.config.k8s.io/v1', kubeletClientBindingSincePatch: 5, staticPodApiReferences: 'refuses-by-default' },
  { minor: '1.36', latestPatch: '1.36.3', etcdImageTag: '3.6.8-0', pauseImageTag: '3.10.2', corednsImageTag: 'v1.14.2', namedProbePort: true, creationTimestampNull: false, flexvolumeDir: false, kubeadmEtcdSpelling: '3.6', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4', authenticationConfigApiVersion: 'apiserver.config.k8s.io/v1', kubeletClientBindingSincePatch: 1, staticPodApiReferences: 'refuses-by-default' },
  { minor: '1.37', latestPatch: '1.37.2', etcdImageTag: '3.7.0-0', pauseImageTag: '3.10.2', corednsImageTag: 'v1.14.6', namedProbePort: true, creationTimestampNull: false, flexvolumeDir: false, kubeadmEtcdSpelling: '3.6', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4', authenticationConfigApiVersion: 'apiserver.config.k8s.io/v1', kubeletClientBindingSincePatch: 0, staticPodApiReferences: 'refuses' },
];

/** The default Kubernetes minor. */
export const DEFAULT_KUBERNETES_MINOR = '1.37';

/** A Kubernetes version as the spec writes it: a minor, or a full version, with or without "v" (groups: the minor, the ".patch"). */
const KUBERNETES_VERSION = /^v?(\d+\.\d+)(\.\d+)?$/;

/** A version as the spec writes it, read: its minor, its ".patch" when given, the minor's row of the version table (if supported). */
export interface KubernetesVersionParts {
  readonly minor: string;
  readonly patch?: string;
  readonly profile?: KubernetesProfile;
}

/** Reads a version as the spec writes it ({@link KUBERNETES_VERSION}); undefined when it is not one. */
export function parseKubernetesVersion(version: string): KubernetesVersionParts | undefined {
  const m = KUBERNETES_VERSION.exec(version);
  return m ? { minor: m[1], patch: m[2], profile: kubernetesProfile(m[1]) } : undefined;
}

/** Supported minors, for messages. */
export const SUPPORTED_MINORS = KUBERNETES_PROFILES.map((p) => p.minor);

/** How one etcd line spells its flags and answers health probes. */
export interface EtcdProfile {
  /** The line, e.g. "3.5". */
  readonly line: string;
  /** Flags for the initial corruption check and watch progress notifications, as name/value pairs. */
  readonly flags: readonly { readonly name: string; readonly value: string }[];
  /** First patch of the line that serves /livez and /readyz (undefined: none does). */
  readonly livezSincePatch?: number;
}

/** etcd lines we can spell flags for, oldest first. */
export const ETCD_PROFILES: readonly EtcdProfile[] = [
  {
    line: '3.4',
    flags: [
      { name: 'experimental-initial-corrupt-check', value: 'true' },
      { name: 'experimental-watch-progress-notify-interval', value: '5s' },
    ],
  },
  {
    line: '3.5',
    flags: [
      { name: 'experimental-initial-corrupt-check', value: 'true' },
      { name: 'experimental-watch-progress-notify-interval', value: '5s' },
    ],
    livezSincePatch: 11,
  },
  {
    line: '3.6',
    flags: [
      { name: 'feature-gates', value: 'InitialCorruptCheck=true' },
      { name: 'watch-progress-notify-interval', value: '5s' },
    ],
    livezSincePatch: 0,
  },
  {
    line: '3.7',
    flags: [
      { name: 'feature-gates', value: 'InitialCorruptCheck=true' },
      { name: 'watch-progress-notify-interval', value: '5s' },
    ],
    livezSincePatch: 0,
  },
];

/** Probe paths of etcd: /livez + /readyz where served, else the /health endpoint kubeadm used before 1.31. */
export interface EtcdProbePaths {
  readonly liveness: string;
  readonly readiness: string;
  readonly startup: string;
}

/** Probe paths for a parsed etcd version. */
export function etcdProbePaths(profile: EtcdProfile, patch: number): EtcdProbePaths {
  if (profile.livezSincePatch !== undefined && patch >= profile.livezSincePatch) {
    return { liveness: '/livez', readiness: '/readyz', startup: '/readyz' };
  }
  return { liveness: '/health?exclude=NOSPACE&serializable=true', readiness: '/health?exclude=NOSPACE&serializable=true', startup: '/health?serializable=false' };
}

/** Finds the profile of a minor ("1.37"), or undefined. */
export function kubernetesProfile(minor: string): KubernetesProfile | undefined {
  return KUBERNETES_PROFILES.find((p) => p.minor === minor);
}

/** Finds the profile of an etcd line ("3.5"), or undefined. */
export function etcdProfile(line: string): EtcdProfile | undefined {
  return ETCD_PROFILES.find((p) => p.line === line);
}

/** Parses "3.5.24", "v3.5.24" or an image tag "3.5.24-0" into numbers; undefined when it is none of these. */
export function parseEtcdVersion(text: string): { line: string; patch: number; version: string } | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-\d+)?$/.exec(text.trim());
  if (!m) return undefined;
  return { line: `${m[1]}.${m[2]}`, patch: Number(m[3]), version: `${m[1]}.${m[2]}.${m[3]}` };
}
