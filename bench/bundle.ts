// `npm run bench` (second part): the cost of installable bundles, as ratios measured in this run.
// - synth with tarballs vs plain synth of the default example (in-process, median after warm-up);
// - the installer (sh install.sh --root) into an empty root and again (nothing to do) vs `cp -a` of
//   the same node tree (the README's copy-by-hand route), all as whole processes.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXAMPLE_SPEC, HaControlPlane, StaticPodApp } from '../lib';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time of fn over runs (after warm-ups); prepare runs untimed before each call. */
function measure(runs: number, fn: (i: number) => void, prepare: (i: number) => void = () => undefined): number {
  for (let i = 0; i < 3; i++) {
    prepare(-1 - i);
    fn(-1 - i);
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    prepare(i);
    const t0 = process.hrtime.bigint();
    fn(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-bench-bundle-'));
try {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const synth = (tarballs: boolean) => (i: number) => {
    const app = new StaticPodApp({ reporter: false, outdir: path.join(root, `${tarballs ? 'tar' : 'plain'}-${i}`), tarballs });
    new HaControlPlane(app, EXAMPLE_SPEC.name, { spec: EXAMPLE_SPEC });
    app.synth();
  };
  // Interleaved, so both see the same machine load and JIT state.
  for (let i = 0; i < 5; i++) {
    synth(false)(-1 - i);
    synth(true)(-1 - i);
  }
  const plainTimes: number[] = [];
  const tarTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [times, fn] of [[plainTimes, synth(false)], [tarTimes, synth(true)]] as const) {
      const t0 = process.hrtime.bigint();
      fn(i);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const plain = median(plainTimes);
  const withTarballs = median(tarTimes);

  // One node's bundle, extracted once.
  const x = path.join(root, 'x');
  fs.mkdirSync(x);
  execFileSync('tar', ['-xzf', path.join(root, 'tar-0', EXAMPLE_SPEC.name, 'bundles', 'master-1.tar.gz'), '-C', x]);
  const bundle = path.join(x, 'master-1');
  const procRuns = Number(process.env.BENCH_PROC_RUNS ?? 10);
  const target = (kind: string, i: number) => path.join(root, `${kind}-${i}`);
  const fresh = (kind: string) => (i: number) => fs.mkdirSync(target(kind, i));
  const copy = measure(procRuns, (i) => execFileSync('cp', ['-a', path.join(bundle, 'files', '.'), target('cp', i)]), fresh('cp'));
  const install = (i: number) => execFileSync('sh', [path.join(bundle, 'install.sh'), '--root', target('inst', i), '--node-name', 'master-1'], { stdio: 'ignore' });
  const installFresh = measure(procRuns, install, fresh('inst'));
  const installAgain = measure(procRuns, install);

  console.log(`\nbundle benchmark: node ${process.version}; synth median of ${runs} runs, processes median of ${procRuns}`);
  console.log('| case | median ms | ratio |');
  console.log('|---|---:|---:|');
  console.log(`| synth, default example (3 nodes) | ${plain.toFixed(1)} | 1.00 |`);
  console.log(`| synth + tarballs (3 × .tar.gz + SHA256SUMS) | ${withTarballs.toFixed(1)} | ${(withTarballs / plain).toFixed(2)} × synth |`);
  console.log(`| cp -a of master-1's tree (10 files) | ${copy.toFixed(1)} | 1.00 |`);
  console.log(`| install.sh --root, empty root | ${installFresh.toFixed(1)} | ${(installFresh / copy).toFixed(1)} × cp -a |`);
  console.log(`| install.sh --root, again (no changes) | ${installAgain.toFixed(1)} | ${(installAgain / copy).toFixed(1)} × cp -a |`);
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}
