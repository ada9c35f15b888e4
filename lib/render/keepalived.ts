import { Backend, checkIntervalSeconds, HealthCheck, KeepalivedPlan, VrrpNode } from '../plan/lb-plan';
import { ipFamily } from '../util/net';
import { generatedBy } from '../proxies/proxy';

/** A vrrp_script keepalived runs to check this node's own load balancer, or (vip-only) its own API server. */
export interface KeepalivedScriptCheck {
  /** vrrp_script name, e.g. chk_load_balancer. */
  readonly name: string;
  /** Path of the script on the host. */
  readonly script: string;
  /** Whole seconds (keepalived 2.2 rejects fractional script intervals); also the script's timeout. */
  readonly intervalSeconds: number;
  readonly fall: number;
  readonly rise: number;
  /** Start in the failed state, so a node does not claim the VIP before its first good check. */
  readonly initFail: boolean;
}

/** A process keepalived follows: the node goes to FAULT the moment it is gone (needs hostPID). */
export interface KeepalivedTrackedProcess {
  /** vrrp_track_process name, e.g. track_load_balancer. */
  readonly name: string;
  /** Process name as in /proc/<pid>/status (at most 15 characters). */
  readonly process: string;
  /** Seconds a reappeared process must run before it counts as up (a restart then does not bounce the VIP). */
  readonly forkDelaySeconds?: number;
}

/** keepalived.conf inputs for one node. */
export interface KeepalivedConfig {
  readonly plan: KeepalivedPlan;
  /** This node. */
  readonly self: VrrpNode;
  readonly vip: string;
  /** Proxy and vip-only modes: the script that checks the node's own load balancer or API server. */
  readonly check?: KeepalivedScriptCheck;
  /** Proxy and vip-only modes: the load balancer or API server process (FAULT as soon as it is gone). */
  readonly trackProcess?: KeepalivedTrackedProcess;
  /** LVS direct-routing mode: the virtual server and its real servers. */
  readonly virtualServer?: { readonly port: number; readonly backends: readonly Backend[]; readonly check: HealthCheck };
}

/**
 * keepalived.conf for one node of the VRRP group (keepalived ≥ 2.0 syntax; checked with `keepalived -t`
 * 2.2.7 in the tests). Rules learned in real runs, enforced by the plan and the validation:
 * - the check script's weight exceeds the whole priority range, so a node whose load balancer (vip-only:
 *   API server) fails drops below every healthy node;
 * - `track_process` (weight 0) puts the node in FAULT the moment the load balancer (vip-only: API
 *   server) process is gone:
 *   a priority-0 advert makes a backup take over at once, instead of waiting `interval × fall` of the
 *   whole-second script (keepalived 2.2 rejects fractional script intervals); it needs hostPID;
 * - VRRPv3 for sub-second adverts and IPv6, and no `authentication` with it; VRRPv2 adverts are whole seconds;
 * - unicast peers unless multicast is asked for.
 */
