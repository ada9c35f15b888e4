import { SPEC_DEFAULTS as D } from './defaults';
import { cidrContains, formatCidr, ipFamily, ipToBigInt, isDnsSubdomain, parseCidr, sameIp } from '../util/net';
import { assertNever, defaultPriorities, LOAD_BALANCER_TYPES, proxyOf } from './lb-plan';
import { count, hasControlChar, isInt, Report } from './check';
import { ClusterSpec, EndpointSpec, LoadBalancerHostSpec } from '../spec/types';


/** The nodes a port can be opened on. */
type Role = 'master' | 'load-balancer host' | 'worker';

/**
 * TCP ports a node already listens on (kubeadm's defaults), by role: a load balancer or proxy that binds
 * one of them fails to start. The API server's port is apiServer.bindPort.
 */
export function portsInUse(role: Role, bindPort: number | undefined, stackedEtcd: boolean): Map<number, string> {
  const ports = new Map<number, string>([[22, 'sshd'], [10248, 'the kubelet\'s health check'], [10250, 'the kubelet']]);
  if (role !== 'load-balancer host') {
    ports.set(10249, 'kube-proxy\'s metrics');
    ports.set(10256, 'kube-proxy\'s health check');
  }
  if (role === 'master') {
    if (bindPort !== undefined) ports.set(bindPort, 'the API server (apiServer.bindPort)');
    ports.set(10257, 'kube-controller-manager');
    ports.set(10259, 'kube-scheduler');
    if (stackedEtcd) {
      ports.set(2379, 'etcd\'s clients');
      ports.set(2380, 'etcd\'s peers');
      ports.set(2381, 'etcd\'s metrics');
    }
  }
  return ports;
}

/**
 * Without loadBalancer, an endpoint IP that is no master's address is held by nothing in the spec: unless
 * the user says something else holds it (controlPlaneEndpoint.external), clients, kubeconfigs and joining
 * nodes would connect to an address no node answers on. A DNS name may list the masters: no warning.
 */
function checkUnheldEndpoint(warn: Report, ep: EndpointSpec, masterAddresses: ReadonlyMap<string, number>): void {
  const host = ep.host;
  if (ep.external === true || ipFamily(host) === 0 || [...masterAddresses.keys()].some((a) => sameIp(a, host))) return;
  warn('controlPlaneEndpoint.host', host, 'is an IP address no master has, and without loadBalancer nothing in this spec will hold this VIP: clients, kubeconfigs and joining nodes would reach no API server',
    'add loadBalancer: { type: "haproxy" } with keepalived.interface (and controlPlaneEndpoint.port other than apiServer.bindPort, e.g. 8443), or set controlPlaneEndpoint.external: true when your own load balancer holds it');
}

/**
 * Semantic checks of the load-balancing tier: VIP, keepalived rules learned in real runs, ports,
 * dedicated LB hosts and workers, of a spec that passed the schema check.
 */
