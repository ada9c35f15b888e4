import { Backend, HealthCheck } from '../proxies/proxy';
import { PROXY_TYPE_NAMES, PROXY_TYPES, ProxyType, SameKeys } from '../proxies/registry';
import { ClusterSpec, LoadBalancerType } from '../spec/types';
import { ipFamily, loopbackFor, urlHost } from '../util/net';
import { LB_IMAGES, SPEC_DEFAULTS as D } from './defaults';

export { LB_IMAGES };
export type { Backend, HealthCheck } from '../proxies/proxy';
export type { ProxyType } from '../proxies/registry';

/** Settings of the LB/VIP tier that the spec does not expose (the spec's defaults are SPEC_DEFAULTS). */
export const LB_DEFAULTS = {
  /**
   * vip-only: seconds keepalived waits after kube-apiserver's process reappears before it counts it up, so
   * a restart by the kubelet does not pull the VIP back to an API server that is still starting.
   */
  apiServerTrackForkDelaySeconds: 3,
  /**
   * haproxy/nginx: keepalived's check of the node's own proxy, every second (keepalived 2.2 scripts run at
   * whole seconds), 2 failures to fail and 2 successes to recover; its process tracking acts at once.
   */
  proxyCheck: { intervalSeconds: 1, fall: 2, rise: 2 },
  /** How much sooner than keepalived's script timeout the check's curl gives up, so curl reports the failure. */
  checkScriptHeadroomSeconds: 0.2,
} as const;

/**
 * How a load-balancer type gets clients to the API servers: a TCP proxy beside keepalived on every LB
 * node (one load-balancer type per proxy type), IPVS direct routing, or the VIP alone.
 */
export type LoadBalancerKind = 'keepalived+proxy' | 'lvs-dr' | 'vip-only';

/** What the plan, the pods and keepalived need to know about a load-balancer type. */
export interface LoadBalancerTypeRecord {
  /** What it puts behind the VIP. */
  readonly description: string;
  readonly kind: LoadBalancerKind;
  /** The TCP proxy beside keepalived on every LB node; none for lvs-dr (the kernel's IPVS forwards) and vip-only. */
  readonly proxy?: ProxyType;
  /**
   * Every master holds the VIP on loopback: behind LVS direct routing, where the director forwards
   * packets for the VIP unchanged. Not with a proxy (it connects to the masters' own addresses) nor with
   * vip-only (keepalived puts the VIP on the holder's interface).
   */
  readonly vipOnMasterLoopback: boolean;
}

const LB_TYPE_RECORDS = {
  ...Object.fromEntries(PROXY_TYPE_NAMES.map((proxy) => [proxy, {
    description: PROXY_TYPES[proxy].description, kind: 'keepalived+proxy', proxy, vipOnMasterLoopback: false,
  } satisfies LoadBalancerTypeRecord])) as Record<ProxyType, LoadBalancerTypeRecord>,
  'lvs-dr': { description: 'keepalived IPVS direct routing on dedicated hosts', kind: 'lvs-dr', vipOnMasterLoopback: true },
  'vip-only': { description: 'the keepalived VIP straight on the masters\' API servers, no proxy', kind: 'vip-only', vipOnMasterLoopback: false },
} as const satisfies Readonly<Record<ProxyType | 'lvs-dr' | 'vip-only', LoadBalancerTypeRecord>>;

/** Every load-balancer type: one per proxy type (lib/proxies/registry.ts), then lvs-dr and vip-only. */
export const LOAD_BALANCER_TYPES: Readonly<Record<keyof typeof LB_TYPE_RECORDS, LoadBalancerTypeRecord>> = LB_TYPE_RECORDS;

/**
 * Compile-time check: `loadBalancer.type` in lib/spec/types.ts stays a literal union (the JSON Schema
 * generator turns it into the enum) and names exactly the load-balancer types above.
 */
const loadBalancerTypesMatch: SameKeys<LoadBalancerType, keyof typeof LOAD_BALANCER_TYPES> = true;
void loadBalancerTypesMatch;

/** For exhaustive switches: a type the switch forgot does not compile. */
export function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}

/**
 * The TCP proxy a load-balancer type runs beside keepalived on every LB node; none for lvs-dr (the
 * kernel's IPVS forwards) and vip-only (clients reach the VIP holder's API server).
 */
export function proxyOf(type: LoadBalancerType): ProxyType | undefined {
  return LOAD_BALANCER_TYPES[type].proxy;
}

/** keepalived's checks run in whole seconds (vrrp_script interval, LVS delay_loop): the interval rounded, at least 1. */
export function checkIntervalSeconds(check: HealthCheck): number {
  return Math.max(1, Math.round(check.intervalMs / 1000));
}

/** One node of the VRRP group. */
export interface VrrpNode {
  readonly name: string;
  readonly address: string;
  readonly priority: number;
}

/** keepalived settings, resolved. */
export interface KeepalivedPlan {
  readonly image: string;
  readonly interface: string;
  readonly virtualRouterId: number;
  readonly vrrpVersion: 2 | 3;
  readonly advertIntervalMs: number;
  readonly peering: 'unicast' | 'multicast';
  readonly vipPrefixLength: number;
  readonly authPass?: string;
  readonly nodes: readonly VrrpNode[];
  /**
   * Weight of the load-balancer health script: larger than the whole priority range, so a node whose load
   * balancer fails ranks below every healthy node (with a weight no larger than the gap, a master with a
   * dead LB kept the VIP: reproduced 3 of 3 times).
   */
  readonly scriptWeight: number;
}

