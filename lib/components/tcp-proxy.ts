import { LoadBalancerPlan, WorkerProxyPlan } from '../plan/lb-plan';
import { ProxyConfig } from '../proxies/proxy';
import { PROXY_TYPES, ProxyType } from '../proxies/registry';
import { PodDescription } from './pod';

/** What a TCP proxy pod proxies, and as what. */
export interface TcpProxyOptions {
  /** A proxy type of lib/proxies/registry.ts: `haproxy` or `nginx`. */
  readonly type: ProxyType;
  /** Container image. */
  readonly image: string;
  /** What to proxy. */
  readonly config: ProxyConfig;
  /**
   * Pod and manifest name.
   * @default the type ("haproxy" / "nginx")
   */
  readonly name?: string;
  /**
   * Path of the config on the host (mounted read-only at the same path, hostPath type File).
   * @default the type's ("/etc/haproxy/haproxy.cfg", "/etc/nginx/nginx.conf")
   */
  readonly configPath?: string;
}

/**
 * haproxy or nginx in front of the API servers, with its config as a host file mounted with hostPath
 * type `File` (its checksum rolls the pod): on the masters or LB hosts behind the VIP, or on a worker as
 * a local proxy on loopback.
 */
export function tcpProxyPod(options: TcpProxyOptions): PodDescription {
  const proxy = PROXY_TYPES[options.type];
  const configPath = options.configPath ?? proxy.configPath;
  return {
    name: options.name ?? options.type,
    image: options.image,
    command: proxy.command(configPath),
    requests: { cpu: '25m', memory: '32Mi' },
    files: [{ path: configPath, content: proxy.render(options.config), mode: 0o644, volume: 'config' }],
  };
}

/** Where a worker's local proxy keeps its config. */
export const WORKER_PROXY_DIR = '/etc/kubernetes/kube-apiserver-proxy';

/**
 * The proxy in front of the API servers on a node of the LB tier (a master or a dedicated host),
 * listening on every address on the endpoint port; undefined for lvs-dr and vip-only (no proxy).
 */
export function loadBalancerProxy(lb: LoadBalancerPlan): TcpProxyOptions | undefined {
  if (!lb.proxy) return undefined;
  return {
    type: lb.proxy.type,
    image: lb.proxy.image,
    config: { listen: ['*'], port: lb.port, backends: lb.backends, check: lb.check, idleTimeoutSeconds: lb.idleTimeoutSeconds },
  };
}

/** The local proxy on a worker: `kube-apiserver-proxy`, on the addresses the plan gives, its config in WORKER_PROXY_DIR. */
export function workerProxy(wp: WorkerProxyPlan): TcpProxyOptions {
  return {
    type: wp.type,
    name: 'kube-apiserver-proxy',
    configPath: `${WORKER_PROXY_DIR}/${PROXY_TYPES[wp.type].configPath.split('/').pop()}`,
    image: wp.image,
    config: { listen: wp.listen, port: wp.port, backends: wp.backends, check: wp.check, idleTimeoutSeconds: wp.idleTimeoutSeconds },
  };
}
