/**
 * Failover with the real components: a control plane of the control-plane lab (real etcd, API servers,
 * controller managers, schedulers, keepalived and haproxy/nginx run from the installed bundles) and a
 * client on a node of its own that writes (creates a ConfigMap) and reads through the VIP every 100 ms,
 * while one fault hits a master. Afterwards every ConfigMap whose create was acknowledged must exist.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import { hostPort } from '../../lib/util/net';
import { ApiOutcome, readApiRequests, summarizeApi, writeApiClient } from './api-client';
import { ControlPlaneLab } from './control-plane-lab';

/** The faults. */
export type RealScenario = 'node-loss' | 'apiserver-kill' | 'apiserver-restart' | 'gray';

/** What each fault does. */
export const REAL_SCENARIOS: Record<RealScenario, string> = {
  'node-loss': 'the master holding the VIP and the etcd leader (and, in the bench, the controller-manager and scheduler Leases), moved there first, loses its link',
  'apiserver-kill': 'SIGKILL of the API server on the VIP holder (the runner restarts it at once, as the kubelet does)',
  'apiserver-restart': 'graceful restart of the API server on the VIP holder, as the kubelet does on a manifest change (SIGTERM, exit, start)',
  'gray': 'gray failure: the etcd member of a master that does not hold the VIP is cut off from the other members (it loses quorum) while its API server still accepts connections from the clients and the LBs',
};

/** etcd's client and peer ports: the only traffic a gray failure cuts. */
const ETCD_PORTS = '{ 2379, 2380 }';

/**
 * Cuts `node`'s etcd member off from the other masters' members, both ways, with an nftables table in
 * the node's namespace that drops TCP to and from the other masters' addresses on etcd's client and peer
 * ports. Everything else still flows: the API server on `node` accepts connections from the load
 * balancers and the clients, and its etcd member, still running, has lost quorum. A load balancer
 * therefore sees the API server's /readyz fail (its etcd check), not a refused connection.
 */
async function cutEtcdFromMasters(cp: ControlPlaneLab, node: string, workDir: string): Promise<void> {
  const six = cp.addressOf(node).includes(':');
  const family = six ? 'ip6' : 'ip';
  const peers = `{ ${cp.masters.filter((x) => x !== node).map((m) => cp.addressOf(m)).join(', ')} }`;
  const ruleset = [
    'table inet hacp-gray {',
    '  chain in { type filter hook input priority 0; policy accept;',
    `    ${family} saddr ${peers} tcp dport ${ETCD_PORTS} drop`,
    `    ${family} saddr ${peers} tcp sport ${ETCD_PORTS} drop`,
    '  }',
    '  chain out { type filter hook output priority 0; policy accept;',
    `    ${family} daddr ${peers} tcp dport ${ETCD_PORTS} drop`,
    `    ${family} daddr ${peers} tcp sport ${ETCD_PORTS} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
  const file = join(workDir, `gray-${node}.nft`);
  writeFileSync(file, ruleset);
  const r = await cp.lab.exec(node, 'nft', ['-f', file]);
  if (r.code !== 0) throw new Error(`nftables on ${node}: ${r.stderr}`);
}

/** One measured fault. */
export interface RealFailoverResult {
  readonly scenario: RealScenario;
  readonly target: string;
  /** Where the client sent its requests. */
  readonly via: 'vip' | 'worker-proxy';
  readonly outcome: ApiOutcome;
  /** Writes acknowledged (201) during the run, and how many of those are missing afterwards. */
  readonly acknowledged: number;
  readonly lost: number;
  /** The client's last 10 writes (at the end of the run, long after the fault) all succeeded. */
  readonly recovered: boolean;
  readonly vipBefore: string;
  readonly vipAfter?: string;
  /** Time from the fault until the Lease had a new holder, when the target held it. */
  readonly leaseHandoverMs: Readonly<Record<string, number | undefined>>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const LEASES = ['kube-controller-manager', 'kube-scheduler'];

/** The master whose eth0 holds the VIP, or undefined. */
export async function vipHolder(cp: ControlPlaneLab): Promise<string | undefined> {
  for (const m of cp.masters) {
    const r = await cp.lab.exec(m, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0']);
    if (r.stdout.includes(` ${cp.vip}/`)) return m;
  }
  return undefined;
}

/** etcdctl in a master's etcd container, with the healthcheck client certificate. */
async function etcdctl(cp: ControlPlaneLab, node: string, args: readonly string[]): Promise<string> {
  const pki = '/etc/kubernetes/pki/etcd';
  const r = await cp.runners.get(node)!.exec('etcd', 'etcd', ['etcdctl', `--cacert=${pki}/ca.crt`, `--cert=${pki}/healthcheck-client.crt`,
    `--key=${pki}/healthcheck-client.key`, ...args], 20_000);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} on ${node}: ${r.stderr}`);
  return r.stdout;
}

