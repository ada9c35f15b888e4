/**
 * The cluster spec: plain data that describes one highly available control plane.
 *
 * These types are the single source of the published JSON Schema, so every optional field carries a
 * JSON-literal `@default` and every field a doc comment (it becomes the schema's description).
 * Names follow kubeadm's ClusterConfiguration (v1beta4) where a field means the same thing.
 */

/**
 * A TCP port.
 * @asType integer
 * @minimum 1
 * @maximum 65535
 */
export type Port = number;

/** A command-line flag, as in kubeadm v1beta4 `extraArgs`: `--<name>=<value>`. */
export interface Arg {
  /** Flag name without the leading dashes, e.g. `audit-log-maxage`. */
  readonly name: string;
  /** Flag value, written verbatim after `=`. */
  readonly value: string;
}

/** An environment variable with a literal value or a downward-API reference (nothing that needs the API). */
export interface EnvVar {
  /** Variable name. */
  readonly name: string;
  /** Literal value. Exactly one of `value` and `valueFrom`. */
  readonly value?: string;
  /** Downward-API reference (fieldRef or resourceFieldRef only). */
  readonly valueFrom?: EnvVarSource;
}

/** Downward-API sources a static pod may use: the kubelet resolves them without the API server. */
export interface EnvVarSource {
  /** A field of the pod, e.g. `status.podIP` or `spec.nodeName`. */
  readonly fieldRef?: {
    /** Path of the field, e.g. `status.podIP`. */
    readonly fieldPath: string;
    /** API version the path is written in, e.g. `v1`. */
    readonly apiVersion?: string;
  };
  /** A resource of the container, e.g. `limits.memory`. */
  readonly resourceFieldRef?: {
    /** Resource, e.g. `limits.memory` or `requests.cpu`. */
    readonly resource: string;
    /** Container whose resource is read (the component's own container when omitted). */
    readonly containerName?: string;
    /** Unit the value is divided by, e.g. `1Mi`. */
    readonly divisor?: string;
  };
}

/** HostPath types the kubelet knows. */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/**
 * An extra volume for a component: a hostPath (kubeadm's HostPathMount) or an emptyDir.
 * Static pods cannot use volumes backed by API objects (Secret, ConfigMap, projected, PVC, CSI):
 * the kubelet refuses such a manifest (1.34–1.36 by default, 1.37 always) and the API server refuses
 * its mirror pod (every version), so they are rejected here.
 */
