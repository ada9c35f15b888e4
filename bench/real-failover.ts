// `npm run bench:failover` (second part): the same faults with the real components — etcd, kube-apiserver,
// controller manager and scheduler of the default minor (built from the Go module proxy), keepalived and
// haproxy/nginx — run from the installed bundles by the pod runner (test/harness/control-plane-lab.ts),
// with a client that creates and reads a ConfigMap through the VIP every 100 ms. Each run is a fresh
// lab on which the faults follow one another, the destructive one last: graceful API server restart,
// API server SIGKILL, loss of the VIP holder (made etcd leader first). Medians (worst) over the runs.
//
// Environment:
//   REAL_FAILOVER_RUNS=3            runs per load balancer
//   REAL_FAILOVER_LBS=haproxy,nginx load balancers; also vip-only (no proxy: the client on VIP:6443 straight to
//                                   the holder's API server; gray only through the VIP)
//   REAL_FAILOVER_TRACK_PROCESS=remove  keepalived's track_process in the lab (it cannot work in a network
//                                   namespace): remove it (the check script alone moves the VIP), or
//                                   emulate it (a track_file kept by a watcher, with fork_delay)
//   REAL_FAILOVER_SCENARIOS=apiserver-restart,apiserver-kill,node-loss   in this order, node-loss last
//                                   (empty: none of these, e.g. only the gray failure)
//   REAL_FAILOVER_GRAY=1            also the gray failure (a master's etcd member cut off from the other
//                                   members; its API server still accepts connections), measured through
//                                   the VIP and through a worker's local proxy of the same type as the LB,
//                                   each on a lab of its own; set 0 to skip
//   REAL_FAILOVER_JSON=<file>       also write every raw result there
//
// Needs root and what `bash scripts/test-deps.sh` installs and builds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneLabOptions, startControlPlane } from '../test/harness/control-plane-lab';
import { formatRealResult, REAL_SCENARIOS, RealFailoverResult, RealScenario, runRealScenario } from '../test/harness/real-failover';

const RUNS = Number(process.env.REAL_FAILOVER_RUNS ?? 3);
type RealLb = 'haproxy' | 'nginx' | 'vip-only';
const LBS = (process.env.REAL_FAILOVER_LBS ?? 'haproxy,nginx').split(',').map((s) => s.trim()) as RealLb[];
for (const lb of LBS) if (!['haproxy', 'nginx', 'vip-only'].includes(lb)) throw new Error(`REAL_FAILOVER_LBS: unknown ${lb}`);