/** Makes `node`'s etcd member the leader (etcdctl move-leader on the current leader). */
export async function moveEtcdLeader(cp: ControlPlaneLab, node: string): Promise<void> {
  const endpoints = cp.masters.map((m) => `https://${cp.lab.addressOf(m)}:2379`).join(',');
  // Member ids are 64-bit: keep them as strings (JSON.parse would round them).
  const text = (await etcdctl(cp, node, [`--endpoints=${endpoints}`, 'endpoint', 'status', '-w', 'json'])).replace(/"(member_id|leader)":(\d+)/g, '"$1":"$2"');
  const status = JSON.parse(text) as { Endpoint: string; Status: { header: { member_id: string | number }; leader: string | number } }[];
  const target = status.find((s) => s.Endpoint.includes(`//${cp.lab.addressOf(node)}:`))!;
  const targetId = BigInt(target.Status.header.member_id);
  const leaderId = BigInt(target.Status.leader);
  if (leaderId === targetId) return;
  const leader = status.find((s) => BigInt(s.Status.header.member_id) === leaderId)!;
  await etcdctl(cp, node, [`--endpoints=${leader.Endpoint}`, 'move-leader', targetId.toString(16)]);
}

/**
 * Makes `node` hold the controller-manager and scheduler Leases: the other masters' pods of a component
 * whose Lease another master holds are stopped until `node` has taken it over (the Lease expires after
 * its 15 s), then started again.
 */
export async function moveLeases(cp: ControlPlaneLab, node: string): Promise<void> {
  for (const lease of LEASES) {
    if ((await leaseHolders(cp, cp.clientNode))[lease] === node) continue;
    const others = cp.masters.filter((m) => m !== node);
    for (const m of others) await cp.runners.get(m)!.stopPod(lease);
    const end = Date.now() + 60_000;
    while ((await leaseHolders(cp, cp.clientNode))[lease] !== node) {
      if (Date.now() > end) throw new Error(`${node} did not take the ${lease} Lease within 60 s`);
      await sleep(500);
    }
    for (const m of others) cp.runners.get(m)!.startPod(lease);
    await Promise.all(others.map((m) => cp.runners.get(m)!.waitReady([lease], 60_000)));
  }
}

async function leaseHolders(cp: ControlPlaneLab, node: string): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const l of LEASES) {
    const r = await cp.kubectl(['-n', 'kube-system', 'get', 'lease', l, '-o', 'jsonpath={.spec.holderIdentity}'], { node, timeoutMs: 5000 });
    out[l] = r.code === 0 ? r.stdout.split('_')[0] : undefined;
  }
  return out;
}