/** The load-balancing tier, resolved. */
export interface LoadBalancerPlan {
  readonly type: LoadBalancerType;
  /** Where keepalived and the proxy run (vip-only: always the masters). */
  readonly placement: 'masters' | 'hosts';
  /** The address keepalived holds: `loadBalancer.vip`, else the endpoint host. */
  readonly vip: string;
  /** The port clients use on the VIP (lvs-dr and vip-only: the API server's bindPort). */
  readonly port: number;
  /** The proxy (haproxy/nginx) and its image; undefined for lvs-dr and vip-only, which run none. */
  readonly proxy?: { readonly type: ProxyType; readonly image: string };
  readonly backends: readonly Backend[];
  readonly check: HealthCheck;
  readonly idleTimeoutSeconds: number;
  readonly keepalived: KeepalivedPlan;
}

/** The per-worker local proxy, resolved. */
export interface WorkerProxyPlan {
  readonly type: ProxyType;
  readonly port: number;
  readonly image: string;
  /** Addresses it listens on: 127.0.0.1 and ::1. */
  readonly listen: readonly string[];
  readonly backends: readonly Backend[];
  readonly check: HealthCheck;
  /** Idle timeout of a proxied connection, seconds (the load balancer's). */
  readonly idleTimeoutSeconds: number;
  /** The server URL workers' kubeconfigs (kubelet, kube-proxy) should use. */
  readonly serverUrl: string;
  readonly workers: readonly { readonly name: string; readonly address: string }[];
}

/** Default VRRP priorities for n nodes, highest first (SPEC_DEFAULTS.KeepalivedSpec.priorities). */
export function defaultPriorities(n: number): number[] {
  return D.KeepalivedSpec.priorities.of(n);
}

/** Resolves the LB/VIP tier of a validated spec (undefined without `loadBalancer`). */
export function planLoadBalancer(spec: ClusterSpec, bindPort: number): LoadBalancerPlan | undefined {
  const lb = spec.loadBalancer;
  if (!lb) return undefined;
  const type = lb.type ?? D.LoadBalancerSpec.type;
  const ka = spec.keepalived ?? {};
  const hosts = spec.loadBalancers ?? D.ClusterSpec.loadBalancers;
  const vrrpHosts = hosts.length > 0 ? hosts : spec.masters;
  const priorities = ka.priorities ?? defaultPriorities(vrrpHosts.length);
  const vrrpVersion = ka.vrrpVersion ?? D.KeepalivedSpec.vrrpVersion;
  const vip = lb.vip ?? spec.controlPlaneEndpoint.host;
  const proxy = proxyOf(type);
  return {
    type,
    placement: hosts.length > 0 ? 'hosts' : 'masters',
    vip,
    port: spec.controlPlaneEndpoint.port ?? D.EndpointSpec.port,
    proxy: proxy && { type: proxy, image: lb.image ?? D.LoadBalancerSpec.image.of(proxy) },
    backends: backendsOf(spec, bindPort),
    check: checkOf(spec),
    idleTimeoutSeconds: lb.idleTimeoutSeconds ?? D.LoadBalancerSpec.idleTimeoutSeconds,
    keepalived: {
      image: ka.image ?? D.KeepalivedSpec.image,
      interface: ka.interface ?? D.KeepalivedSpec.interface,
      virtualRouterId: ka.virtualRouterId ?? D.KeepalivedSpec.virtualRouterId,
      vrrpVersion,
      advertIntervalMs: ka.advertIntervalMs ?? D.KeepalivedSpec.advertIntervalMs.of(vrrpVersion),
      peering: ka.peering ?? D.KeepalivedSpec.peering,
      vipPrefixLength: ka.vipPrefixLength ?? D.KeepalivedSpec.vipPrefixLength.of(ipFamily(vip) === 6 ? 6 : 4),
      authPass: ka.authPass,
      nodes: vrrpHosts.map((h, i) => ({ name: h.name, address: h.address, priority: priorities[i] })),
      scriptWeight: Math.max(...priorities) - Math.min(...priorities) + 10,
    },
  };
}

/** Resolves the worker proxy (undefined without `workerProxy` or without workers). */
export function planWorkerProxy(spec: ClusterSpec, bindPort: number): WorkerProxyPlan | undefined {
  const wp = spec.workerProxy;
  if (!wp || !spec.workers?.length) return undefined;
  const type = wp.type ?? D.WorkerProxySpec.type;
  const port = wp.port ?? D.WorkerProxySpec.port;
  return {
    type,
    port,
    image: wp.image ?? D.WorkerProxySpec.image.of(type),
    listen: ['127.0.0.1', '::1'],
    backends: backendsOf(spec, bindPort),
    check: checkOf(spec),
    idleTimeoutSeconds: spec.loadBalancer?.idleTimeoutSeconds ?? D.LoadBalancerSpec.idleTimeoutSeconds,
    serverUrl: `https://localhost:${port}`,
    workers: spec.workers,
  };
}

function backendsOf(spec: ClusterSpec, bindPort: number): Backend[] {
  return spec.masters.map((m) => ({ name: m.name, address: m.address, port: bindPort }));
}

function checkOf(spec: ClusterSpec): HealthCheck {
  const lb = spec.loadBalancer ?? {};
  return {
    path: lb.healthCheckPath ?? D.LoadBalancerSpec.healthCheckPath,
    intervalMs: lb.checkIntervalMs ?? D.LoadBalancerSpec.checkIntervalMs,
    fall: lb.fall ?? D.LoadBalancerSpec.fall,
    rise: lb.rise ?? D.LoadBalancerSpec.rise,
  };
}

/** `https://<loopback>:<port><path>` on a node itself (its load balancer's /healthz, or its API server), for keepalived's check script. */
export function localUrl(nodeAddress: string, port: number, path = '/healthz'): string {
  return `https://${urlHost(loopbackFor(nodeAddress))}:${port}${path}`;
}
