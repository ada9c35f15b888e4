// `npm run bench:ansible`: a Kubernetes minor upgrade by the generated rolling-update.yml (the real
// ansible-playbook) on three masters of real components run from their installed bundles by the pod
// runner (test/harness/control-plane-lab.ts): the lab starts at the minor before the default (its
// kube-apiserver, controller manager, scheduler and etcd built from the Go module proxy), the playbook
// takes it to the default, one master at a time with the VIP holder last, while a client creates and
// reads a ConfigMap through the VIP every 100 ms. Prints the time per master (from Ansible's own log:
// the etcd leader hand-over, install.sh, the health gate), the total, and the client's acknowledged,
// failed and lost requests, with the pod events around each failure. A fresh lab per run.
//
// Environment:
//   ANSIBLE_BENCH_RUNS=1   runs (each about 3 minutes on a 2-core machine)
//   ANSIBLE_BENCH_APISERVER_ARGS=name=value,…   kube-apiserver flags for the whole run (apiServer.extraArgs,
//                          e.g. shutdown-delay-duration=3s), from the first install on
//
// Needs root, ansible-core, and what `bash scripts/test-deps.sh` installs and builds. Not part of
// `npm run bench` (which stays quick).
import { ClusterSpec } from '../lib';
import {
  formatFailures, formatRollingRun, RollingRun, rollingUpdate, startUpgradeLab, upgradedSpec, UPGRADE_FROM, UPGRADE_TO,
} from '../test/harness/ansible-upgrade';

const RUNS = Number(process.env.ANSIBLE_BENCH_RUNS ?? 1);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`ANSIBLE_BENCH_RUNS: ${process.env.ANSIBLE_BENCH_RUNS} is not a positive integer`);

const APISERVER_ARGS: NonNullable<NonNullable<ClusterSpec['apiServer']>['extraArgs']> = (process.env.ANSIBLE_BENCH_APISERVER_ARGS ?? '').split(',').filter(Boolean).map((a) => {
  const [name, ...value] = a.split('=');
  if (!name || value.length === 0) throw new Error(`ANSIBLE_BENCH_APISERVER_ARGS: ${a} is not name=value`);
  return { name, value: value.join('=') };
});

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function oneRun(run: number): Promise<RollingRun> {
  const t0 = Date.now();
  const al = await startUpgradeLab(undefined, APISERVER_ARGS.length > 0 ? { apiServer: { extraArgs: APISERVER_ARGS } } : {});
  try {
    console.error(`run ${run}: lab at ${UPGRADE_FROM.latestPatch} ready in ${secs(Date.now() - t0)}`);
    const r = await rollingUpdate(al, upgradedSpec(al.cp), `upgrade-${run}`);
    if (r.result.code !== 0) throw new Error(`rolling-update.yml exited ${r.result.code}:\n${r.result.stdout.slice(-4000)}\n${r.result.stderr.slice(-2000)}`);
    console.error(`run ${run}: ${formatRollingRun(r)}`);
    if (r.failures.length > 0) console.error(`run ${run}: failed requests and the pod events around them:\n${formatFailures(r.failures)}`);
    return r;
  } finally {
    await al.destroy();
    await al.cp.destroy();
  }
}

async function main(): Promise<void> {
  const runs: RollingRun[] = [];
  for (let i = 1; i <= RUNS; i++) runs.push(await oneRun(i));

  console.log(`\nrolling-update.yml, Kubernetes ${UPGRADE_FROM.latestPatch} → ${UPGRADE_TO.latestPatch} (etcd ${UPGRADE_FROM.etcdImageTag} → ${UPGRADE_TO.etcdImageTag}), `
    + `3 masters of real components, client every 100 ms through the VIP; ${RUNS} run${RUNS > 1 ? 's' : ''}`
    + `${APISERVER_ARGS.length > 0 ? `; kube-apiserver ${APISERVER_ARGS.map((a) => `--${a.name}=${a.value}`).join(' ')}` : ''}\n`);
  console.log('| run | per master, in order (etcd leader hand-over, install, gate) | total | writes acknowledged | failed writes / reads | errors | acknowledged writes lost |');
  console.log('|---|---|---:|---:|---:|---|---:|');
  for (const [i, r] of runs.entries()) {
    const per = r.installed.map((m) => {
      const w = r.windows.get(m);
      return `${m}${m === r.holder ? ' (VIP)' : ''} ${w ? secs(w.end - w.start) : '?'}`;
    });
    const errors = Object.entries(r.api.errors).map(([k, n]) => `${n} ${k}`).join(', ');
    console.log(`| ${i + 1} | ${per.join(', ')} | ${secs(r.totalMs)} | ${r.acked} of ${r.api.writes} | ${r.api.failedWrites} / ${r.api.failedReads} of ${r.api.reads} reads | `
      + `${errors || 'none'} | ${r.lost.length} |`);
  }
  if (runs.length > 1) {
    const sum = (f: (r: RollingRun) => number) => runs.reduce((n, r) => n + f(r), 0);
    const perMaster = runs.flatMap((r) => [...r.windows.values()].map((w) => w.end - w.start)).sort((a, b) => a - b);
    console.log(`\nAll ${runs.length} runs: per master ${secs(perMaster[0])}–${secs(perMaster[perMaster.length - 1])} (median ${secs(perMaster[Math.floor(perMaster.length / 2)])}), `
      + `total ${secs(Math.min(...runs.map((r) => r.totalMs)))}–${secs(Math.max(...runs.map((r) => r.totalMs)))}; `
      + `${sum((r) => r.api.failedWrites)} of ${sum((r) => r.api.writes)} writes and ${sum((r) => r.api.failedReads)} of ${sum((r) => r.api.reads)} reads failed; `
      + `${sum((r) => r.lost.length)} of ${sum((r) => r.acked)} acknowledged writes lost`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