export function checkLoadBalancing(err: Report, warn: Report, spec: ClusterSpec): void {
  const masters = spec.masters;
  const masterAddresses = new Map(masters.map((m, i) => [m.address, i]));
  const masterNames = new Map(masters.map((m, i) => [m.name, i]));

  const stacked = spec.etcd?.external === undefined;
  const bindPort = spec.apiServer?.bindPort ?? D.ApiServerSpec.bindPort;
  const bindUser = portsInUse('master', undefined, stacked).get(bindPort);
  if (bindUser) err('apiServer.bindPort', bindPort, `is the port of ${bindUser} on the masters, so the API server cannot listen on it`, `use a free port, e.g. ${D.ApiServerSpec.bindPort} (kubeadm's)`);

  checkHosts(err, 'workers', spec.workers, masterNames, masterAddresses);
  checkHosts(err, 'loadBalancers', spec.loadBalancers, masterNames, masterAddresses);
  if (spec.workerProxy !== undefined) {
    const wp = spec.workerProxy;
    if (wp.image !== undefined && (/\s/.test(wp.image) || hasControlChar(wp.image))) err('workerProxy.image', wp.image, 'is not an image reference', 'use e.g. "registry.example.com/nginx:1.30.6-alpine"');
    if (!spec.workers?.length) warn('workerProxy', wp, 'is set but there are no workers, so no worker bundle is written', 'list the workers under workers: [{ name, address }]');
    const port = wp.port ?? D.WorkerProxySpec.port;
    const user = portsInUse('worker', undefined, false).get(port);
    if (user) err('workerProxy.port', port, `is the port of ${user} on the workers, where the proxy listens on loopback`, `use a free port, e.g. ${D.WorkerProxySpec.port}`);
  } else if (spec.workers !== undefined && spec.workers.length > 0) {
    warn('workers', spec.workers.map((w) => w.name), `${spec.workers.length === 1 ? 'is' : 'are'} listed but workerProxy is not set, so ${spec.workers.length === 1 ? 'it gets' : 'they get'} no bundle and nothing uses ${spec.workers.length === 1 ? 'it' : 'them'}`, 'add workerProxy: { port: 6443 } for a local API proxy on every worker, or remove workers');
  }

  const lb = spec.loadBalancer;
  const lbHosts = spec.loadBalancers ?? [];
  const endpoint = spec.controlPlaneEndpoint;
  if (lb === undefined) {
    checkUnheldEndpoint(warn, endpoint, masterAddresses);
    if (spec.keepalived !== undefined) warn('keepalived', spec.keepalived, 'is ignored without loadBalancer', 'add loadBalancer: { type: "haproxy" } for the VIP in front of a load balancer, or loadBalancer: { type: "vip-only" } for the VIP alone on the masters\' API servers');
    if (lbHosts.length > 0) err('loadBalancers', lbHosts.length, 'are listed but loadBalancer is not set', 'add loadBalancer: { type: "haproxy" | "nginx" | "lvs-dr" }');
    return;
  }
  if (endpoint.external === true) {
    err('controlPlaneEndpoint.external', true, 'says a load balancer outside this spec holds the endpoint, but loadBalancer makes keepalived hold it on these nodes', 'remove controlPlaneEndpoint.external to use loadBalancer, or remove loadBalancer and keepalived when your own load balancer holds the endpoint');
  }
  const type = lb.type ?? D.LoadBalancerSpec.type;
  if (lb.checkIntervalMs !== undefined && !isInt(lb.checkIntervalMs, 100, 60000)) err('loadBalancer.checkIntervalMs', lb.checkIntervalMs, 'is not a check interval', 'use milliseconds from 100 to 60000, e.g. 500');
  for (const f of ['fall', 'rise'] as const) {
    if (lb[f] !== undefined && !isInt(lb[f], 1, 10)) err(`loadBalancer.${f}`, lb[f], 'is not a check count', 'use a whole number from 1 to 10');
  }
  if (lb.idleTimeoutSeconds !== undefined && !isInt(lb.idleTimeoutSeconds, 60, 86400)) {
    err('loadBalancer.idleTimeoutSeconds', lb.idleTimeoutSeconds, 'is too short for kubectl logs -f / exec / watches (or over a day)', `use seconds from 60 to 86400; the default is ${D.LoadBalancerSpec.idleTimeoutSeconds}`);
  }

  // The VIP keepalived holds: loadBalancer.vip, else the endpoint host (which must then be an IP address).
  const ep = spec.controlPlaneEndpoint;
  const host = ep.host;
  const vipPath = lb.vip !== undefined ? 'loadBalancer.vip' : 'controlPlaneEndpoint.host';
  const vip = lb.vip ?? host;
  const endpointPort = ep.port ?? D.EndpointSpec.port;
  const vipFamily = ipFamily(vip);
  if (lb.vip !== undefined) {
    if (vipFamily === 0) {
      err('loadBalancer.vip', lb.vip, 'is not an IP address', 'give the virtual IP keepalived holds, e.g. "10.0.0.100" (controlPlaneEndpoint.host may then be a DNS name that resolves to it)');
    } else if (ipFamily(host) !== 0 && host !== vip) {
      warn('controlPlaneEndpoint.host', host, `is an IP address other than loadBalancer.vip (${vip}): clients and kubeconfigs connect where keepalived does not put the VIP`, 'set controlPlaneEndpoint.host to the VIP or to a DNS name that resolves to it');
    }
  } else if (vipFamily === 0 && isDnsSubdomain(ep.host)) {
    err('controlPlaneEndpoint.host', ep.host, 'is a DNS name, but keepalived needs the VIP as an IP address', 'add loadBalancer.vip: the VIP the name resolves to (e.g. "10.0.0.100"); the name stays the endpoint and both go into the API server certificate');
  }
  if (masterAddresses.has(vip)) {
    err(vipPath, vip, `is masters[${masterAddresses.get(vip)}].address; the VIP must be an address no node owns`, 'pick a free address in the masters\' subnet');
  }
  (spec.workers ?? []).forEach((w, i) => {
    if (sameIp(w.address, vip)) err(vipPath, vip, `is workers[${i}].address; the VIP must be an address no node owns`, 'pick a free address for the VIP');
  });
  if (masters.length === 1) {
    warn('loadBalancer', lb, 'is set with a single master: the VIP and load balancer add moving parts but no availability (one API server, one etcd member)', 'add masters (3 or 5) for high availability, or remove loadBalancer and keepalived and use the master\'s address or a DNS name as controlPlaneEndpoint.host');
  }
  lbHosts.forEach((h, i) => {
    if (h.address === vip) err(`loadBalancers[${i}].address`, h.address, 'is the VIP; the VIP must be an address no host owns', 'pick a free address for the VIP');
  });

  const onMasters = lbHosts.length === 0;
  const lbNodes = onMasters ? masters : lbHosts;
  const lbPath = onMasters ? 'masters' : 'loadBalancers';
  // Where the VIP's clients land, by type: a proxy on the LB nodes, or the API servers themselves.
  const sameAsBindPort = (why: string) => {
    if (endpointPort !== bindPort) {
      err('controlPlaneEndpoint.port', endpointPort, `differs from apiServer.bindPort (${bindPort}); ${why}`, `set controlPlaneEndpoint.port to ${bindPort}`);
    }
  };
  const kind = LOAD_BALANCER_TYPES[type].kind;
  switch (kind) {
    case 'lvs-dr':
      if (onMasters) {
        err('loadBalancer.type', 'lvs-dr', 'needs dedicated director hosts: a backup director that is also a master holds the IPVS rules and bounces packets back to the active one', 'list two or more hosts under loadBalancers: [{ name, address }], or use type "haproxy"/"nginx" (a proxy) or "vip-only" (the VIP alone) on the masters');
      }
      sameAsBindPort('direct routing cannot change the port');
      checkApiServerBindsEverywhere(err, spec, 'the masters answer clients on the VIP they hold on loopback (lvs-dr)');
      break;
    case 'vip-only':
      if (!onMasters) {
        err('loadBalancers', lbHosts.length, 'are listed, but loadBalancer.type "vip-only" puts the VIP on the masters\' own API servers: a dedicated host has nothing to run', 'remove loadBalancers, or use type "haproxy"/"nginx" (a proxy on the hosts) or "lvs-dr" (IPVS directors) for dedicated load-balancer hosts');
      }
      sameAsBindPort('with vip-only clients reach the VIP holder\'s API server itself, which listens on apiServer.bindPort (no proxy translates the port)');
      checkApiServerBindsEverywhere(err, spec, 'clients reach the API server on the VIP (vip-only), an address of the holder that moves between masters');
      break;
    case 'keepalived+proxy': {
      const user = portsInUse(onMasters ? 'master' : 'load-balancer host', bindPort, stacked).get(endpointPort);
      if (onMasters && endpointPort === bindPort) {
        err('controlPlaneEndpoint.port', endpointPort, `is also the API server's port (apiServer.bindPort) on the masters, where the ${type} load balancer listens`, 'use another port for the load balancer, e.g. 8443 (the API server keeps 6443), or loadBalancer.type "vip-only" for the VIP straight on the API servers');
      } else if (user) {
        err('controlPlaneEndpoint.port', endpointPort, `is the port of ${user} on the ${onMasters ? 'masters' : 'load-balancer hosts'}, where the ${type} load balancer listens on every address`, `use a free port for the load balancer, e.g. ${endpointPort === 8443 ? 8444 : 8443}`);
      }
      break;
    }
    default:
      assertNever(kind, 'load-balancer kind');
  }
  if (proxyOf(type) === undefined && lb.image !== undefined) {
    warn('loadBalancer.image', lb.image, `is ignored: loadBalancer.type "${type}" runs no proxy`, 'remove loadBalancer.image (keepalived\'s image is keepalived.image)');
  }
  if (!onMasters && lbHosts.length < 2 && type !== 'vip-only') {
    err('loadBalancers', lbHosts.length, 'is a single host: the VIP has nowhere to fail over to', 'list at least 2 load-balancer hosts');
  }

  const ka = spec.keepalived ?? {};
  if (ka.interface === undefined) {
    warn('keepalived.interface', undefined, `is not set, so keepalived puts the VIP on "${D.KeepalivedSpec.interface}" on every ${lbPath === 'masters' ? 'master' : 'load-balancer host'}`, `set keepalived.interface to the NIC that carries the node addresses (e.g. "ens192"), or to "${D.KeepalivedSpec.interface}" to confirm it`);
  } else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.:@-]{0,14}$/.test(ka.interface)) {
    err('keepalived.interface', ka.interface, 'is not a network interface name', 'use the NIC that carries the node address, e.g. "eth0" or "ens192"');
  }
  if (ka.virtualRouterId !== undefined && !isInt(ka.virtualRouterId, 1, 255)) err('keepalived.virtualRouterId', ka.virtualRouterId, 'is not a VRRP router id', 'use a whole number from 1 to 255, unique on the segment');
  const version = ka.vrrpVersion ?? D.KeepalivedSpec.vrrpVersion;
  if (version === 2 && vipFamily === 6) err('keepalived.vrrpVersion', 2, 'cannot carry an IPv6 VIP', 'use vrrpVersion 3');
  const advert = ka.advertIntervalMs ?? D.KeepalivedSpec.advertIntervalMs.of(version);
  if (!isInt(advert, 10, 40950) || (version === 3 && advert % 10 !== 0)) {
    err('keepalived.advertIntervalMs', ka.advertIntervalMs, 'is not a VRRP advert interval', 'use milliseconds from 10 to 40950 in steps of 10 (VRRPv3)');
  } else if (version === 2 && advert % 1000 !== 0) {
    err('keepalived.advertIntervalMs', advert, 'is not whole seconds, which VRRPv2 requires', 'use a multiple of 1000, or vrrpVersion 3 for sub-second adverts');
  }
  if (ka.authPass !== undefined) {
    if (version === 3) err('keepalived.authPass', '(hidden)', 'is set but VRRPv3 forbids authentication', 'remove authPass, or use vrrpVersion 2');
    else if (ka.authPass.length < 1 || ka.authPass.length > 8 || /\s/.test(ka.authPass)) err('keepalived.authPass', '(hidden)', 'is not 1-8 characters without spaces', 'use a short password such as "k8sVIP1"');
  }
  const prefixMax = vipFamily === 6 ? 128 : 32;
  const prefix = ka.vipPrefixLength ?? D.KeepalivedSpec.vipPrefixLength.of(vipFamily === 6 ? 6 : 4);
  if (!isInt(prefix, 1, prefixMax)) {
    err('keepalived.vipPrefixLength', ka.vipPrefixLength, 'is not a prefix length', `use a whole number from 1 to ${prefixMax}`);
  } else if (vipFamily !== 0) {
    const subnet = parseCidr(`${vip}/${prefix}`)!;
    const outside = lbNodes.map((n, i) => ({ n, i })).filter(({ n }) => ipFamily(n.address) !== 0 && !cidrContains(subnet, n.address));
    const where = `put the VIP in the ${lbPath === 'masters' ? 'masters\'' : 'load-balancer hosts\''} subnet, or correct keepalived.vipPrefixLength`;
    if (outside.length > 0 && outside.length === lbNodes.length) {
      // Every node outside: one line, not one per node.
      err(vipPath, vip, `is in the subnet ${formatCidr(subnet)} (keepalived.vipPrefixLength ${prefix}), which holds none of the ${lbPath === 'masters' ? 'masters' : 'load-balancer hosts'} (${outside.map(({ n }) => n.address).join(', ')}), so VRRP cannot put the VIP on any of them`, where);
    } else {
      for (const { n, i } of outside) {
        err(`${lbPath}[${i}].address`, n.address, `is outside the VIP's subnet ${formatCidr(subnet)}, so VRRP cannot move the VIP to it`, where);
      }
    }
    const bits = vipFamily === 6 ? 128 : 32;
    if (prefix <= bits - 2) {
      const host = ipToBigInt(vip) - subnet.network;
      const last = (1n << BigInt(bits - prefix)) - 1n;
      if (host === 0n) err(vipPath, vip, `is the network address of its subnet ${formatCidr(subnet)}`, 'pick a free host address inside the subnet');
      else if (vipFamily === 4 && host === last) err(vipPath, vip, `is the broadcast address of its subnet ${formatCidr(subnet)}`, 'pick a free host address inside the subnet');
    }
  }
  const n = lbNodes.length;
  if (ka.priorities !== undefined) {
    const p = ka.priorities;
    if (p.length !== n || !p.every((x) => isInt(x, 1, 254))) {
      err('keepalived.priorities', p, `is not ${count(n, 'priority', 'priorities')} from 1 to 254 (one per ${lbPath === 'masters' ? 'master' : 'load-balancer host'})`, `list ${n === 1 ? 'one number' : `${n} distinct numbers`}, e.g. ${JSON.stringify(defaultPriorities(n))}`);
    } else {
      const sorted = [...p].sort((a, b) => b - a);
      const gaps = sorted.slice(1).map((x, i) => sorted[i] - x);
      if (new Set(p).size !== p.length) {
        err('keepalived.priorities', p, 'has equal priorities: two nodes can both claim the VIP', `use distinct priorities, e.g. ${JSON.stringify(defaultPriorities(n))}`);
      } else if (advert < 1000 && Math.min(...gaps) < 20) {
        err('keepalived.priorities', p, `are closer than 20 apart with ${advert} ms adverts: backups time out almost together and two nodes become MASTER (seen with 100/99)`, `spread them at least 20 apart, e.g. ${JSON.stringify(defaultPriorities(n))}`);
      }
      // The track weight must exceed the whole priority range so a node whose load balancer fails drops
      // below every healthy one; keepalived's weights stop at 253.
      if (sorted[0] - sorted[sorted.length - 1] + 10 > 253) {
        err('keepalived.priorities', p, 'span more than 243, so no track weight (at most 253) can exceed the priority range', 'narrow the range, e.g. 150/100/50');
      }
    }
  }
  if (ka.image !== undefined && (/\s/.test(ka.image) || hasControlChar(ka.image))) err('keepalived.image', ka.image, 'is not an image reference', 'use e.g. "registry.example.com/keepalived:2.3.3"');
  if (lb.image !== undefined && (/\s/.test(lb.image) || hasControlChar(lb.image))) err('loadBalancer.image', lb.image, 'is not an image reference', 'use e.g. "registry.example.com/haproxy:3.2.26-alpine"');
}

