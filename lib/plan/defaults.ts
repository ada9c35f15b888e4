import {
  ApiServerSpec, ClusterSpec, ComponentSpec, EndpointSpec, ExtraVolume, KeepalivedSpec, LoadBalancerSpec, LocalEtcdSpec,
  MasterSpec, NetworkingSpec, PkiSpec, SecuritySpec, WorkerProxySpec,
} from '../spec/types';
import { PROXY_TYPE_NAMES, PROXY_TYPES, ProxyType } from '../proxies/registry';
import { DEFAULT_KUBERNETES_MINOR } from './versions';

/**
 * Default images of the load-balancing tier (pinned; every one is overridable in the spec). The
 * proxies' are their records' in lib/proxies (the official images of maintained branches: haproxy 3.2
 * LTS, nginx 1.30 stable); the generated configs are checked by those branches' daemons
 * (test/lb-checkers.test.ts, the Debian unstable line of scripts/lb-daemons.txt; test/lb-images.test.ts
 * keeps the major.minor equal). There is no official keepalived image: the default is the one
 * images/keepalived/Containerfile builds from Debian 13's keepalived, which a user builds and mirrors
 * (or sets keepalived.image to their own).
 */
export const LB_IMAGES: Readonly<Record<ProxyType, string>> & { readonly keepalived: 'localhost/keepalived:2.3.3'; readonly busybox: string } = {
  ...Object.fromEntries(PROXY_TYPE_NAMES.map((t) => [t, PROXY_TYPES[t].image])) as Record<ProxyType, string>,
  keepalived: 'localhost/keepalived:2.3.3',
  /** For the master loopback VIP pod: busybox's `ip` and `sysctl`. */
  busybox: 'docker.io/library/busybox:1.36.1',
};

/**
 * A default that depends on other fields. `words` is how the docs state it: the `@defaultValue` tag
 * of the field in lib/spec/types.ts and the README say exactly this (test/defaults.test.ts).
 */
export interface ContextDefault<T, C> {
  readonly words: string;
  readonly of: (context: C) => T;
}

function contextDefault<T, C>(words: string, of: (context: C) => T): ContextDefault<T, C> {
  return { words, of };
}

/** Whole seconds are all VRRPv2 allows; VRRPv3 advertises every 100 ms. */
const advertIntervalMs = contextDefault('100 (1000 with vrrpVersion 2)', (vrrpVersion: 2 | 3) => (vrrpVersion === 2 ? 1000 : 100));

/** A /64 is the usual IPv6 subnet, a /24 the usual IPv4 one. */
const vipPrefixLength = contextDefault('24 (64 for an IPv6 VIP)', (vipFamily: 4 | 6) => (vipFamily === 6 ? 64 : 24));

/**
 * Default VRRP priorities for n nodes, highest first: 50 apart (closer for large groups), the highest at
 * least 150 and the lowest at least 50. A backup's skew time ((256 − priority)/256 of an advert) shrinks
 * as its priority grows, so two LB hosts get 150/100 rather than 100/50 (measured: a graceful hand-over
 * 0.63 s instead of 0.86 s with 1 s adverts).
 */
const priorities = contextDefault('50 apart, highest first, the lowest at least 50 and the highest at least 150 (closer above 5 nodes)', (n: number): number[] => {
  const step = n > 1 ? Math.min(50, Math.floor(200 / (n - 1))) : 50;
  const lowest = Math.max(50, 150 - (n - 1) * step);
  return Array.from({ length: n }, (_, i) => lowest + (n - 1 - i) * step);
});

/** The proxy's image when the spec names none. */
const proxyImage = contextDefault('the official image of the proxy type (LB_IMAGES)', (type: ProxyType) => LB_IMAGES[type]);

/** A value as a read-only literal (`as const` makes arrays read-only tuples). */
type Frozen<T> = T extends readonly (infer E)[] ? readonly Frozen<E>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;
/** A field's default: its value, or one computed from the rest of the spec. */
type DefaultOf<T> = Frozen<NonNullable<T>> | ContextDefault<NonNullable<T>, never>;
/** The defaults of some optional fields of one spec interface. */
type Defaults<I> = { readonly [K in keyof I]?: DefaultOf<I[K]> };

/**
 * The one table of spec defaults, by interface and field of lib/spec/types.ts. The plan and the
 * validation read it; every `@default` (and `@defaultValue`) tag in types.ts, hence the published
 * schema's defaults, and the README's defaults tables agree with it (test/defaults.test.ts).
 */
