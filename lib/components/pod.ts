import type { k8s } from 'cdk8s-plus-27';
import { EnvVar, ExtraVolume, HostPathType } from '../spec/types';

/** A hostPath volume and its mount in the pod's container. */
export interface HostPathMount {
  /** Volume name. */
  readonly name: string;
  /** Path on the host. */
  readonly hostPath: string;
  /**
   * Path in the container.
   * @default the host path
   */
  readonly mountPath?: string;
  /** HostPath type: `File` for a config that must exist, `DirectoryOrCreate` for kubeadm's directories. */
  readonly type: HostPathType;
  /**
   * Mount read-only.
   * @default false
   */
  readonly readOnly?: boolean;
}

/** An HTTP(S) GET probe target. */
export interface ProbeTarget {
  /**
   * Host to probe; static pods share the host's network, so this is a host address.
   * @default the pod IP (the kubelet's default; no static pod of ours relies on it)
   */
  readonly host?: string;
  /** Path, e.g. /livez. */
  readonly path: string;
  /** Port number. */
  readonly port: number;
  /** HTTP or HTTPS. */
  readonly scheme: 'HTTP' | 'HTTPS';
}

/** A file a pod needs on its node (a config it mounts, a sysctl or modules-load file). */
export interface PodFile {
  /** Absolute path on the node. */
  readonly path: string;
  /** File content. */
  readonly content: string;
  /** File mode. */
  readonly mode: number;
  /**
   * Mount the file read-only into the pod under this volume name, at its own path, with hostPath type
   * `File`; its checksum goes into the pod's config-checksum annotation.
   * @default not mounted (a file for the host itself)
   */
  readonly volume?: string;
}

/**
 * A static pod's whole description as plain data: what a component function (lib/components) returns
 * and what StaticPod renders. Everything kubeadm's ComponentPod has in common (hostNetwork, priority,
 * seccomp, probe timings, sorting) is added by StaticPod, not described here.
 */
export interface PodDescription {
  /** Pod, container and manifest file name (e.g. `kube-apiserver` → kube-apiserver.yaml). */
  readonly name: string;
  /** Container image. */
  readonly image: string;
  /** Container command, flags included. */
  readonly command: readonly string[];
  /**
   * Namespace of the mirror pod.
   * @default "kube-system"
   */
  readonly namespace?: string;
  /**
   * Labels.
   * @default { component: <name>, tier: "control-plane" }
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Annotations (the library version is always stamped as `ha-control-plane.io/version`).
   * @default {}
   */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Resource requests (no limits, as kubeadm).
   * @default {}
   */
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  /**
   * hostPath volumes of the component itself.
   * @default []
   */
  readonly volumes?: readonly HostPathMount[];
  /**
   * The user's extra volumes (hostPath or emptyDir).
   * @default []
   */
  readonly extraVolumes?: readonly ExtraVolume[];
  /**
   * Where the extra volumes sit in the cluster spec, for error messages (e.g. `apiServer`).
   * @default the pod name
   */
  readonly specPath?: string;
  /**
   * Environment variables.
   * @default []
   */
  readonly env?: readonly EnvVar[];
  /**
   * Probes; one port serves them all.
   * @default no probes
   */
  readonly probes?: { readonly liveness?: ProbeTarget; readonly readiness?: ProbeTarget; readonly startup?: ProbeTarget };
  /**
   * Declare the probe port as a named container port (`probe-port`) and probe by name (kubeadm ≥ 1.34).
   * @default false
   */
  readonly namedProbePort?: boolean;
  /**
   * Write `metadata.creationTimestamp: null` as kubeadm < 1.34 does.
   * @default false
   */
  readonly creationTimestampNull?: boolean;
  /**
   * Container security context (capabilities, privileged).
   * @default none
   */
  readonly securityContext?: k8s.SecurityContext;
  /**
   * Init containers (e.g. one that prepares the host before the main container).
   * @default []
   */
  readonly initContainers?: readonly k8s.Container[];
  /**
   * Sort volume mounts by name. kubeadm sorts every component's mounts but etcd's, which keep the
   * order the component gives (data directory, then certificates).
   * @default true
   */
  readonly sortMounts?: boolean;
  /**
   * Share the host's PID namespace.
   * @default false
   */
  readonly hostPid?: boolean;
  /**
   * Host files the pod needs, written into the node's bundle in this order (those with a `volume` are
   * mounted, after `volumes`).
   * @default []
   */
  readonly files?: readonly PodFile[];
}
