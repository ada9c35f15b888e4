import { ClusterSpec, LoadBalancerType } from '../spec/types';
import { ipFamily, loopbackFor, urlHost } from '../util/net';
import { LB_IMAGES, SPEC_DEFAULTS as D } from './defaults';

export { LB_IMAGES };

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

/** A proxy type (the TCP proxies the LB tier and the worker proxy can run). */
export type ProxyType = 'haproxy' | 'nginx';

/** Every load-balancer type, with what it puts behind the VIP (a Record: a new type must be listed here). */
export const LOAD_BALANCER_TYPES: Readonly<Record<LoadBalancerType, string>> = {
  'haproxy': 'haproxy on every LB node, behind the keepalived VIP',
  'nginx': 'nginx on every LB node, behind the keepalived VIP',
  'lvs-dr': 'keepalived IPVS direct routing on dedicated hosts',
  'vip-only': 'the keepalived VIP straight on the masters\' API servers, no proxy',
};

/** True for a load-balancer type (untrusted input). */
export function isLoadBalancerType(v: unknown): v is LoadBalancerType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(LOAD_BALANCER_TYPES, v);
}

/** For exhaustive switches: a type the switch forgot does not compile. */
export function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}

/**
 * The TCP proxy a load-balancer type runs beside keepalived on every LB node: haproxy or nginx; none
 * for lvs-dr (the kernel's IPVS forwards) and vip-only (clients reach the VIP holder's API server).
 */
export function proxyOf(type: LoadBalancerType): ProxyType | undefined {
  switch (type) {
    case 'haproxy':
    case 'nginx':
      return type;
    case 'lvs-dr':
    case 'vip-only':
      return undefined;
    default:
      return assertNever(type, 'loadBalancer.type');
  }
}

/** keepalived's checks run in whole seconds (vrrp_script interval, LVS delay_loop): the interval rounded, at least 1. */
export function checkIntervalSeconds(check: HealthCheck): number {
  return Math.max(1, Math.round(check.intervalMs / 1000));
}

/** One API server as a backend. */
export interface Backend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** Active health checks of the API servers. */
export interface HealthCheck {
  readonly path: string;
  readonly intervalMs: number;
  readonly fall: number;
  readonly rise: number;
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