export interface ExtraVolume {
  /** Volume name (a DNS label, unique within the pod). */
  readonly name: string;
  /** Path inside the container. */
  readonly mountPath: string;
  /** Path on the host. Exactly one of `hostPath` and `emptyDir`. */
  readonly hostPath?: string;
  /**
   * HostPath type.
   * @default "DirectoryOrCreate"
   */
  readonly pathType?: HostPathType;
  /** An emptyDir volume instead of a hostPath. */
  readonly emptyDir?: {
    /** `Memory` for a tmpfs; `""` (the node's disk) when omitted. */
    readonly medium?: '' | 'Memory';
    /** Size limit, e.g. `64Mi`. */
    readonly sizeLimit?: string;
  };
  /**
   * Mount read-only.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** Escape hatches shared by every control-plane component. */
export interface ComponentSpec {
  /**
   * Flags to add or override. A flag with the name of a default replaces it; the user's flags keep
   * their order after the sorted defaults (as kubeadm ≥ 1.36 does).
   * @default []
   */
  readonly extraArgs?: Arg[];
  /**
   * Extra hostPath or emptyDir volumes, mounted into the component's container.
   * @default []
   */
  readonly extraVolumes?: ExtraVolume[];
  /**
   * Extra environment variables (literal or downward API).
   * @default []
   */
  readonly extraEnvs?: EnvVar[];
  /** Full image reference, replacing `<imageRepository>/<component>:<tag>` for this component. */
  readonly image?: string;
}

/** The API server: everything of a component plus its serving port. */
export interface ApiServerSpec extends ComponentSpec {
  /**
   * Port kube-apiserver serves on, on every master (kubeadm's localAPIEndpoint.bindPort).
   * @default 6443
   */
  readonly bindPort?: Port;
  /**
   * Extra Subject Alternative Names of the API server certificate (kubeadm's `apiServer.certSANs`): DNS
   * names or IP addresses clients use to reach the API server, e.g. a DNS name in front of the VIP. They
   * follow the SANs this library adds (endpoint host, VIP, masters, LB hosts) in the kubeadm config and
   * go into the certificate `pki.mode: generate` issues.
   * @default []
   */
  readonly certSANs?: string[];
}

/** A control-plane node. */
export interface MasterSpec {
  /** Node name (a DNS-1123 subdomain, lower case); also the etcd member name. */
  readonly name: string;
  /** The node's IPv4 or IPv6 address: API server advertise address and etcd peer/client address. */
  readonly address: string;
  /**
   * How this member's etcd starts: `new` for a founding member, which bootstraps a fresh cluster with the
   * other founding members; `existing` for a member that joins a running cluster later (after `etcdctl
   * member add`); `replacement` for a new node that takes a dead member's place (after `etcdctl member
   * remove` of the dead one and `member add` of this one). A founding member's --initial-cluster lists the
   * founding members, `replacement` ones included, so replacing a master under its name and address
   * changes no other master's files. An `existing` member's lists the founding members, the `existing`
   * ones before it in spec order (they join one at a time, in that order) and itself; a `replacement`'s
   * lists every master. Keep a member's value once it runs (etcd reads these flags only on its first start).
   * @default "new"
   */
  readonly etcdState?: 'new' | 'existing' | 'replacement';
}

/** Where the API server is reached from outside the masters: a VIP or DNS name and a port. */
export interface EndpointSpec {
  /**
   * VIP (IPv4 or IPv6) or DNS name of the control plane; kubeconfigs and kubeadm's controlPlaneEndpoint
   * name it. With `loadBalancer` it is the VIP keepalived holds, unless `loadBalancer.vip` gives the VIP
   * (then it may be a DNS name that resolves to the VIP).
   */
  readonly host: string;
  /**
   * Port of the endpoint (the load balancer's port).
   * @default 6443
   */
  readonly port?: Port;
  /**
   * Something outside this spec holds the endpoint: your own load balancer, a cloud load balancer, a DNS
   * name with every master's address. Says that no `loadBalancer` is wanted, so validation does not warn
   * that nothing holds the VIP. Not allowed with `loadBalancer` (its keepalived holds the VIP).
   * @default false
   */
  readonly external?: boolean;
}

/** Cluster networks. */
export interface NetworkingSpec {
  /**
   * Service network (one CIDR, or an IPv4 and an IPv6 CIDR separated by a comma for dual stack).
   * @default "10.96.0.0/12"
   */
  readonly serviceSubnet?: string;
  /** Pod network; when set the controller manager allocates node CIDRs from it. */
  readonly podSubnet?: string;
  /**
   * Cluster DNS domain.
   * @default "cluster.local"
   */
  readonly dnsDomain?: string;
}

/** etcd stacked on the masters (one member per master). */
export interface LocalEtcdSpec extends ComponentSpec {
  /**
   * Image tag of `<imageRepository>/etcd`, e.g. "3.5.24-0". When omitted, the tag kubeadm uses for the
   * Kubernetes minor (see the version table).
   */
  readonly imageTag?: string;
  /**
   * The etcd version the image runs (e.g. "3.5.24"), used to spell flags and probes for that etcd.
   * Read from the image tag when omitted; required when `image` has no parsable tag.
   */
  readonly version?: string;
  /**
   * etcd data directory on the host.
   * @default "/var/lib/etcd"
   */
  readonly dataDir?: string;
}

/** An etcd cluster outside the masters. */
export interface ExternalEtcdSpec {
  /** Client URLs of the etcd members, e.g. https://10.0.0.21:2379. */
  readonly endpoints: string[];
  /** CA file the API server trusts etcd with. */
  readonly caFile: string;
  /** Client certificate of the API server. */
  readonly certFile: string;
  /** Client key of the API server. */
  readonly keyFile: string;
}

/** etcd: exactly one of `local` (stacked, the default) and `external`. */
export interface EtcdSpec {
  /** Stacked etcd settings. */
  readonly local?: LocalEtcdSpec;
  /** External etcd: no etcd pods; the API server uses these endpoints and files. */
  readonly external?: ExternalEtcdSpec;
}

/** One highly available control plane. */
export interface ClusterSpec {
  /** Cluster name: a DNS label; the bundle is written to `<outdir>/<name>/<node>/`. */
  readonly name: string;
  /**
   * Kubernetes version: a supported minor ("1.37", patch from the version table) or a full version ("1.37.1").
   * @default "1.37"
   */
  readonly kubernetesVersion?: string;
  /** The control-plane endpoint (VIP or DNS name and port) clients and kubeconfigs use. */
  readonly controlPlaneEndpoint: EndpointSpec;
  /** The masters: 3 or 5 for a highly available stacked etcd (1 is accepted for labs). */
  readonly masters: MasterSpec[];
  /**
   * Cluster networks.
   * @default {}
   */
  readonly networking?: NetworkingSpec;
  /**
   * Registry and path prefix of the control-plane images (an air-gapped mirror, say).
   * @default "registry.k8s.io"
   */
  readonly imageRepository?: string;
  /**
   * Directory of the PKI on every master.
   * @default "/etc/kubernetes/pki"
   */
  readonly certificatesDir?: string;
  /**
   * Cluster name written into the controller manager's --cluster-name and kubeconfigs (kubeadm's clusterName).
   * @default "kubernetes"
   */
  readonly clusterName?: string;
  /**
   * Host directories that hold CA bundles /etc/ssl/certs may link into; each is mounted read-only into
   * kube-apiserver and kube-controller-manager. kubeadm mounts those that exist on the node when it runs;
   * we synthesize ahead of time, so the default is the set a Debian/Ubuntu host has.
   * @default ["/etc/ca-certificates","/usr/local/share/ca-certificates","/usr/share/ca-certificates"]
   */
  readonly caCertificatePaths?: string[];
  /**
   * etcd topology and settings.
   * @default {"local":{}}
   */
  readonly etcd?: EtcdSpec;
  /**
   * kube-apiserver settings.
   * @default {}
   */
  readonly apiServer?: ApiServerSpec;
  /**
   * kube-controller-manager settings.
   * @default {}
   */
  readonly controllerManager?: ComponentSpec;
  /**
   * kube-scheduler settings.
   * @default {}
   */
  readonly scheduler?: ComponentSpec;
  /**
   * The load balancer in front of the API servers; with it, keepalived holds the VIP: `loadBalancer.vip`,
   * or controlPlaneEndpoint.host when that is an IP address. Without it no LB/VIP pods are generated.
   */
  readonly loadBalancer?: LoadBalancerSpec;
  /**
   * keepalived settings (used when `loadBalancer` is set).
   * @default {}
   */
  readonly keepalived?: KeepalivedSpec;
  /**
   * Dedicated load-balancer hosts; when set the keepalived and proxy pods run there instead of on the masters.
   * @default []
   */
  readonly loadBalancers?: LoadBalancerHostSpec[];
  /**
   * Worker nodes (they get a bundle when `workerProxy` is set).
   * @default []
   */
  readonly workers?: WorkerSpec[];
  /** A local proxy on every worker in front of all API servers. */
  readonly workerProxy?: WorkerProxySpec;
  /**
   * Security profile of the control-plane pods: kubeadm's defaults, or hardened to the CIS Kubernetes
   * Benchmark v1.12.
   * @default {}
   */
  readonly security?: SecuritySpec;
  /**
   * Certificates and kubeconfigs: made by kubeadm on the nodes (the default), or generated ahead of time
   * into the bundles from a PKI state directory.
   * @default {"mode":"kubeadm"}
   */
  readonly pki?: PkiSpec;
}

/** How the control-plane pods are secured. */
export interface SecuritySpec {
  /**
   * `kubeadm` for kubeadm's flags, `hardened` for the CIS Kubernetes Benchmark v1.12 profile. `hardened`:
   * every automatable check of CIS Kubernetes Benchmark v1.12 sections 1.2-1.4, 2 and 3.2.1 that a manifest can meet (profiling off, audit log + policy, encryption
   * at rest, strong TLS ciphers, kubelet CA, admission plugins with their configs, anonymous access only to
   * the health endpoints), with the host files those flags point to.
   * @default "kubeadm"
   */
  readonly profile?: 'kubeadm' | 'hardened';
  /**
   * `hardened` only: a file holding the base64 encoding of the 32-byte key that encrypts Secrets in etcd
   * (relative paths from the working directory; the CLI: from the spec file's directory). When omitted the
   * key is read from `ha-control-plane-state/<name>/encryption-key`, and generated there once if missing.
   */
  readonly encryptionKeyFile?: string;
}

/** Key algorithms of generated keys, as kubeadm's `encryptionAlgorithm`. */
export type KeyAlgorithm = 'RSA-2048' | 'RSA-3072' | 'RSA-4096' | 'ECDSA-P256' | 'ECDSA-P384';

/** Where certificates and kubeconfigs come from. */
export interface PkiSpec {
  /**
   * `kubeadm` (kubeadm makes the certificates on the nodes) or `generate` (they are generated into the
   * bundles). `kubeadm`: the bundles hold no key material; run `kubeadm init phase certs all` and
   * `kubeadm init phase kubeconfig all` with each master's kubeadm config. `generate`: the CAs, every
   * certificate kubeadm makes and the kubeconfigs are generated (or reused) from the state directory
   * `dir` and shipped in each node's bundle.
   * @default "kubeadm"
   */
  readonly mode?: 'kubeadm' | 'generate';
  /**
   * PKI state directory (CAs, service-account keys and issued certificates; created 0700, keys 0600).
   * Relative paths are resolved against the spec file's directory (the working directory for specs
   * given in code). Must not be inside the bundle output directory. `<name>` in the default stands for
   * the cluster name.
   * @default "ha-control-plane-state/<name>/pki"
   */
  readonly dir?: string;
  /**
   * Algorithm of every generated key (CAs, leaves, service-account key).
   * @default "RSA-2048"
   */
  readonly keyAlgorithm?: KeyAlgorithm;
  /**
   * Validity of leaf certificates in days (kubeadm's certificateValidityPeriod: 8760h).
   * @default 365
   * @asType integer
   * @minimum 1
   * @maximum 36500
   */
  readonly certificateValidityDays?: number;
  /**
   * Validity of generated CA certificates in days (kubeadm's caCertificateValidityPeriod: 87600h).
   * @default 3650
   * @asType integer
   * @minimum 1
   * @maximum 36500
   */
  readonly caCertificateValidityDays?: number;
  /**
   * A stored certificate this close to expiry (in days) is reissued on the next synth.
   * @default 30
   * @asType integer
   * @minimum 0
   * @maximum 36500
   */
  readonly renewBeforeDays?: number;
  /**
   * NotBefore is set this many minutes in the past, for nodes whose clocks run behind the machine that
   * generates (kubeadm backdates 5 minutes).
   * @default 5
   * @asType integer
   * @minimum 0
   * @maximum 36500
   */
  readonly backdateMinutes?: number;
}

/**
 * How clients reach the API servers through the VIP: a TCP proxy behind the VIP (`haproxy`, `nginx`),
 * IPVS direct routing (`lvs-dr`), or no load balancing at all (`vip-only`).
 */
export type LoadBalancerType = 'haproxy' | 'nginx' | 'lvs-dr' | 'vip-only';

/** The load balancer in front of the API servers. */
export interface LoadBalancerSpec {
  /**
   * `haproxy` or `nginx` (TCP proxy static pod on every LB node, behind the keepalived VIP),
   * `lvs-dr` (keepalived IPVS direct routing on dedicated `loadBalancers` hosts; the masters hold the
   * VIP on loopback and answer clients directly), or `vip-only` (keepalived on the masters only, no
   * proxy: the VIP lands on one master and clients talk to its API server on controlPlaneEndpoint.port,
   * which must be apiServer.bindPort; keepalived moves the VIP when that API server fails its health
   * check or its process is gone. No load spreading: every client talks to the VIP holder).
   * @default "haproxy"
   */
  readonly type?: LoadBalancerType;
  /**
   * The virtual IP (IPv4 or IPv6) keepalived holds, when controlPlaneEndpoint.host is a DNS name that
   * resolves to it. When omitted the VIP is controlPlaneEndpoint.host, which must then be an IP address.
   * The VIP is always in the API server certificate's SANs.
   */
  readonly vip?: string;
  /**
   * Image of the proxy (haproxy or nginx; `lvs-dr` and `vip-only` run no proxy). When omitted, the official image pinned in lib/plan/defaults.ts (LB_IMAGES):
   * "docker.io/library/haproxy:3.2.26-alpine" for haproxy, "docker.io/library/nginx:1.30.6-alpine"
   * for nginx — the branches whose daemons the tests check the generated configs with.
   * @defaultValue the official image of the proxy type (LB_IMAGES)
   */
  readonly image?: string;
  /**
   * API server path the active health checks request (haproxy, LVS, and keepalived's check of the local
   * API server with `vip-only`); anonymous access to it is allowed by default RBAC (system:public-info-viewer).
   * @default "/readyz"
   */
  readonly healthCheckPath?: '/readyz' | '/livez' | '/healthz';
  /**
   * Interval of the active health checks of each API server, in milliseconds (LVS and `vip-only`'s
   * keepalived script round to whole seconds, at least 1).
   * @default 500
   */
  readonly checkIntervalMs?: number;
  /**
   * Consecutive failed checks before an API server is taken out.
   * @default 2
   */
  readonly fall?: number;
  /**
   * Consecutive good checks before it is put back.
   * @default 2
   */
  readonly rise?: number;
  /**
   * Idle timeout of a proxied connection in seconds: long enough for `kubectl logs -f`, exec and watches.
   * @default 3600
   */
  readonly idleTimeoutSeconds?: number;
}

/** keepalived (VRRP) holding the VIP on the load-balancer nodes. */
export interface KeepalivedSpec {
  /**
   * Network interface that carries the VIP on every LB node.
   * @default "eth0"
   */
  readonly interface?: string;
  /**
   * VRRP virtual router id (1-255), unique on the network segment.
   * @default 51
   */
  readonly virtualRouterId?: number;
  /**
   * VRRP version: 3 allows sub-second adverts and IPv6; 2 needs whole-second adverts.
   * @default 3
   */
  readonly vrrpVersion?: 2 | 3;
  /**
   * Advertisement interval in milliseconds (VRRPv3: multiple of 10; VRRPv2: multiple of 1000). Default:
   * 100 with VRRPv3, 1000 (whole seconds) with VRRPv2.
   * @defaultValue 100 (1000 with vrrpVersion 2)
   */
  readonly advertIntervalMs?: number;
  /**
   * `unicast` (to the other LB nodes' addresses; works where multicast is filtered) or `multicast`.
   * @default "unicast"
   */
  readonly peering?: 'unicast' | 'multicast';
  /**
   * VRRP priority of each LB node, in node order (1-254, distinct). The default spreads them 50 apart
   * (closer above 5 nodes), highest first, the lowest at least 50 and the highest at least 150: 150/100,
   * 150/100/50, ..., 250/200/150/100/50.
   * @defaultValue 50 apart, highest first, the lowest at least 50 and the highest at least 150 (closer above 5 nodes)
   */
  readonly priorities?: number[];
  /**
   * Prefix length of the VIP on the interface; the VIP and every LB node address must share that subnet.
   * Default: 24 for an IPv4 VIP, 64 for an IPv6 VIP.
   * @defaultValue 24 (64 for an IPv6 VIP)
   */
  readonly vipPrefixLength?: number;
  /** VRRPv2 only: simple password (at most 8 characters). VRRPv3 forbids authentication. */
  readonly authPass?: string;
  /**
   * keepalived image: any image with keepalived 2.2 or later, /bin/sh and curl (the check script) on
   * its PATH. There is no official keepalived image; the default is the image that
   * images/keepalived/Containerfile (shipped in this package) builds from Debian 13's keepalived:
   * build it under this name on every LB node, or push it to your registry and name it here.
   * @default "localhost/keepalived:2.3.3"
   */
  readonly image?: string;
}

/** A worker node (gets a bundle only when `workerProxy` is set). */
export interface WorkerSpec {
  /** Node name. */
  readonly name: string;
  /** Node address (IPv4 or IPv6). */
  readonly address: string;
}

/** A per-worker proxy on loopback in front of every API server (as kubespray's nginx-proxy). */
export interface WorkerProxySpec {
  /**
   * Proxy implementation. haproxy checks every API server's `/readyz` (as the VIP tier does) and stops
   * sending to one that is not ready; open-source nginx's stream module sees only failed connects, so it
   * keeps sending to an API server that accepts connections but cannot answer (e.g. its etcd member lost
   * quorum): measured, a third of a worker's requests then failed through nginx, 3 % through haproxy.
   * @default "haproxy"
   */
  readonly type?: 'nginx' | 'haproxy';
  /**
   * Port on 127.0.0.1 and ::1; workers' kubeconfigs use https://localhost:<port>.
   * @default 6443
   */
  readonly port?: Port;
  /**
   * Image of the proxy; the default is the load balancer's default for that type.
   * @defaultValue the load balancer's default image for that type
   */
  readonly image?: string;
}

/** A dedicated load-balancer host (not a Kubernetes node). */
export interface LoadBalancerHostSpec {
  /** Host name. */
  readonly name: string;
  /** Host address (IPv4 or IPv6), in the VIP's subnet. */
  readonly address: string;
}
