/**
 * Fail-over with real daemons (CI-short version of `npm run bench:failover`): a synthesized 3-master
 * cluster whose generated keepalived.conf, check script and haproxy.cfg run on Debian's keepalived 2.2.7
 * and haproxy 2.6, one network namespace per master plus one for a client that requests
 * https://VIP:8443/readyz every 50 ms with a 500 ms deadline (see test/harness/failover.ts).
 *
 * Two faults on the VIP holder, each once on a fresh lab: node loss (its link goes down) and load
 * balancer death (SIGKILL to haproxy). Each must be over within a generous 5 s (the bench measures the
 * real figures), with the VIP and the client's traffic on another master afterwards.
 *
 * EMULATION: keepalived's track_process needs the kernel proc connector, which only the initial network
 * namespace has; the harness turns the generated vrrp_track_process into a weight-0 track_file that a
 * watcher writes when the LB's processes are gone (everything else in keepalived.conf is as generated).
 *
 * Needs root, iproute2, util-linux, curl, openssl, keepalived and haproxy — `npm test` installs them
 * first (scripts/test-deps.sh). A missing binary fails the test; nothing is skipped.
 */
import { readFileSync } from 'fs';
import { emulateTrackProcess, FailoverCluster, HAPROXY_FD_NOTE, kubeadmGuideEdits, renderBundles, runScenario, startCluster, summarize, TRACK_PROCESS_NOTE } from './harness/failover';
import { haSpec } from './util';

/** The bound this test asserts (the targets, ≤ 0.5 s median, are the bench's business). */
const RECOVERY_BOUND_MS = 5000;

describe('the generated configs adapted for the lab', () => {
  const conf = renderBundles(haSpec()).get('master-1')!.get('etc/keepalived/keepalived.conf')!.content;

  test('the track_process emulation changes only the track_process block and its reference', () => {
    const { conf: out, process } = emulateTrackProcess(conf, '/x/lb-process');
    expect(process).toBe('haproxy');
    const removed = conf.split('\n').filter((l) => !out.split('\n').includes(l));
    const added = out.split('\n').filter((l) => !conf.split('\n').includes(l));
    expect(removed).toEqual(['vrrp_track_process track_load_balancer {', '  process haproxy', '  quorum 1', '  track_process {']);
    expect(added.filter((l) => !l.startsWith('#'))).toEqual(['track_file track_load_balancer {', '  file "/x/lb-process"', '  track_file {']);
  });

  test('the kubeadm-guide edits: script every 3 s, fall 10, no track_process', () => {
    const out = kubeadmGuideEdits(conf);
    expect(out).toMatch(/^ {2}interval 3$/m);
    expect(out).toMatch(/^ {2}fall 10$/m);
    expect(out).not.toMatch(/track_process/);
    expect(out.split('\n').length).toBe(conf.split('\n').length - 9); // the 5-line block, its blank line, the 3-line reference
  });

  test('the outage arithmetic: from the fault to the first success after the last failure of the first episode', () => {
    const r = (s: number, e: number, ok: boolean) => ({ s, e, ok, ...(ok ? {} : { err: 'TIMEOUT' }) });
    const reqs = [r(900, 905, true), r(950, 1450, false), r(1000, 1005, true), r(1100, 1600, false), r(1150, 1155, true), r(1200, 1204, true),
      r(4000, 4500, false), r(4050, 4055, true)];
    expect(summarize(reqs, 1000, 9000, true)).toMatchObject({
      recoveryMs: 155, failed: 3, failedInOutage: 2, failedInFlight: 1, lateFailures: 1, lastFailureMs: 3500, total: 7, maxOkLatencyMs: 5,
    });
    expect(summarize([r(1000, 1005, true)], 1000, 2000, true)).toMatchObject({ recoveryMs: 0, failed: 0, lastFailureMs: 0 });
  });
});

describe('fail-over of the VIP with real keepalived and haproxy', () => {
  let cluster: FailoverCluster | undefined;

  afterEach(async () => {
    const c = cluster;
    cluster = undefined;
    await c?.destroy();
  }, 30_000);

  test.each([
    ['node-loss', 'master node loss (link down)'],
    ['lb-death', 'haproxy SIGKILL'],
  ] as const)('%s: %s on the VIP holder is over within 5 s and the VIP moves', async (scenario, _what) => {
    cluster = await startCluster({ lb: 'haproxy' });
    const r = await runScenario(cluster, scenario, { windowMs: 4000, stableMs: 2000, maxMs: 15_000 });
    const o = r.observation;
    // eslint-disable-next-line no-console
    console.log(`${scenario} (haproxy, default profile): outage ${o.recoveryMs} ms, ${o.failed}/${o.total} requests failed `
      + `(${JSON.stringify(o.errors)}; ${o.lateFailures} after the first episode), VIP ${r.holderBefore} -> ${r.holdersAfter.join(',')}, client -> ${r.clientTarget}\n`
      + `NOTE: ${TRACK_PROCESS_NOTE}\nNOTE: ${HAPROXY_FD_NOTE}`);
    const diag = () => (o.recovered && o.recoveryMs < RECOVERY_BOUND_MS ? '' : cluster!.diagnostics());
    expect({ recovered: o.recovered, withinBound: o.recoveryMs < RECOVERY_BOUND_MS, diag: diag() }).toEqual({ recovered: true, withinBound: true, diag: '' });
    expect(r.holderBefore).toBe('m1');
    expect(r.clientTarget).toBeDefined();
    expect(r.clientTarget).not.toBe(r.holderBefore);
    expect(r.holdersAfter).toContain(r.clientTarget);
    if (scenario === 'lb-death') {
      // The old holder dropped the VIP, and it was the (emulated) process tracking that did it.
      expect(r.holdersAfter).not.toContain(r.holderBefore);
      const kaLog = readFileSync(cluster.processOf(r.holderBefore, 'keepalived').logFile, 'utf8');
      expect(kaLog).toMatch(/tracked file track_load_balancer now FAULT state/);
    }
  }, 60_000);
});