/** The unspecified addresses (and the empty string): the API server then listens on every address. */
const isUnspecified = (a: string) => a === '' || (ipFamily(a) !== 0 && ipToBigInt(a) === 0n);

/**
 * Refuses an API server --bind-address (apiServer.extraArgs, the last one wins) other than 0.0.0.0 or
 * ::, where clients reach the API servers on the VIP itself (lvs-dr, vip-only): bound to the node
 * address, an API server refuses the VIP's connections.
 */
function checkApiServerBindsEverywhere(err: Report, spec: ClusterSpec, why: string): void {
  const args = spec.apiServer?.extraArgs ?? [];
  const i = args.map((a) => a.name).lastIndexOf('bind-address');
  const value = i >= 0 ? args[i].value : undefined;
  if (value !== undefined && !isUnspecified(value)) {
    err(`apiServer.extraArgs[${i}].value`, value, `is the API server's --bind-address, so it does not listen on the VIP, but ${why}`, 'remove the bind-address flag (the API server then listens on every address), or set it to "0.0.0.0" or "::"');
  }
}

function checkHosts(err: Report, path: string, hosts: readonly LoadBalancerHostSpec[] | undefined, masterNames: Map<string, number>, masterAddresses: Map<string, number>): void {
  const names = new Map<string, number>();
  const addrs = new Map<string, number>();
  (hosts ?? []).forEach((h, i) => {
    const p = `${path}[${i}]`;
    if (!isDnsSubdomain(h.name)) err(`${p}.name`, h.name, 'is not a valid node name', 'use a lower-case DNS name, e.g. "lb-1"');
    else if (masterNames.has(h.name)) err(`${p}.name`, h.name, `is also masters[${masterNames.get(h.name)}].name`, `give each host one role; ${path === 'loadBalancers' ? 'without loadBalancers the LB runs on the masters' : 'masters are not listed as workers'}`);
    else if (names.has(h.name)) err(`${p}.name`, h.name, `is the same as ${path}[${names.get(h.name)}].name`, 'give every host a distinct name');
    else names.set(h.name, i);
    if (ipFamily(h.address) === 0) err(`${p}.address`, h.address, 'is not an IPv4/IPv6 address', 'use the host\'s IP address');
    else if (masterAddresses.has(h.address)) err(`${p}.address`, h.address, `is also masters[${masterAddresses.get(h.address)}].address`, 'give each host one role and its own address');
    else if (addrs.has(h.address)) err(`${p}.address`, h.address, `is the same as ${path}[${addrs.get(h.address)}].address`, 'give every host its own address');
    else addrs.set(h.address, i);
  });
}
