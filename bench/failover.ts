// `npm run bench:failover`: what clients see when parts of the HA control plane fail, with real daemons
// (keepalived 2.2.7, haproxy 2.6 / nginx 1.22, etcd 3.4) running the generated configs in network
// namespaces (test/harness/failover.ts). The project's default profile and a "kubeadm HA guide" profile
// are measured in the same run, each scenario on a fresh lab, N times; the table shows median and worst.
// Both layouts go in the same table: the LB/VIP tier on the masters, and on two dedicated LB hosts.
//
// Environment:
//   FAILOVER_RUNS=3                      runs per scenario, profile, LB and layout
//   FAILOVER_LBS=haproxy,nginx,vip-only  VIP tiers (vip-only: no proxy, masters layout, no lb-death)
//   FAILOVER_LAYOUTS=masters,lb-hosts    where keepalived + LB run (lb-hosts: spec loadBalancers lb1, lb2)
//   FAILOVER_PROFILES=default,kubeadm-guide
//   FAILOVER_SCENARIOS=node-loss,lb-death,keepalived-term,keepalived-kill,apiserver-death,etcd-leader-kill
//   FAILOVER_JSON=<file>                 also write every raw result there
//
// Needs root, iproute2, util-linux, curl, openssl and Debian's keepalived, haproxy, nginx +
// libnginx-mod-stream, etcd-server and etcd-client (`bash scripts/test-deps.sh` installs them).
import { writeFileSync } from 'node:fs';
import {
  ClusterOptions, etcdLeaderKill, EtcdLeaderResult, HAPROXY_FD_NOTE, Layout, LAYOUTS, LbKind, Profile, PROFILES, runScenario, Scenario, scenarioApplies,
  SCENARIOS, ScenarioResult, startCluster, TRACK_PROCESS_NOTE,
} from '../test/harness/failover';

type BenchProfile = Profile;
type BenchScenario = Scenario | 'etcd-leader-kill';

const list = <T extends string>(name: string, def: readonly T[], allowed: readonly string[]): T[] => {
  const v = process.env[name];
  const out = (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : [...def]) as T[];
  for (const x of out) if (!allowed.includes(x)) throw new Error(`${name}: unknown ${x} (allowed: ${allowed.join(', ')})`);
  return out;
};

const RUNS = Number(process.env.FAILOVER_RUNS ?? 3);
const ALL_LBS: LbKind[] = ['haproxy', 'nginx', 'vip-only'];
const LBS = list<LbKind>('FAILOVER_LBS', ALL_LBS, ALL_LBS);
const BENCH_LAYOUTS = list<Layout>('FAILOVER_LAYOUTS', Object.keys(LAYOUTS) as Layout[], Object.keys(LAYOUTS));
const BENCH_PROFILES = list<BenchProfile>('FAILOVER_PROFILES', ['default', 'kubeadm-guide'], ['default', 'kubeadm-guide']);
const LB_SCENARIOS = Object.keys(SCENARIOS) as Scenario[];
const ALL_SCENARIOS: BenchScenario[] = [...LB_SCENARIOS, 'etcd-leader-kill'];
const WANT = list<BenchScenario>('FAILOVER_SCENARIOS', ALL_SCENARIOS, ALL_SCENARIOS);

const OBSERVE = { windowMs: 8000, stableMs: 3000, maxMs: 60_000 };

