import { createHash } from 'node:crypto';
import { ApiObject, Lazy } from 'cdk8s';
import type * as Plus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { InputError, SpecError } from '../spec/errors';
import { HostPathMount, PodDescription, ProbeTarget } from '../components/pod';
import { ExtraVolume } from '../spec/types';
import { LIBRARY_VERSION, VERSION_ANNOTATION } from '../version';
import { HostFile } from './host-file';
import { hasBrand, setBrand } from '../util/brand';

/** Marks a StaticPod (and its subclasses), also one of another copy of this package. */
const STATIC_POD = Symbol.for('cdk8s-ha-control-plane.StaticPod');

export { HostPathMount, PodDescription, PodFile, ProbeTarget } from '../components/pod';

/** Where static pod manifests live on a node (the kubelet's staticPodPath under kubeadm). */
export const MANIFESTS_DIR = 'etc/kubernetes/manifests';

/** kubeadm's probe timings: initialDelaySeconds, timeoutSeconds, failureThreshold, periodSeconds. */
const PROBE_TIMINGS = {
  liveness: { initialDelaySeconds: 10, timeoutSeconds: 15, failureThreshold: 8, periodSeconds: 10 },
  readiness: { initialDelaySeconds: 0, timeoutSeconds: 15, failureThreshold: 3, periodSeconds: 1 },
  startup: { initialDelaySeconds: 10, timeoutSeconds: 15, failureThreshold: 24, periodSeconds: 10 },
} as const;

/** Annotation holding a checksum of every host file a pod mounts: a changed file changes the manifest, so the kubelet restarts the pod. */
export const CONFIG_CHECKSUM_ANNOTATION = 'ha-control-plane.io/config-checksum';

/** The name kubeadm (≥ 1.34) gives the container port its probes use. */
export const PROBE_PORT_NAME = 'probe-port';

/** Props of a static pod: its whole description, as the component functions of lib/components return it. */
export type StaticPodProps = PodDescription;

/**
 * The shared static-pod base: everything control-plane pods have in common, as kubeadm's ComponentPod —
 * hostNetwork, priority 2000001000 / system-node-critical, RuntimeDefault seccomp, component/tier labels,
 * IfNotPresent pulls, kubeadm's probe timings, volumes and mounts sorted by name, `status: {}`.
 *
 * Rendered as a cdk8s `ApiObject` (v1 Pod) holding the manifest's own JSON, so what a component gives
 * is what the kubelet reads (cdk8s-plus-27's generated `KubePod` maps property names and class values
 * on the way out and dropped plain strings where it expects a Quantity: an emptyDir's sizeLimit, a
 * resourceFieldRef's divisor); its types still describe the typed props (securityContext,
 * initContainers). Rendering is lazy, so volumes and files added after construction (`mountHostFile`)
 * still land.
 */
export class StaticPod extends Construct {
  /** True for a {@link StaticPod} (Etcd, KubeApiServer, Keepalived ... included) of any copy of this package. */
  public static isStaticPod(x: unknown): x is StaticPod {
    return hasBrand(x, STATIC_POD);
  }

  /** Pod (and file) name. */
  public readonly podName: string;
  /** The rendered API object. */
  public readonly apiObject: ApiObject;
  /** Path of the manifest relative to the node's root. */
  public readonly manifestPath: string;
  /** The host files of its description (`files`), in that order. */
  public readonly files: readonly HostFile[];

  private readonly volumes: HostPathMount[] = [];
  private readonly extraVolumes: readonly ExtraVolume[];
  private readonly specPath: string;
  private readonly mountedFiles: HostFile[] = [];
  private readonly creationTimestampNull: boolean;