export function renderKeepalived(cfg: KeepalivedConfig): string {
  const { plan, self } = cfg;
  const highest = Math.max(...plan.nodes.map((n) => n.priority));
  const peers = plan.nodes.filter((n) => n.name !== self.name);
  const instance = `VI_${plan.virtualRouterId}`;
  const lines = [
    generatedBy('keepalived.conf'),
    'global_defs {',
    `  router_id ${self.name}`,
    `  vrrp_version ${plan.vrrpVersion}`,
    '  enable_script_security',
    '  script_user root',
    '  vrrp_garp_master_refresh 60',
    '}',
    '',
  ];
  const { check, trackProcess } = cfg;
  if (check) {
    lines.push(
      `vrrp_script ${check.name} {`,
      `  script "${check.script}"`,
      `  interval ${check.intervalSeconds}`,
      `  timeout ${check.intervalSeconds}`,
      `  fall ${check.fall}`,
      `  rise ${check.rise}`,
      `  weight -${plan.scriptWeight}`,
      ...(check.initFail ? ['  init_fail'] : []),
      '}',
      '',
    );
  }
  if (trackProcess) {
    lines.push(
      `vrrp_track_process ${trackProcess.name} {`,
      `  process ${trackProcess.process}`,
      '  quorum 1',
      '  weight 0',
      ...(trackProcess.forkDelaySeconds !== undefined ? [`  fork_delay ${trackProcess.forkDelaySeconds}`] : []),
      '}',
      '',
    );
  }
  lines.push(
    `vrrp_instance ${instance} {`,
    `  state ${self.priority === highest ? 'MASTER' : 'BACKUP'}`,
    `  interface ${plan.interface}`,
    `  virtual_router_id ${plan.virtualRouterId}`,
    `  priority ${self.priority}`,
    `  advert_int ${plan.advertIntervalMs / 1000}`,
  );
  if (plan.peering === 'unicast') {
    lines.push(`  unicast_src_ip ${self.address}`, '  unicast_peer {', ...peers.map((p) => `    ${p.address}`), '  }');
  }
  if (plan.authPass !== undefined) {
    lines.push('  authentication {', '    auth_type PASS', `    auth_pass ${plan.authPass}`, '  }');
  }
  lines.push('  virtual_ipaddress {', `    ${cfg.vip}/${plan.vipPrefixLength} dev ${plan.interface}`, '  }');
  if (check) lines.push('  track_script {', `    ${check.name}`, '  }');
  if (trackProcess) lines.push('  track_process {', `    ${trackProcess.name}`, '  }');
  lines.push('}', '');
  if (cfg.virtualServer) lines.push(...renderVirtualServer(cfg.vip, cfg.virtualServer));
  return lines.join('\n');
}

/** IPVS direct routing to every API server, with HTTPS checks of the health path about every second. */
function renderVirtualServer(vip: string, vs: NonNullable<KeepalivedConfig['virtualServer']>): string[] {
  const seconds = checkIntervalSeconds(vs.check);
  return [
    `virtual_server ${vip} ${vs.port} {`,
    `  delay_loop ${seconds}`,
    '  lb_algo rr',
    '  lb_kind DR',
    '  protocol TCP',
    ...vs.backends.flatMap((b) => [
      `  real_server ${b.address} ${b.port} {`,
      '    weight 1',
      '    SSL_GET {',
      '      url {',
      `        path ${vs.check.path}`,
      '        status_code 200',
      '      }',
      '      connect_timeout 1',
      `      retry ${Math.max(0, vs.check.fall - 1)}`,
      '      delay_before_retry 1',
      '    }',
      '  }',
    ]),
    '}',
    '',
  ];
}

/**
 * The check script keepalived runs: does this node's own load balancer (proxy mode) or API server
 * (vip-only) answer `url`? curl gives up after `maxTimeSeconds`, inside keepalived's script timeout.
 */
export function renderCheckScript(url: string, target: 'load balancer' | 'API server', maxTimeSeconds: number): string {
  return [
    '#!/bin/sh',
    `# keepalived check: succeeds while this node's own ${target} answers. Generated by`,
    '# cdk8s-ha-control-plane; a failure lowers this node\'s VRRP priority below every healthy node.',
    `exec curl --silent --fail --insecure --max-time ${maxTimeSeconds} --output /dev/null ${url}`,
    '',
  ].join('\n');
}

/** sysctl settings of a master that holds the VIP on loopback for LVS direct routing. */
export function renderDrSysctl(vip: string, nic: string): string {
  const lines = ['# LVS direct routing: this host holds the VIP on lo and must not answer ARP for it.'];
  if (ipFamily(vip) === 4) {
    for (const dev of ['all', nic]) lines.push(`net.ipv4.conf.${dev}.arp_ignore = 1`, `net.ipv4.conf.${dev}.arp_announce = 2`);
  }
  return `${lines.join('\n')}\n`;
}