/** The lab of one LB type: vip-only's endpoint port is the API server's. */
const labOf = (lb: RealLb, extra: Partial<ControlPlaneLabOptions> = {}): ControlPlaneLabOptions => ({
  bootstrap: 'generate',
  trackProcess: TRACK,
  ...(lb === 'vip-only' ? { endpointPort: 6443 } : {}),
  ...extra,
  spec: { loadBalancer: { type: lb }, ...extra.spec },
});
const ORDER = (process.env.REAL_FAILOVER_SCENARIOS ?? 'apiserver-restart,apiserver-kill,node-loss').split(',').map((x) => x.trim()).filter(Boolean) as RealScenario[];
for (const x of ORDER) if (!['apiserver-restart', 'apiserver-kill', 'node-loss'].includes(x)) throw new Error(`REAL_FAILOVER_SCENARIOS: unknown ${x} (node-loss must be last: it breaks the lab)`);
const GRAY = process.env.REAL_FAILOVER_GRAY !== '0';
const TRACK = (process.env.REAL_FAILOVER_TRACK_PROCESS ?? 'remove') as 'remove' | 'emulate';
if (TRACK !== 'remove' && TRACK !== 'emulate') throw new Error(`REAL_FAILOVER_TRACK_PROCESS: ${TRACK as string} is not remove or emulate`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const worst = (xs: number[]) => Math.max(...xs);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** One lab on which the faults of ORDER follow one another. */
async function faultsInARow(lb: RealLb, run: number, results: (RealFailoverResult & { lb: string; run: number })[]): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'hacp-real-bench-'));
  const cp = await startControlPlane(labOf(lb));
  try {
    const t0 = Date.now();
    await cp.waitAllReady(180_000);
    await cp.finishBootstrap();
    console.error(`${lb} run ${run}: control plane ready in ${secs(Date.now() - t0)}`);
    for (const scenario of ORDER) {
      await cp.waitAllReady(90_000);
      const r = await runRealScenario(cp, scenario, { workDir: work, observeMs: scenario === 'node-loss' ? 30_000 : 15_000, moveLeases: true });
      console.error(`  ${formatRealResult(r)}`);
      results.push({ ...r, lb, run });
    }
  } finally {
    await cp.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: (RealFailoverResult & { lb: string; run: number })[] = [];
  for (const lb of LBS) {
    for (let run = 1; run <= RUNS; run++) {
      if (ORDER.length > 0) await faultsInARow(lb, run, results);
      if (!GRAY) continue;
      // A worker proxy of the row's type (vip-only has none to compare: only through the VIP).
      for (const via of lb === 'vip-only' ? ['vip'] as const : ['vip', 'worker-proxy'] as const) {
        const gwork = mkdtempSync(join(tmpdir(), 'hacp-real-bench-'));
        const g = await startControlPlane(lb === 'vip-only' ? labOf(lb) : labOf(lb, { worker: true, spec: { workerProxy: { port: 6443, type: lb } } }));
        try {
          await g.waitAllReady(180_000);
          await g.finishBootstrap();
          const r = await runRealScenario(g, 'gray', { workDir: gwork, observeMs: 30_000, via });
          console.error(`  ${formatRealResult(r)}`);
          results.push({ ...r, lb, run });
        } finally {
          await g.destroy();
          rmSync(gwork, { recursive: true, force: true });
        }
      }
    }
  }
  if (process.env.REAL_FAILOVER_JSON) writeFileSync(process.env.REAL_FAILOVER_JSON, JSON.stringify(results, null, 2));

  console.log(`\nReal components (kube-apiserver, etcd, controller manager, scheduler of the default minor), client every 100 ms through the VIP; medians (worst) of ${RUNS} runs; `
    + `keepalived's track_process ${TRACK === 'emulate' ? 'emulated (track_file + watcher)' : 'removed (check script only)'}\n`);
  console.log('| fault on the VIP holder | LB | write outage | read outage | failed writes / reads | acknowledged writes lost | Lease hand-over |');
  console.log('|---|---|---|---|---|---|---|');
  const rows = [...ORDER.map((scenario) => ({ scenario, via: 'vip' as const })), ...(GRAY ? [{ scenario: 'gray' as const, via: 'vip' as const }, { scenario: 'gray' as const, via: 'worker-proxy' as const }] : [])];
  for (const { scenario, via } of rows) {
    for (const lb of LBS) {
      const rs = results.filter((r) => r.scenario === scenario && r.lb === lb && r.via === via);
      if (rs.length === 0) continue;
      const w = rs.map((r) => r.outcome.writeOutageMs);
      const rd = rs.map((r) => r.outcome.readOutageMs);
      const fw = rs.map((r) => r.outcome.failedWrites);
      const fr = rs.map((r) => r.outcome.failedReads);
      const lost = rs.reduce((n, r) => n + r.lost, 0);
      const acked = rs.reduce((n, r) => n + r.acknowledged, 0);
      const handovers = rs.flatMap((r) => Object.entries(r.leaseHandoverMs).map(([l, ms]) => `${l.replace('kube-', '')} ${ms === undefined ? 'none in time' : secs(ms)}`));
      console.log(`| ${REAL_SCENARIOS[scenario]}${via === 'worker-proxy' ? ', through the worker\'s local proxy' : ''} | ${lb} | ${secs(median(w))} (${secs(worst(w))}) | ${secs(median(rd))} (${secs(worst(rd))}) | ${median(fw)} (${worst(fw)}) / ${median(fr)} (${worst(fr)}) | ${lost} of ${acked} | ${handovers.join('; ') || '— (not on the failed node)'} |`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
