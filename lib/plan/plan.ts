import { SpecError, SpecIssue } from '../spec/errors';
import { ClusterSpec, ComponentSpec, KeyAlgorithm } from '../spec/types';
import { validateSpec, ValidationResult } from './validate';
import { DEFAULTS, KUBEADM_ETCD_IMAGE, SPEC_DEFAULTS as D } from './defaults';
import { LoadBalancerPlan, planLoadBalancer, planWorkerProxy, WorkerProxyPlan } from './lb-plan';
import { hostPort, ipFamily, loopbackFor } from '../util/net';
import {
  EtcdProbePaths, EtcdProfile, etcdProbePaths, etcdProfile, KubernetesProfile,
  parseEtcdVersion, parseKubernetesVersion,
} from './versions';

/** One etcd member as other members see it. */
export interface EtcdMember {
  readonly name: string;
  readonly peerUrl: string;
}

/** What one master runs and how it is addressed. */
export interface MasterPlan {
  readonly name: string;
  readonly address: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** 127.0.0.1 or ::1, matching the address family (kubeadm's choice for etcd and probes). */
  readonly loopback: string;
  /** Stacked etcd only: this member's --initial-cluster and --initial-cluster-state. */
  readonly etcd?: { readonly initialCluster: readonly EtcdMember[]; readonly state: 'new' | 'existing' };
}

/** Stacked etcd, resolved. */
export interface LocalEtcdPlan {
  readonly kind: 'local';
  readonly image: string;
  /**
   * How kubeadm's config names that image (etcd.local `imageRepository` + "/etcd:" + `imageTag`; the
   * repository only when it differs from the cluster's). Undefined when kubeadm cannot name it: an image
   * given by digest, or not called `etcd`.
   */
  readonly kubeadmImage?: { readonly imageRepository?: string; readonly imageTag: string };
  /** The etcd version that image runs, e.g. "3.7.0". */
  readonly version: string;
  readonly profile: EtcdProfile;
  readonly probePaths: EtcdProbePaths;
  readonly dataDir: string;
  readonly overrides: ComponentSpec;
}

/** External etcd, resolved. */
export interface ExternalEtcdPlan {
  readonly kind: 'external';
  readonly endpoints: readonly string[];
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A control-plane component's image and the user's escape hatches. */
export interface ComponentPlan {
  readonly image: string;
  readonly overrides: ComponentSpec;
}

/** The `pki` settings, resolved. */
export interface PkiPlan {
  readonly mode: 'kubeadm' | 'generate';
  /** The state directory as written in the spec (or the default), not yet resolved against a base directory. */
  readonly dir: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly certificateValidityDays: number;
  readonly caCertificateValidityDays: number;
  readonly renewBeforeDays: number;
  readonly backdateMinutes: number;
  /**
   * apiserver-kubelet-client has no O and is bound by the ClusterRoleBinding kubeadm:apiserver-kubelet-client
   * (kubeadm of this version does so); otherwise it is in O kubeadm:cluster-admins.
   */
  readonly kubeletClientBinding: boolean;
}

/** `kubeadm` (kubeadm's flags) or `hardened` (CIS v1.12). */
export type SecurityProfile = 'kubeadm' | 'hardened';

/** The security settings, resolved. */
export interface SecurityPlan {
  readonly profile: SecurityProfile;
  /** A user-supplied encryption key file (base64 of 32 bytes), as written in the spec. */
  readonly encryptionKeyFile?: string;
}

/**
 * The cluster, resolved: every default applied, every version question answered. Pure data; the
 * constructs render it and nothing else reads the spec.
 */
export interface ClusterPlan {
  readonly name: string;
  readonly clusterName: string;
  /** Full Kubernetes version, e.g. "1.37.1". */
  readonly kubernetesVersion: string;
  readonly profile: KubernetesProfile;
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly masters: readonly MasterPlan[];
  readonly networking: { readonly serviceSubnet: string; readonly podSubnet?: string; readonly dnsDomain: string };
  readonly imageRepository: string;
  readonly certificatesDir: string;
  readonly caCertificatePaths: readonly string[];
  /** `certSANs`: the spec's extra API server certificate SANs (after ours in the kubeadm config). */
  readonly apiServer: ComponentPlan & { readonly bindPort: number; readonly certSANs: readonly string[] };
  readonly controllerManager: ComponentPlan;
  readonly scheduler: ComponentPlan;
  readonly etcd: LocalEtcdPlan | ExternalEtcdPlan;
  /** The LB/VIP tier, when the spec has `loadBalancer`. */
  readonly loadBalancer?: LoadBalancerPlan;
  /** The per-worker local proxy, when the spec has `workerProxy` and workers. */
  readonly workerProxy?: WorkerProxyPlan;
  /** Certificates and kubeconfigs: who makes them, and how (lib/pki reads this). */
  readonly pki: PkiPlan;
  /** Pause image (the main container of helper pods). */
  readonly pauseImage: string;
  /** The security profile (kubeadm's flags, or hardened to CIS v1.12). */
  readonly security: SecurityPlan;
  /** Advisory findings (even etcd member count, endpoint on a single master, ...). */
  readonly warnings: readonly SpecIssue[];
}


/**
 * Validates a spec and resolves it into a plan. Throws SpecError (every problem, each with field,
 * value and fix) on invalid input; has no side effects.
 */
export function planCluster(spec: ClusterSpec): ClusterPlan {
  return planValidatedSpec(spec, validateSpec(spec));
}

/**
 * The plan of a spec that validateSpec has already checked, given its result: a caller that validated
 * the spec itself (readSpec) plans it without validating it twice. Throws SpecError when the result
 * has errors.
 */
export function planValidatedSpec(spec: ClusterSpec, validation: ValidationResult): ClusterPlan {
  const { errors, warnings } = validation;
  if (errors.length > 0) throw new SpecError(errors);

  const requested = spec.kubernetesVersion ?? D.ClusterSpec.kubernetesVersion;
  const { minor, patch, profile: found } = parseKubernetesVersion(requested)!;
  const profile = found!;
  const kubernetesVersion = patch ? `${minor}${patch}` : profile.latestPatch;
  const imageRepository = spec.imageRepository ?? DEFAULTS.imageRepository;
  const image = (c: ComponentSpec | undefined, name: string, tag: string) => c?.image ?? `${imageRepository}/${name}:${tag}`;

  const etcd = spec.etcd?.external
    ? { kind: 'external' as const, ...spec.etcd.external }
    : planLocalEtcd(spec, profile, imageRepository);

  const members: EtcdMember[] = spec.masters.map((m) => ({ name: m.name, peerUrl: `https://${hostPort(m.address, DEFAULTS.etcdPeerPort)}` }));
  const stateOf = (j: number) => spec.masters[j].etcdState ?? D.MasterSpec.etcdState;
  // Founding members (`new`, and `replacement`s in a founding member's place) list each other; a joining
  // member lists the members of the cluster it joins: the founding members, those that joined before it,
  // and itself; a replacement joins a cluster of every other master.
  const founding = (j: number) => stateOf(j) !== 'existing';
  const masters: MasterPlan[] = spec.masters.map((m, i) => {
    const state = stateOf(i);
    const initialCluster = state === 'new' ? members.filter((_, j) => founding(j))
      : state === 'existing' ? members.filter((_, j) => founding(j) || j <= i)
      : members;
    return {
      name: m.name,
      address: m.address,
      family: ipFamily(m.address) as 4 | 6,
      loopback: loopbackFor(m.address),
      etcd: etcd.kind === 'local' ? { initialCluster, state: state === 'new' ? 'new' : 'existing' } : undefined,
    };
  });

  const bindPort = spec.apiServer?.bindPort ?? DEFAULTS.apiServerPort;
  return {
    name: spec.name,
    clusterName: spec.clusterName ?? DEFAULTS.clusterName,
    kubernetesVersion,
    profile,
    endpoint: { host: spec.controlPlaneEndpoint.host, port: spec.controlPlaneEndpoint.port ?? D.EndpointSpec.port },
    masters,
    networking: {
      serviceSubnet: spec.networking?.serviceSubnet ?? DEFAULTS.serviceSubnet,
      podSubnet: spec.networking?.podSubnet,
      dnsDomain: spec.networking?.dnsDomain ?? DEFAULTS.dnsDomain,
    },
    imageRepository,
    certificatesDir: spec.certificatesDir ?? DEFAULTS.certificatesDir,
    caCertificatePaths: spec.caCertificatePaths ?? DEFAULTS.caCertificatePaths,
    apiServer: {
      image: image(spec.apiServer, 'kube-apiserver', `v${kubernetesVersion}`),
      overrides: spec.apiServer ?? {},
      bindPort,
      certSANs: spec.apiServer?.certSANs ?? D.ApiServerSpec.certSANs,
    },
    controllerManager: { image: image(spec.controllerManager, 'kube-controller-manager', `v${kubernetesVersion}`), overrides: spec.controllerManager ?? {} },
    scheduler: { image: image(spec.scheduler, 'kube-scheduler', `v${kubernetesVersion}`), overrides: spec.scheduler ?? {} },
    etcd,
    loadBalancer: planLoadBalancer(spec, bindPort),
    workerProxy: planWorkerProxy(spec, bindPort),
    pki: planPki(spec, profile, Number(kubernetesVersion.split('.')[2])),
    pauseImage: `${imageRepository}/pause:${profile.pauseImageTag}`,
    security: { profile: spec.security?.profile ?? D.SecuritySpec.profile, encryptionKeyFile: spec.security?.encryptionKeyFile },
    warnings,
  };
}

function planLocalEtcd(spec: ClusterSpec, profile: KubernetesProfile, imageRepository: string): LocalEtcdPlan {
  const local = spec.etcd?.local ?? {};
  const tag = local.imageTag ?? profile.etcdImageTag;
  const image = local.image ?? `${imageRepository}/etcd:${tag}`;
  // The version: stated, else the tag of the image we deploy (a custom image's tag after the last ':').
  const imageTag = local.image ? /:([^:/@]+)(@.*)?$/.exec(local.image)?.[1] : tag;
  const source = local.version ?? imageTag;
  const parsed = source === undefined ? undefined : parseEtcdVersion(source);
  const etcdLine = parsed && etcdProfile(parsed.line);
  if (!parsed || !etcdLine) {
    const path = local.version !== undefined ? 'etcd.local.version' : local.image !== undefined ? 'etcd.local.image' : 'etcd.local.imageTag';
    throw new SpecError([{
      path,
      value: local.version ?? local.image ?? tag,
      problem: 'does not tell which etcd version runs, so its flags cannot be spelled',
      fix: 'set etcd.local.version to the etcd version of the image, e.g. "3.5.24"',
    }]);
  }
  return {
    kind: 'local',
    image,
    kubeadmImage: kubeadmEtcdImage(image, imageRepository),
    version: parsed.version,
    profile: etcdLine,
    probePaths: etcdProbePaths(etcdLine, parsed.patch),
    dataDir: local.dataDir ?? DEFAULTS.etcdDataDir,
    overrides: local,
  };
}

/** `<repository>/etcd:<tag>` as kubeadm's imageRepository and imageTag, if the image has that form. */
export function kubeadmEtcdImage(image: string, imageRepository: string): LocalEtcdPlan['kubeadmImage'] {
  const m = KUBEADM_ETCD_IMAGE.exec(image);
  if (!m) return undefined;
  return m[1] === imageRepository ? { imageTag: m[2] } : { imageRepository: m[1], imageTag: m[2] };
}

function planPki(spec: ClusterSpec, profile: KubernetesProfile, patch: number): PkiPlan {
  const p = spec.pki ?? {};
  return {
    mode: p.mode ?? D.PkiSpec.mode,
    dir: p.dir ?? DEFAULTS.pkiDir.replace('<name>', spec.name),
    keyAlgorithm: p.keyAlgorithm ?? DEFAULTS.pki.keyAlgorithm,
    certificateValidityDays: p.certificateValidityDays ?? DEFAULTS.pki.certificateValidityDays,
    caCertificateValidityDays: p.caCertificateValidityDays ?? DEFAULTS.pki.caCertificateValidityDays,
    renewBeforeDays: p.renewBeforeDays ?? DEFAULTS.pki.renewBeforeDays,
    backdateMinutes: p.backdateMinutes ?? DEFAULTS.pki.backdateMinutes,
    kubeletClientBinding: patch >= profile.kubeletClientBindingSincePatch,
  };
}