  constructor(scope: Construct, id: string, props: StaticPodProps) {
    super(scope, id);
    setBrand(this, STATIC_POD);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(props.name)) {
      throw new InputError(`StaticPod name ${JSON.stringify(props.name)} is not a DNS label (fix: use lower-case letters, digits and "-")`);
    }
    this.podName = props.name;
    this.manifestPath = `${MANIFESTS_DIR}/${props.name}.yaml`;
    this.extraVolumes = props.extraVolumes ?? [];
    this.specPath = props.specPath ?? props.name;
    for (const v of props.volumes ?? []) this.addVolume(v);

    const probes = props.probes ?? {};
    const probePort = probes.liveness?.port ?? probes.readiness?.port ?? probes.startup?.port;
    const portRef = (port: number): number | string => (props.namedProbePort ? PROBE_PORT_NAME : port);
    const probe = (kind: keyof typeof PROBE_TIMINGS, t?: ProbeTarget): object | undefined => {
      if (!t) return undefined;
      const { initialDelaySeconds, ...rest } = PROBE_TIMINGS[kind];
      return {
        httpGet: { host: t.host, path: t.path, port: portRef(t.port), scheme: t.scheme },
        ...(initialDelaySeconds ? { initialDelaySeconds } : {}),
        ...rest,
      };
    };
    const requests: Record<string, string> = {};
    if (props.requests?.cpu) requests.cpu = props.requests.cpu;
    if (props.requests?.memory) requests.memory = props.requests.memory;

