import { Construct } from 'constructs';
import { ClusterPlan } from '../plan/plan';
import { ipFamily } from '../util/net';
import { LB_IMAGES } from '../plan/lb-plan';
import { renderDrSysctl } from '../render/keepalived';
import { HostFile } from './host-file';
import { StaticPod } from './static-pod';

/** Props of the loopback VIP pod of a master behind LVS direct routing. */
export interface LvsDrVipProps {
  /** The cluster plan (its loadBalancer is lvs-dr). */
  readonly plan: ClusterPlan;
}

/** Where the arp sysctls are kept for boot. */
export const DR_SYSCTL_PATH = '/etc/sysctl.d/90-ha-control-plane-lvs-dr.conf';

/**
 * A master behind LVS direct routing answers clients for the VIP itself, so it must hold the VIP on lo
 * without answering ARP for it. A privileged init container adds the address (idempotently) and sets
 * arp_ignore=1 / arp_announce=2 (pods cannot set net.* sysctls with hostNetwork, and /proc/sys is
 * read-only unless privileged); the pause container keeps the pod alive. The same sysctls go into
 * /etc/sysctl.d for boot. Removing the pod does not remove the address.
 */
export class LvsDrVip extends StaticPod {
  constructor(scope: Construct, id: string, props: LvsDrVipProps) {
    const { plan } = props;
    const lb = plan.loadBalancer!;
    const v6 = ipFamily(lb.vip) === 6;
    const cidr = `${lb.vip}/${v6 ? 128 : 32}`;
    const nic = lb.keepalived.interface;
    const sysctls = v6 ? [] : ['all', nic].flatMap((d) => [`net.ipv4.conf.${d}.arp_ignore=1`, `net.ipv4.conf.${d}.arp_announce=2`]);
    const script = [
      'set -e',
      ...sysctls.map((s) => `sysctl -w ${s}`),
      `ip ${v6 ? '-6 ' : ''}addr show dev lo | grep -q ' ${cidr} ' || ip ${v6 ? '-6 ' : ''}addr add ${cidr} dev lo`,
    ].join('\n');
    super(scope, id, {
      name: 'lvs-dr-vip',
      image: plan.pauseImage,
      command: ['/pause'],
      requests: { cpu: '5m', memory: '8Mi' },
      initContainers: [{
        name: 'bind-vip-on-loopback',
        image: LB_IMAGES.busybox,
        command: ['sh', '-c', script],
        securityContext: { privileged: true },
      }],
    });
    new HostFile(this, 'sysctl', { path: DR_SYSCTL_PATH, content: renderDrSysctl(lb.vip, nic), mode: 0o644 });
  }
}
