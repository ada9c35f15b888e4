import { Construct } from 'constructs';
import { LoadBalancerPlan, localLbUrl, VrrpNode } from '../plan/lb-plan';
import { renderCheckScript, renderKeepalived } from '../render/keepalived';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';

/** Props of keepalived on one LB node. */
export interface KeepalivedProps {
  /** The LB/VIP plan. */
  readonly lb: LoadBalancerPlan;
  /** This node of the VRRP group. */
  readonly node: VrrpNode;
}

/** Where keepalived's host files live. */
export const KEEPALIVED_DIR = '/etc/keepalived';

/**
 * keepalived holding the VIP: a static pod with NET_ADMIN, NET_BROADCAST and NET_RAW (nothing more) and
 * its host files — keepalived.conf and, in proxy mode, the check script (0755). In proxy mode it also
 * shares the host's PID namespace to track the load balancer process; in LVS direct-routing mode it
 * programs IPVS and checks every API server itself.
 */
export class Keepalived extends StaticPod {
  constructor(scope: Construct, id: string, props: KeepalivedProps) {
    const { lb, node } = props;
    const proxy = lb.type !== 'lvs-dr';
    super(scope, id, {
      name: 'keepalived',
      image: lb.keepalived.image,
      command: ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--use-file', `${KEEPALIVED_DIR}/keepalived.conf`],
      requests: { cpu: '10m', memory: '16Mi' },
      securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } },
      hostPid: proxy,
    });
    const scriptPath = `${KEEPALIVED_DIR}/check_apiserver.sh`;
    const conf = renderKeepalived({
      plan: lb.keepalived,
      self: node,
      vip: lb.vip,
      checkScript: proxy ? scriptPath : undefined,
      trackProcess: proxy ? lb.type : undefined,
      virtualServer: proxy ? undefined : { port: lb.port, backends: lb.backends, check: lb.check },
    });
    this.mountHostFile('config', new HostFile(this, 'config', { path: `${KEEPALIVED_DIR}/keepalived.conf`, content: conf, mode: 0o644 }));
    if (proxy) {
      const script = new HostFile(this, 'check', { path: scriptPath, content: renderCheckScript(localLbUrl(node.address, lb.port)), mode: 0o755 });
      this.mountHostFile('check-script', script);
    } else {
      // IPVS needs its modules; the directors load them at boot.
      new HostFile(this, 'modules', { path: '/etc/modules-load.d/ha-control-plane-ipvs.conf', content: 'ip_vs\nip_vs_rr\n', mode: 0o644 });
    }
  }
}