    const extraVolumes = this.extraVolumes;
    this.apiObject = new ApiObject(this, 'Pod', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: props.name,
        namespace: props.namespace ?? 'kube-system',
        labels: { ...(props.labels ?? { component: props.name, tier: 'control-plane' }) },
        annotations: { ...props.annotations, [VERSION_ANNOTATION]: LIBRARY_VERSION },
      },
      spec: {
        hostNetwork: true,
        hostPID: props.hostPid || undefined,
        priority: 2000001000,
        priorityClassName: 'system-node-critical',
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        initContainers: props.initContainers?.length ? props.initContainers.map(containerJson) : undefined,
        containers: [{
          name: props.name,
          image: props.image,
          imagePullPolicy: 'IfNotPresent',
          command: [...props.command],
          env: props.env?.length ? [...props.env] : undefined,
          ports: props.namedProbePort && probePort !== undefined
            ? [{ name: PROBE_PORT_NAME, containerPort: probePort, protocol: 'TCP' }] : undefined,
          livenessProbe: probe('liveness', probes.liveness),
          readinessProbe: probe('readiness', probes.readiness),
          startupProbe: probe('startup', probes.startup),
          resources: Object.keys(requests).length ? { requests } : undefined,
          securityContext: props.securityContext,
          volumeMounts: Lazy.any({ produce: () => this.renderMounts(extraVolumes, props.sortMounts ?? true) }),
        }],
        volumes: Lazy.any({ produce: () => this.renderVolumes(extraVolumes) }),
      },
    });
    this.creationTimestampNull = props.creationTimestampNull ?? false;
    this.files = (props.files ?? []).map((f) => {
      const file = new HostFile(this, `file${f.path.replace(/\//g, '-')}`, { path: f.path, content: f.content, mode: f.mode });
      if (f.volume !== undefined) this.mountHostFile(f.volume, file);
      return file;
    });
  }

  /**
   * Adds a hostPath volume and its mount; volume names and mount paths must stay unique in the pod.
   * A clash with one of the user's extra volumes is a spec error naming that volume's field.
   */
  public addVolume(mount: HostPathMount): void {
    const mountPath = mount.mountPath ?? mount.hostPath;
    const own = this.volumes.find((v) => v.name === mount.name || (v.mountPath ?? v.hostPath) === mountPath);
    if (own) {
      throw new InputError(`${this.podName}: volume ${JSON.stringify(mount.name)} at ${JSON.stringify(mountPath)} clashes with volume ${JSON.stringify(own.name)} (fix: give it another name and mount path)`);
    }
    const i = this.extraVolumes.findIndex((v) => v.name === mount.name || v.mountPath === mountPath);
    if (i >= 0) {
      const v = this.extraVolumes[i];
      const field = v.name === mount.name ? 'name' : 'mountPath';
      throw new SpecError([{
        path: `${this.specPath}.extraVolumes[${i}].${field}`,
        value: v[field],
        problem: `is already used by ${this.podName}'s own volume ${JSON.stringify(mount.name)} (${mountPath})`,
        fix: `choose another ${field === 'name' ? 'volume name' : 'mount path'}`,
      }]);
    }
    this.volumes.push(mount);
  }

  /**
   * Mounts a host file read-only with hostPath type `File` (a missing file fails the pod instead of being
   * created empty) and records its checksum in an annotation, so changing the file rolls the pod.
   */
  public mountHostFile(volumeName: string, file: HostFile, mountPath?: string): void {
    this.addVolume({ name: volumeName, hostPath: file.absolutePath, mountPath, type: 'File', readOnly: true });
    this.mountedFiles.push(file);
    const hash = createHash('sha256');
    for (const f of [...this.mountedFiles].sort((a, b) => (a.absolutePath < b.absolutePath ? -1 : 1))) {
      hash.update(`${f.absolutePath}\0${f.content}\0`);
    }
    this.addAnnotation(CONFIG_CHECKSUM_ANNOTATION, `sha256:${hash.digest('hex')}`);
  }

  /**
   * The manifest as the kubelet reads it: the resolved Pod plus what kubeadm writes that cdk8s drops
   * while resolving (empty objects and nulls): `status: {}` and, before 1.34, `creationTimestamp: null`.
   */
  public toManifest(): Record<string, unknown> {
    const json = this.apiObject.toJson();
    const metadata = this.creationTimestampNull ? { ...json.metadata, creationTimestamp: null } : json.metadata;
    return { ...json, metadata, status: {} };
  }

  /** Adds (or replaces) an annotation. */
  public addAnnotation(key: string, value: string): void {
    this.apiObject.metadata.addAnnotation(key, value);
  }

  private renderVolumes(extra: readonly ExtraVolume[]): VolumeJson[] | undefined {
    const vols: VolumeJson[] = [
      ...this.volumes.map((v) => ({ name: v.name, hostPath: { path: v.hostPath, type: v.type } })),
      ...extra.map((v): VolumeJson => (v.emptyDir
        ? { name: v.name, emptyDir: { medium: v.emptyDir.medium, sizeLimit: v.emptyDir.sizeLimit } }
        : { name: v.name, hostPath: { path: v.hostPath!, type: v.pathType ?? 'DirectoryOrCreate' } })),
    ];
    return vols.length ? vols.sort(byName) : undefined;
  }

  private renderMounts(extra: readonly ExtraVolume[], sort: boolean): VolumeMountJson[] | undefined {
    const mounts: VolumeMountJson[] = [
      ...this.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath ?? v.hostPath, readOnly: v.readOnly || undefined })),
      ...extra.map((v) => ({ name: v.name, mountPath: v.mountPath, readOnly: v.readOnly || undefined })),
    ];
    if (sort) mounts.sort(byName);
    return mounts.length ? mounts : undefined;
  }
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A volume as the manifest holds it (hostPath or emptyDir: what a static pod can use). */
interface VolumeJson {
  readonly name: string;
  readonly hostPath?: { readonly path: string; readonly type?: string };
  readonly emptyDir?: { readonly medium?: string; readonly sizeLimit?: string };
}

/** A volume mount as the manifest holds it. */
interface VolumeMountJson {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

/**
 * A typed init container (cdk8s-plus-27's `k8s.Container`) as the manifest holds it, through that
 * package's own converter (loaded only for a pod that has init containers: the whole package takes as
 * long to load as the rest of a synth).
 */
function containerJson(c: Plus.k8s.Container): unknown {
  const plus = require('cdk8s-plus-27') as typeof Plus;
  return plus.k8s.toJson_Container(c);
}
