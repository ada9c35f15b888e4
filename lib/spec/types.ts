/**
 * The cluster spec: plain data that describes one highly available control plane.
 *
 * These types are the single source of the published JSON Schema, so every optional field carries a
 * JSON-literal `@default` and every field a doc comment (it becomes the schema's description).
 * Names follow kubeadm's ClusterConfiguration (v1beta4) where a field means the same thing.
 */

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
  readonly fieldRef?: { readonly fieldPath: string; readonly apiVersion?: string };
  /** A resource of the container, e.g. `limits.memory`. */
  readonly resourceFieldRef?: { readonly resource: string; readonly containerName?: string; readonly divisor?: string };
}

/** HostPath types the kubelet knows. */
export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';

/**
 * An extra volume for a component: a hostPath (kubeadm's HostPathMount) or an emptyDir.
 * Static pods cannot use volumes backed by API objects (Secret, ConfigMap, projected, PVC, CSI):
 * the kubelet refuses them from Kubernetes 1.37 on, so they are rejected here.
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
  readonly emptyDir?: { readonly medium?: '' | 'Memory'; readonly sizeLimit?: string };
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
  readonly bindPort?: number;
}

/** A control-plane node. */
export interface MasterSpec {
  /** Node name (a DNS-1123 subdomain, lower case); also the etcd member name. */
  readonly name: string;
  /** The node's IPv4 or IPv6 address: API server advertise address and etcd peer/client address. */
  readonly address: string;
  /**
   * etcd initial cluster state of this member: `new` while bootstrapping a fresh cluster, `existing` for a
   * member that joins a running cluster (after `etcdctl member add`). Joining members join one at a time
   * in spec order: each one's --initial-cluster lists the `new` members, the joining members before it,
   * and itself.
   * @default "new"
   */
  readonly etcdState?: 'new' | 'existing';
}

/** Where the API server is reached from outside the masters: a VIP or DNS name and a port. */
export interface EndpointSpec {
  /** VIP (IPv4 or IPv6) or DNS name of the control plane. */
  readonly host: string;
  /**
   * Port of the endpoint (the load balancer's port).
   * @default 6443
   */
  readonly port?: number;
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
   * Image tag of `<imageRepository>/etcd`, e.g. "3.5.24-0".
   * @default the tag kubeadm uses for the Kubernetes minor (see the version table)
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
}
