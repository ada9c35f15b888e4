import { assertNever, checkIntervalSeconds, LB_DEFAULTS, LOAD_BALANCER_TYPES, LoadBalancerPlan, localUrl, VrrpNode } from '../plan/lb-plan';
import { PROXY_TYPES } from '../proxies/registry';
import { KeepalivedConfig, renderCheckScript, renderKeepalived } from '../render/keepalived';
import { PodDescription, PodFile } from './pod';

/** Where keepalived's host files live. */
export const KEEPALIVED_DIR = '/etc/keepalived';

/** Path of the check script (proxy and vip-only modes). */
const CHECK_SCRIPT = `${KEEPALIVED_DIR}/check_apiserver.sh`;

/** Where the IPVS modules of an LVS director are listed for boot. */
export const IPVS_MODULES_PATH = '/etc/modules-load.d/ha-control-plane-ipvs.conf';

/** What keepalived watches on one node, by load-balancer type. */
interface Watch {
  /** keepalived.conf's check script and tracked process, or LVS virtual server. */
  readonly config: Pick<KeepalivedConfig, 'check' | 'trackProcess' | 'virtualServer'>;
  /** The check script's content, when there is one. */
  readonly script?: string;
}

/**
 * What keepalived watches on one node, by the load-balancer type's kind: the local proxy (its /healthz
 * on the endpoint port and its process, named in the proxy type's record), every API server (lvs-dr:
 * IPVS real-server checks), or the local API server itself (vip-only: its health path on the bind port
 * over HTTPS, and the kube-apiserver process with a fork delay, so a kubelet restart does not pull the
 * VIP back to an API server that is still starting; the script starts failed, so no node claims the VIP
 * before its API server answers).
 */
function watchOf(lb: LoadBalancerPlan, node: VrrpNode): Watch {
  // curl gives up a little before keepalived's script timeout (the interval), so curl reports the failure.
  const maxTime = (seconds: number) => Math.round((seconds - LB_DEFAULTS.checkScriptHeadroomSeconds) * 10) / 10;
  const intervalSeconds = checkIntervalSeconds(lb.check);
  const kind = LOAD_BALANCER_TYPES[lb.type].kind;
  switch (kind) {
    case 'keepalived+proxy':
      if (!lb.proxy) throw new Error(`loadBalancer.type ${lb.type} runs a proxy, but the plan has none`);
      return {
        config: {
          check: { name: 'chk_load_balancer', script: CHECK_SCRIPT, ...LB_DEFAULTS.proxyCheck, initFail: false },
          trackProcess: { name: 'track_load_balancer', process: PROXY_TYPES[lb.proxy.type].process },
        },
        script: renderCheckScript(localUrl(node.address, lb.port), 'load balancer', maxTime(LB_DEFAULTS.proxyCheck.intervalSeconds)),
      };
    case 'lvs-dr':
      return { config: { virtualServer: { port: lb.port, backends: lb.backends, check: lb.check } } };
    case 'vip-only':
      return {
        config: {
          check: { name: 'chk_apiserver', script: CHECK_SCRIPT, intervalSeconds, fall: lb.check.fall, rise: lb.check.rise, initFail: true },
          trackProcess: { name: 'track_apiserver', process: 'kube-apiserver', forkDelaySeconds: LB_DEFAULTS.apiServerTrackForkDelaySeconds },
        },
        script: renderCheckScript(localUrl(node.address, lb.port, lb.check.path), 'API server', maxTime(intervalSeconds)),
      };
    default:
      return assertNever(kind, 'load-balancer kind');
  }
}

/**
 * keepalived holding the VIP on one node: NET_ADMIN, NET_BROADCAST and NET_RAW (nothing more), its
 * keepalived.conf and, in proxy and vip-only modes, the check script (0755), both mounted. In those modes
 * it also shares the host's PID namespace to track the load balancer or API server process; in LVS
 * direct-routing mode it programs IPVS and checks every API server itself (the IPVS modules load at boot).
 */
export function keepalivedPod(lb: LoadBalancerPlan, node: VrrpNode): PodDescription {
  const watch = watchOf(lb, node);
  const conf = renderKeepalived({ plan: lb.keepalived, self: node, vip: lb.vip, ...watch.config });
  const files: PodFile[] = [{ path: `${KEEPALIVED_DIR}/keepalived.conf`, content: conf, mode: 0o644, volume: 'config' }];
  if (watch.script !== undefined) files.push({ path: CHECK_SCRIPT, content: watch.script, mode: 0o755, volume: 'check-script' });
  if (watch.config.virtualServer) files.push({ path: IPVS_MODULES_PATH, content: 'ip_vs\nip_vs_rr\n', mode: 0o644 });
  return {
    name: 'keepalived',
    image: lb.keepalived.image,
    command: ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--use-file', `${KEEPALIVED_DIR}/keepalived.conf`],
    requests: { cpu: '10m', memory: '16Mi' },
    securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } },
    hostPid: watch.config.trackProcess !== undefined,
    files,
  };
}