export const SPEC_DEFAULTS = {
  ClusterSpec: {
    kubernetesVersion: DEFAULT_KUBERNETES_MINOR,
    networking: {},
    imageRepository: 'registry.k8s.io',
    certificatesDir: '/etc/kubernetes/pki',
    clusterName: 'kubernetes',
    caCertificatePaths: ['/etc/ca-certificates', '/usr/local/share/ca-certificates', '/usr/share/ca-certificates'],
    etcd: { local: {} },
    apiServer: {},
    controllerManager: {},
    scheduler: {},
    keepalived: {},
    loadBalancers: [],
    workers: [],
    security: {},
    pki: { mode: 'kubeadm' },
  },
  EndpointSpec: { port: 6443, external: false },
  MasterSpec: { etcdState: 'new' },
  NetworkingSpec: { serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' },
  LocalEtcdSpec: { dataDir: '/var/lib/etcd' },
  ComponentSpec: { extraArgs: [], extraVolumes: [], extraEnvs: [] },
  ExtraVolume: { pathType: 'DirectoryOrCreate', readOnly: false },
  ApiServerSpec: { bindPort: 6443, certSANs: [] },
  LoadBalancerSpec: {
    type: 'haproxy',
    image: proxyImage,
    healthCheckPath: '/readyz',
    checkIntervalMs: 500,
    fall: 2,
    rise: 2,
    /** Long enough for logs -f, exec and watches. */
    idleTimeoutSeconds: 3600,
  },
  KeepalivedSpec: {
    /** Validation warns when the spec leaves it to this default. */
    interface: 'eth0',
    virtualRouterId: 51,
    vrrpVersion: 3,
    advertIntervalMs,
    peering: 'unicast',
    priorities,
    vipPrefixLength,
    image: LB_IMAGES.keepalived,
  },
  WorkerProxySpec: {
    /** haproxy checks every API server's /readyz as the VIP tier does; open-source nginx sees only failed connects. */
    type: 'haproxy',
    port: 6443,
    image: contextDefault('the load balancer\'s default image for that type', (type: ProxyType) => LB_IMAGES[type]),
  },
  SecuritySpec: { profile: 'kubeadm' },
  PkiSpec: {
    mode: 'kubeadm',
    /** Relative to the spec file's directory; `<name>` is the cluster name. */
    dir: 'ha-control-plane-state/<name>/pki',
    /** kubeadm's defaults where kubeadm has one. */
    keyAlgorithm: 'RSA-2048',
    certificateValidityDays: 365,
    caCertificateValidityDays: 3650,
    renewBeforeDays: 30,
    backdateMinutes: 5,
  },
} as const satisfies {
  readonly ClusterSpec: Defaults<ClusterSpec>;
  readonly EndpointSpec: Defaults<EndpointSpec>;
  readonly MasterSpec: Defaults<MasterSpec>;
  readonly NetworkingSpec: Defaults<NetworkingSpec>;
  readonly LocalEtcdSpec: Defaults<LocalEtcdSpec>;
  readonly ComponentSpec: Defaults<ComponentSpec>;
  readonly ExtraVolume: Defaults<ExtraVolume>;
  readonly ApiServerSpec: Defaults<ApiServerSpec>;
  readonly LoadBalancerSpec: Defaults<LoadBalancerSpec>;
  readonly KeepalivedSpec: Defaults<KeepalivedSpec>;
  readonly WorkerProxySpec: Defaults<WorkerProxySpec>;
  readonly SecuritySpec: Defaults<SecuritySpec>;
  readonly PkiSpec: Defaults<PkiSpec>;
};

const S = SPEC_DEFAULTS;

/** Defaults that are not per-version, by the names the plan and the constructs use (from SPEC_DEFAULTS where the spec has the field). */
export const DEFAULTS = {
  imageRepository: S.ClusterSpec.imageRepository,
  certificatesDir: S.ClusterSpec.certificatesDir,
  clusterName: S.ClusterSpec.clusterName,
  serviceSubnet: S.NetworkingSpec.serviceSubnet,
  dnsDomain: S.NetworkingSpec.dnsDomain,
  apiServerPort: S.ApiServerSpec.bindPort,
  /** etcd's client and peer ports (kubeadm's, fixed: kubeadm has no setting for them). */
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
  etcdDataDir: S.LocalEtcdSpec.dataDir,
  caCertificatePaths: S.ClusterSpec.caCertificatePaths,
  /** PKI state directory (relative to the spec file's directory); `<name>` is the cluster name. */
  pkiDir: S.PkiSpec.dir,
  /** Generated PKI (kubeadm's defaults where kubeadm has one). */
  pki: {
    keyAlgorithm: S.PkiSpec.keyAlgorithm,
    certificateValidityDays: S.PkiSpec.certificateValidityDays,
    caCertificateValidityDays: S.PkiSpec.caCertificateValidityDays,
    renewBeforeDays: S.PkiSpec.renewBeforeDays,
    backdateMinutes: S.PkiSpec.backdateMinutes,
  },
} as const;

/** An etcd image kubeadm's config can name: `<repository>/etcd:<tag>` (no digest). */
export const KUBEADM_ETCD_IMAGE = /^(.+)\/etcd:([\w][\w.-]{0,127})$/;
