import { InputError } from '../util/input-error';
import { LB_IMAGES } from '../plan/lb-plan';
import { ClusterPlan } from '../plan/plan';
import { renderDrSysctl } from '../render/keepalived';
import { ipFamily } from '../util/net';
import { PodDescription } from './pod';

/** Where the arp sysctls are kept for boot. */
export const DR_SYSCTL_PATH = '/etc/sysctl.d/90-ha-control-plane-lvs-dr.conf';

/**
 * A master behind LVS direct routing answers clients for the VIP itself, so it must hold the VIP on lo
 * without answering ARP for it. A privileged init container adds the address (idempotently) and sets
 * arp_ignore=1 / arp_announce=2 (pods cannot set net.* sysctls with hostNetwork, and /proc/sys is
 * read-only unless privileged); the pause container keeps the pod alive. The same sysctls go into
 * /etc/sysctl.d for boot. Removing the pod does not remove the address.
 */
export function lvsDrVipPod(plan: ClusterPlan): PodDescription {
  const lb = plan.loadBalancer;
  if (!lb) throw new InputError('LvsDrVip needs a plan with a loadBalancer (fix: set loadBalancer.type: lvs-dr in the spec, or do not add LvsDrVip)');
  const v6 = ipFamily(lb.vip) === 6;
  const cidr = `${lb.vip}/${v6 ? 128 : 32}`;
  const nic = lb.keepalived.interface;
  const sysctls = v6 ? [] : ['all', nic].flatMap((d) => [`net.ipv4.conf.${d}.arp_ignore=1`, `net.ipv4.conf.${d}.arp_announce=2`]);
  const script = [
    'set -e',
    ...sysctls.map((s) => `sysctl -w ${s}`),
    `ip ${v6 ? '-6 ' : ''}addr show dev lo | grep -q ' ${cidr} ' || ip ${v6 ? '-6 ' : ''}addr add ${cidr} dev lo`,
  ].join('\n');
  return {
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
    files: [{ path: DR_SYSCTL_PATH, content: renderDrSysctl(lb.vip, nic), mode: 0o644 }],
  };
}