function clusterOptions(layout: Layout, lb: LbKind, p: BenchProfile): ClusterOptions {
  return { layout, lb, profile: p };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const worst = (xs: number[]) => (xs.some((x) => !Number.isFinite(x)) ? NaN : Math.max(...xs));
const ms = (x: number) => (Number.isFinite(x) ? (x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${Math.round(x)}ms`) : 'n/a');
const n = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : 'n/a');
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
}

interface Row {
  readonly layout: Layout;
  readonly lb: LbKind;
  readonly scenario: Scenario;
  readonly profile: BenchProfile;
  readonly results: ScenarioResult[];
  readonly errors: string[];
}

async function runLbScenario(layout: Layout, lb: LbKind, scenario: Scenario, profile: BenchProfile): Promise<ScenarioResult> {
  const cluster = await startCluster(clusterOptions(layout, lb, profile));
  try {
    return await runScenario(cluster, scenario, OBSERVE);
  } finally {
    await cluster.destroy();
  }
}

async function runEtcd(): Promise<EtcdLeaderResult> {
  const cluster = await startCluster({ lb: 'haproxy', profile: 'default', etcd: true });
  try {
    return await etcdLeaderKill(cluster);
  } finally {
    await cluster.destroy();
  }
}

function vipAfter(rs: ScenarioResult[]): string {
  const seen = new Map<string, number>();
  for (const r of rs) {
    const k = `${r.faultOn !== r.holderBefore ? `fault on ${r.faultOn}; ` : ''}${r.holderBefore}→${r.clientTarget ?? '?'}${r.holdersAfter.length > 1 ? ` (VIP on ${r.holdersAfter.join('+')})` : ''}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return [...seen.entries()].map(([k, c]) => (seen.size > 1 ? `${k} ×${c}` : k)).join(', ');
}

async function main(): Promise<void> {
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('FAILOVER_RUNS must be a positive integer');
  const t0 = Date.now();
  const rows: Row[] = [];
  const lbScenarios = LB_SCENARIOS.filter((s) => WANT.includes(s));
  for (const layout of BENCH_LAYOUTS) {
    for (const lb of LBS) {
      for (const scenario of lbScenarios.filter((sc) => scenarioApplies(lb, layout, sc))) {
        for (const profile of BENCH_PROFILES) rows.push({ layout, lb, scenario, profile, results: [], errors: [] });
      }
    }
  }
  const etcd: EtcdLeaderResult[] = [];
  const etcdErrors: string[] = [];
  const total = rows.length * RUNS + (WANT.includes('etcd-leader-kill') ? RUNS : 0);
  let done = 0;

  // Run i of every row before run i + 1 of any, profiles side by side: drift in the machine's load
  // hits all of them alike.
  for (let run = 1; run <= RUNS; run++) {
    for (const row of rows) {
      done++;
      try {
        const r = await runLbScenario(row.layout, row.lb, row.scenario, row.profile);
        row.results.push(r);
        const o = r.observation;
        log(`[${done}/${total}] ${row.layout} ${row.lb} ${row.scenario} ${row.profile} #${run}: outage ${ms(o.recoveryMs)}, failed ${o.failed}/${o.total} `
          + `(late ${o.lateFailures}) ${JSON.stringify(o.errors)}, VIP ${r.holderBefore}→${r.holdersAfter.join('+') || 'none'}, client→${r.clientTarget}${o.recovered ? '' : ' NOT RECOVERED'}`);
      } catch (e) {
        row.errors.push((e as Error).message.split('\n')[0]);
        log(`[${done}/${total}] ${row.layout} ${row.lb} ${row.scenario} ${row.profile} #${run}: ERROR ${(e as Error).message.slice(0, 3000)}`);
      }
    }
    if (WANT.includes('etcd-leader-kill')) {
      done++;
      try {
        const r = await runEtcd();
        etcd.push(r);
        log(`[${done}/${total}] etcd-leader-kill #${run}: new leader after ${ms(r.newLeaderMs)} (${r.oldLeader}→${r.newLeader}), `
          + `acked ${r.acked} (${r.ackedAfterKill} after the kill), lost ${r.lost.length}, failed puts ${r.failedPuts}, write stall ${ms(r.writeStallMs)}`);
      } catch (e) {
        etcdErrors.push((e as Error).message.split('\n')[0]);
        log(`[${done}/${total}] etcd-leader-kill #${run}: ERROR ${(e as Error).message.slice(0, 3000)}`);
      }
    }
  }

  const out: string[] = [];
  out.push(`# Fail-over bench: ${RUNS} run(s) per cell, fresh lab each, ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  out.push('');
  out.push('Client: https://VIP:8443/readyz (vip-only: VIP:6443, the API server stand-in itself) from its own namespace every 50 ms, fresh TLS connection, 500 ms deadline.');
  out.push('outage = fault → end of the first successful request started after the last failure of the first outage episode');
  out.push('(failures < 1 s apart); failed = failed requests within ≥ 8 s after the fault (and 3 s without failures), late = of those after the');
  out.push('first episode. med/worst over the runs. ratio = kubeadm-guide median outage / default median outage.');
  out.push('');
  out.push('Layouts:');
  for (const l of BENCH_LAYOUTS) out.push(`  ${l}: ${LAYOUTS[l]}`);
  out.push('Profiles:');
  for (const p of BENCH_PROFILES) out.push(`  ${p}: ${PROFILES[p]}`);
  out.push(`NOTE: ${TRACK_PROCESS_NOTE}.`);
  out.push(`NOTE: ${HAPROXY_FD_NOTE}.`);
  out.push('');

  const header = ['layout', 'LB', 'scenario', ...BENCH_PROFILES.flatMap((p) => [`${p} outage med/worst`, 'failed med/worst (late)']), ...(BENCH_PROFILES.includes('default') && BENCH_PROFILES.includes('kubeadm-guide') ? ['ratio'] : []), 'VIP (default)'];
  const table: string[][] = [header];
  for (const layout of BENCH_LAYOUTS) for (const lb of LBS) {
    for (const scenario of lbScenarios.filter((sc) => scenarioApplies(lb, layout, sc))) {
      const cells: string[] = [layout, lb, scenario];
      const med: Partial<Record<BenchProfile, number>> = {};
      for (const p of BENCH_PROFILES) {
        const row = rows.find((r) => r.layout === layout && r.lb === lb && r.scenario === scenario && r.profile === p)!;
        const rs = row.results;
        const outages = rs.map((r) => (r.observation.recovered ? r.observation.recoveryMs : NaN));
        med[p] = median(outages);
        const errs = row.errors.length > 0 ? ` [${row.errors.length} error(s)]` : '';
        cells.push(rs.length > 0 ? `${ms(median(outages))} / ${ms(worst(outages))}${errs}` : `—${errs}`);
        const failed = rs.map((r) => r.observation.failed);
        const late = rs.map((r) => r.observation.lateFailures);
        cells.push(rs.length > 0 ? `${n(median(failed))} / ${n(Math.max(...failed))} (${n(median(late))})` : '—');
      }
      if (header.includes('ratio')) {
        const d = med.default!;
        const g = med['kubeadm-guide']!;
        cells.push(!Number.isFinite(d) || !Number.isFinite(g) ? 'n/a' : d === 0 ? (g === 0 ? '1×' : '∞ (default 0)') : `${(g / d).toFixed(1)}×`);
      }
      const def = rows.find((r) => r.layout === layout && r.lb === lb && r.scenario === scenario && r.profile === (BENCH_PROFILES.includes('default') ? 'default' : BENCH_PROFILES[0]))!;
      cells.push(def.results.length > 0 ? vipAfter(def.results) : '—');
      table.push(cells);
    }
  }
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const [i, r] of table.entries()) {
    out.push(`| ${r.map((c, j) => pad(c, widths[j])).join(' | ')} |`);
    if (i === 0) out.push(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
  out.push('');
  out.push('Scenarios: ' + LB_SCENARIOS.filter((s) => lbScenarios.includes(s)).map((s) => `${s} = ${SCENARIOS[s]}`).join('; ') + '.');

  if (WANT.includes('etcd-leader-kill')) {
    out.push('');
    out.push('etcd leader SIGKILL (Debian etcd 3.4.23, generated flags: default heartbeat 100 ms / election timeout 1 s), writer = sequential');
    out.push('`etcdctl put` against all three endpoints (--command-timeout 2s) from the client namespace:');
    if (etcd.length > 0) {
      const nl = etcd.map((r) => r.newLeaderMs);
      const st = etcd.map((r) => r.writeStallMs);
      out.push(`  new leader after: median ${ms(median(nl))}, worst ${ms(worst(nl))} (etcdctl endpoint status polled every ~50-100 ms)`);
      out.push(`  write stall: median ${ms(median(st))}, worst ${ms(worst(st))}; failed puts: ${etcd.map((r) => r.failedPuts).join(', ')}`);
      out.push(`  acknowledged writes: ${etcd.map((r) => r.acked).join(', ')}; acknowledged writes LOST: ${etcd.map((r) => r.lost.length).join(', ')}`
        + `${etcd.some((r) => r.lost.length > 0) ? ` (${etcd.flatMap((r) => r.lost).slice(0, 5).join(' ')})` : ''}`);
    }
    if (etcdErrors.length > 0) out.push(`  errors: ${etcdErrors.join(' | ')}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);

  if (process.env.FAILOVER_JSON) {
    writeFileSync(process.env.FAILOVER_JSON, JSON.stringify({ runs: RUNS, rows, etcd, etcdErrors }, null, 1));
  }
  if (rows.some((r) => r.errors.length > 0) || etcdErrors.length > 0) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
