/**
 * Failover with the real components (bounded): a client writes (creates a ConfigMap) and reads through
 * the VIP every 100 ms while the API server on the VIP holder is SIGKILLed, and then, on the same lab,
 * while the VIP holder — made the etcd leader first — loses its link. No acknowledged write may be lost,
 * and writes must succeed through the VIP again. The figures are `npm run bench:failover`'s (bench
 * targets, not asserted here).
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ControlPlaneLab, startControlPlane } from './harness/control-plane-lab';
import { formatRealResult, runRealScenario } from './harness/real-failover';

jest.setTimeout(300_000);

let cp: ControlPlaneLab | undefined;
let work = '';
afterAll(async () => {
  await cp?.destroy();
  rmSync(work, { recursive: true, force: true });
});

test('API server SIGKILL, then loss of the VIP holder and etcd leader: no acknowledged write is lost', async () => {
  work = mkdtempSync(join(tmpdir(), 'hacp-real-fo-'));
  cp = await startControlPlane({ bootstrap: 'generate' });
  await cp.waitAllReady(150_000);
  await cp.finishBootstrap();
  for (const scenario of ['apiserver-kill', 'node-loss'] as const) {
    await cp.waitAllReady(60_000); // the previous fault's API server is back
    const r = await runRealScenario(cp, scenario, { workDir: work, observeMs: 15_000 });
    console.log(formatRealResult(r));
    expect({ scenario, acknowledgedOver100: r.acknowledged > 100, lost: r.lost, recovered: r.recovered }).toEqual({ scenario, acknowledgedOver100: true, lost: 0, recovered: true });
    if (scenario === 'node-loss') expect(r.vipAfter).not.toBe(r.target);
  }
});
