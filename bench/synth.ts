// `npm run bench`: synth time of the default example, a 5-master cluster and the hardened example, as ratios to a bare
// one-pod cdk8s app, all measured in this run (in-process, median of repeated runs after warm-up).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { ClusterSpec, EXAMPLE_SPEC, HaControlPlane, StaticPodApp } from '../lib';

const FIVE: ClusterSpec = {
  ...EXAMPLE_SPEC,
  name: 'five',
  masters: [1, 2, 3, 4, 5].map((i) => ({ name: `master-${i}`, address: `192.168.10.${10 + i}` })),
};

/** The example with the hardened security profile (key in props: no state written by the bench). */
const HARDENED: ClusterSpec = { ...EXAMPLE_SPEC, name: 'hardened', security: { profile: 'hardened' } };
const BENCH_KEY = Buffer.alloc(32, 7).toString('base64');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(name: string, runs: number, fn: (outdir: string) => void): { name: string; ms: number } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-bench-'));
  try {
    for (let i = 0; i < 5; i++) fn(path.join(root, `warm-${i}`));
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const out = path.join(root, `run-${i}`);
      const t0 = process.hrtime.bigint();
      fn(out);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return { name, ms: median(times) };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const runs = Number(process.env.BENCH_RUNS ?? 40);
const bare = measure('bare one-pod cdk8s app', runs, (outdir) => {
  const app = new App({ outdir });
  const chart = new Chart(app, 'bare');
  new k8s.KubePod(chart, 'pod', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  app.synth();
});
const cluster = (s: ClusterSpec) => (outdir: string) => {
  const app = new StaticPodApp({ outdir });
  new HaControlPlane(app, s.name, { spec: s, encryptionKey: BENCH_KEY });
  app.synth();
};
/** "N masters, P pods, F files" of a spec, counted from its rendered bundle. */
const describe = (s: ClusterSpec): string => {
  const app = new StaticPodApp({ outdir: '/nonexistent' });
  new HaControlPlane(app, s.name, { spec: s, encryptionKey: BENCH_KEY });
  const files = [...app.renderBundles().get(s.name)!.values()].flat();
  return `${s.masters.length} masters, ${files.filter((f) => f.path.includes('/manifests/')).length} pods, ${files.length} files`;
};
const rows = [
  bare,
  measure(`default example (${describe(EXAMPLE_SPEC)})`, runs, cluster(EXAMPLE_SPEC)),
  measure(`5-master example (${describe(FIVE)})`, runs, cluster(FIVE)),
  measure(`hardened example (${describe(HARDENED)})`, runs, cluster(HARDENED)),
];

// Whole processes, as `cdk8s synth` runs them: node start, module loading, synth, exit.
const repo = path.resolve(__dirname, '..', '..');
const bareScript = `const {App,Chart}=require('cdk8s');const {k8s}=require('cdk8s-plus-27');const a=new App();` +
  `new k8s.KubePod(new Chart(a,'bare'),'pod',{metadata:{name:'p'},spec:{containers:[{name:'c',image:'busybox'}]}});a.synth();`;
const procRuns = Number(process.env.BENCH_PROC_RUNS ?? 8);
const proc = (name: string, args: string[]) => measure(name, procRuns, (outdir) => {
  execFileSync(process.execPath, args, { cwd: repo, env: { ...process.env, CDK8S_OUTDIR: outdir }, stdio: 'ignore' });
});
const procBare = proc('process: bare one-pod cdk8s app', ['-e', bareScript]);
const procMain = proc('process: build/main.js (default example)', [path.join(repo, 'build', 'main.js')]);

console.log(`synth benchmark: median of ${runs} runs each, node ${process.version}`);
console.log('| case | median ms | ratio to bare |');
console.log('|---|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(2)} | ${(r.ms / bare.ms).toFixed(2)} |`);
for (const r of [procBare, procMain]) console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${(r.ms / procBare.ms).toFixed(2)} |`);