/** Runs one fault with the client going; the lab is left broken (destroy it afterwards). */
export async function runRealScenario(cp: ControlPlaneLab, scenario: RealScenario, o: { beforeMs?: number; observeMs?: number; workDir: string; via?: 'vip' | 'worker-proxy'; moveLeases?: boolean }): Promise<RealFailoverResult> {
  const viaWorker = o.via === 'worker-proxy';
  const workerProxy = cp.plan.workerProxy;
  if (viaWorker && !workerProxy) throw new Error("via: 'worker-proxy' needs a lab with a worker and its local proxy (worker: true or lbHosts: true)");
  const client = viaWorker ? 'worker-1' : cp.clientNode;
  const vipBefore = await vipHolder(cp);
  if (!vipBefore) throw new Error('no master holds the VIP');
  const target = scenario === 'gray' ? cp.masters.filter((m) => m !== vipBefore).pop()! : vipBefore;
  if (scenario === 'node-loss') {
    await moveEtcdLeader(cp, target);
    if (o.moveLeases) await moveLeases(cp, target);
  }
  const leasesBefore = await leaseHolders(cp, client);

  const { script, creds } = writeApiClient(o.workDir, join(cp.rootOf(cp.masters[0]), 'etc/kubernetes/admin.conf'));
  const prefix = `fo-${scenario}-${viaWorker ? 'w' : 'v'}-`;
  const logFile = join(o.workDir, `client-${scenario}.log`);
  const proc = cp.lab.spawn(client, process.execPath, [script, viaWorker ? hostPort('127.0.0.1', workerProxy!.port) : cp.endpoint, creds, prefix, '100', '2000'], { logFile });
  await sleep(o.beforeMs ?? 3000);
  const faultAt = Date.now();
  const runner = cp.runners.get(target)!;
  if (scenario === 'node-loss') {
    const r = await cp.lab.exec(target, 'ip', ['link', 'set', 'eth0', 'down']);
    if (r.code !== 0) throw new Error(`link down on ${target}: ${r.stderr}`);
  } else if (scenario === 'gray') {
    await cutEtcdFromMasters(cp, target, o.workDir);
  } else {
    runner.killContainer('kube-apiserver', 'kube-apiserver', scenario === 'apiserver-kill' ? 'SIGKILL' : 'SIGTERM');
  }

  // Lease hand-over, watched from the client's side while the client runs.
  const leaseHandoverMs: Record<string, number | undefined> = {};
  const watched = LEASES.filter((l) => leasesBefore[l] === target && scenario === 'node-loss');
  const end = faultAt + (o.observeMs ?? 15_000);
  while (Date.now() < end) {
    if (watched.some((l) => leaseHandoverMs[l] === undefined)) {
      const now = await leaseHolders(cp, client);
      for (const l of watched) if (leaseHandoverMs[l] === undefined && now[l] && now[l] !== target) leaseHandoverMs[l] = Date.now() - faultAt;
    }
    await sleep(200);
  }
  await proc.stop(2000);
  const reqs = readApiRequests(logFile);
  const acked = new Set(reqs.filter((r) => r.op === 'w' && r.ok).map((r) => `${prefix}${r.seq}`));
  // Asked of a healthy master's API server directly: through the VIP, a load balancer that cannot see
  // the gray master's readiness (nginx) may send the list there, where it hangs.
  const healthy = cp.masters.find((m) => m !== target)!;
  const list = await cp.kubectl([`--server=https://${hostPort(cp.addressOf(healthy), cp.plan.apiServer.bindPort)}`, 'get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}'], { node: cp.clientNode, timeoutMs: 30_000 });
  if (list.code !== 0) throw new Error(`listing the ConfigMaps after ${scenario}: ${list.stderr}`);
  const present = new Set(list.stdout.split(/\s+/));
  return {
    scenario,
    target,
    via: viaWorker ? 'worker-proxy' : 'vip',
    outcome: summarizeApi(reqs, faultAt),
    acknowledged: acked.size,
    lost: [...acked].filter((n) => !present.has(n)).length,
    recovered: reqs.filter((r) => r.op === 'w').slice(-10).every((r) => r.ok),
    vipBefore,
    vipAfter: await vipHolder(cp),
    leaseHandoverMs,
  };
}

/** One line for the bench and the test log. */
export function formatRealResult(r: RealFailoverResult): string {
  const o = r.outcome;
  const leases = Object.entries(r.leaseHandoverMs).map(([l, ms]) => `${l} lease ${ms === undefined ? 'not handed over in time' : `${(ms / 1000).toFixed(1)} s`}`);
  return `${r.scenario}${r.via === 'worker-proxy' ? ' (through the worker proxy)' : ''} on ${r.target}: write outage ${o.writeOutageMs} ms, read outage ${o.readOutageMs} ms, `
    + `failed ${o.failedWrites}/${o.writes} writes and ${o.failedReads}/${o.reads} reads ${JSON.stringify(o.errors)}, `
    + `${r.lost} of ${r.acknowledged} acknowledged writes lost, VIP ${r.vipBefore} -> ${r.vipAfter ?? 'none'}${leases.length ? `, ${leases.join(', ')}` : ''}`;
}
