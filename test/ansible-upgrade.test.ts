/**
 * A Kubernetes minor upgrade and a rollback that installs, both by the generated playbooks, on a lab of
 * real components (test/harness/control-plane-lab.ts) started at Kubernetes 1.36: the pod runner runs the
 * binaries of each manifest's image tag (kube-apiserver, controller manager and scheduler v1.36.3, etcd
 * 3.6.8), rolling-update.yml takes the cluster to the default minor (v1.37.2, etcd 3.7.0), then a flag
 * change rolls out and rollback.yml reinstalls, master by master, the bundle the playbooks kept. A client
 * writes and reads through the VIP every 100 ms throughout (test/harness/ansible-upgrade.ts).
 *
 * The rollback goes back from a flag change, not from the upgrade: once every member runs etcd 3.7 the
 * cluster version is 3.7, and etcd 3.6 may join it only after `etcdctl downgrade enable 3.6` (etcd's
 * downgrade guide), which the playbooks do not run; Kubernetes supports no minor downgrade of its API
 * servers either. rollback.yml refuses to go back across a minor (test/ansible.test.ts).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AnsibleLab, hostsOfTask, withFlag } from './harness/ansible-lab';
import {
  apiServerVersion, etcdRelease, etcdVersion, failuresWithEvents, formatClient, formatFailures, formatRollingRun, RollingRun, rollingUpdate, startUpgradeLab, upgradedSpec,
  UPGRADE_FROM as FROM, UPGRADE_TO as TO,
} from './harness/ansible-upgrade';
import { ControlPlaneLab } from './harness/control-plane-lab';
import { vipHolder } from './harness/real-failover';

jest.setTimeout(900_000);

let cp: ControlPlaneLab;
let al: AnsibleLab;
/** The upgrade's run (the rollback test starts from the cluster it left). */
let upgraded: RollingRun | undefined;
/** The task that stops a master's API server before its etcd restarts (roles/ha_control_plane/tasks/stop-apiserver.yml). */
const STOP_APISERVER = 'Stop the API server | move its manifest out of the manifests directory';
const log = (line: string) => process.stderr.write(`[ansible-upgrade] ${line}\n`);

beforeAll(async () => {
  al = await startUpgradeLab(log);
  cp = al.cp;
}, 600_000);
afterAll(async () => {
  await al?.destroy();
  await cp?.destroy();
});

/** The run's figures and each failed request with the pod events around it, in the test log. */
function report(what: string, run: RollingRun): void {
  log(`${what}: ${formatRollingRun(run)}`);
  if (run.failures.length > 0) log(`${what}: failed requests and the pod events around them:\n${formatFailures(run.failures)}`);
}

/** Every file of a node's bundle directory (`<clusterDir>/<node>/`), relative to it. */
function bundleFiles(nodeDir: string): string[] {
  return readdirSync(nodeDir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(nodeDir, f)).isFile()).sort();
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe(`a minor upgrade ${FROM.minor} → ${TO.minor} and a rollback by the playbooks`, () => {
  test(`the lab runs ${FROM.minor}: the pod runner picked the binaries of the manifests' image tags`, async () => {
    expect(cp.plan.kubernetesVersion).toBe(FROM.latestPatch);
    for (const m of cp.masters) {
      expect({ m, api: await apiServerVersion(cp, m) }).toEqual({ m, api: `v${FROM.latestPatch}` });
      expect({ m, etcd: (await etcdVersion(cp, m)).etcdserver }).toEqual({ m, etcd: etcdRelease(FROM.etcdImageTag) });
      const started = cp.runners.get(m)!.events().filter((e) => e.reason === 'Started').map((e) => e.message);
      for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
        expect(started).toContainEqual(expect.stringContaining(`Started container ${c} (built ${c} v${FROM.latestPatch})`));
      }
    }
  });

  test(`rolling-update.yml to ${TO.minor}: every master ends on v${TO.latestPatch} and etcd ${etcdRelease(TO.etcdImageTag)}, one at a time, the VIP holder last; no acknowledged write lost`, async () => {
    const run = await rollingUpdate(al, upgradedSpec(cp), 'upgrade');
    report(`upgrade ${FROM.latestPatch} → ${TO.latestPatch}`, run);
    expect({ code: run.result.code, tail: run.result.code === 0 ? '' : run.result.stdout.slice(-4000) + run.result.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
    upgraded = run;

    // Every master once, the VIP holder last.
    expect([...run.installed].sort()).toEqual([...cp.masters].sort());
    expect(run.installed[run.installed.length - 1]).toBe(run.holder);
    // The etcd manifest changed on each: its API server was stopped (manifest moved out) before install.sh
    // restarted etcd.
    expect(hostsOfTask(run.result.stdout, STOP_APISERVER)).toEqual(run.installed);
    for (const m of run.installed) {
      const ev = cp.runners.get(m)!.events();
      const apiStop = ev.find((e) => e.reason === 'Killing' && e.pod === 'kube-apiserver' && e.message.includes('(the manifest was removed)'))?.at;
      const etcdStop = ev.find((e) => e.reason === 'Killing' && e.pod === 'etcd' && e.message.includes('(the manifest changed)'))?.at;
      expect({ m, apiServerFirst: apiStop !== undefined && etcdStop !== undefined && apiStop < etcdStop }).toEqual({ m, apiServerFirst: true });
    }
    // One at a time: each master's new etcd and API server started inside its own window of the play,
    // and the windows follow one another.
    const windows = run.installed.map((m) => ({ m, ...run.windows.get(m)! }));
    for (const [i, w] of windows.entries()) {
      expect(w.start).toBeLessThan(w.end);
      if (i > 0) expect(w.start).toBeGreaterThanOrEqual(windows[i - 1].end);
      for (const [c, what] of [['kube-apiserver', `built kube-apiserver v${TO.latestPatch}`], ['etcd', `built etcd v${etcdRelease(TO.etcdImageTag)}`]]) {
        const at = cp.runners.get(w.m)!.events().filter((e) => e.reason === 'Started' && e.container === c && e.message.includes(`(${what})`)).map((e) => e.at);
        expect({ m: w.m, c, starts: at.length }).toEqual({ m: w.m, c, starts: 1 });
        expect({ m: w.m, c, inWindow: at[0] >= w.start && at[0] <= w.end }).toEqual({ m: w.m, c, inWindow: true });
      }
    }
    // Every API server and etcd member reports the new version on its own address; etcd's cluster and
    // storage versions moved up to the new minor once all members ran it.
    const etcdMinor = etcdRelease(TO.etcdImageTag).replace(/\.\d+$/, '.0');
    for (const m of cp.masters) {
      expect({ m, api: await apiServerVersion(cp, m) }).toEqual({ m, api: `v${TO.latestPatch}` });
      const etcd = await etcdVersion(cp, m);
      expect({ m, etcd }).toEqual({ m, etcd: { etcdserver: etcdRelease(TO.etcdImageTag), etcdcluster: etcdMinor, storage: etcdMinor } });
    }
    expect(run.acked).toBeGreaterThan(0);
    expect(run.lost).toEqual([]);
  });

  test('rollback.yml after a flag change: every master gets the upgrade\'s files back, one at a time, the gate after each; no acknowledged write lost', async () => {
    expect(upgraded).toBeDefined();
    const base = upgraded!;
    const flagged = await rollingUpdate(al, withFlag(upgradedSpec(cp), 'profiling', 'false'), 'flag');
    report('flag change', flagged);
    expect({ code: flagged.result.code, tail: flagged.result.code === 0 ? '' : flagged.result.stdout.slice(-4000) }).toEqual({ code: 0, tail: '' });
    const manifest = (m: string) => readFileSync(join(cp.rootOf(m), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
    for (const m of cp.masters) expect({ m, flag: manifest(m).includes('- --profiling=false') }).toEqual({ m, flag: true });
    // etcd's manifests did not change: no API server was stopped ahead of the install.
    expect(hostsOfTask(flagged.result.stdout, STOP_APISERVER)).toEqual([]);

    // Back, master by master, the VIP holder last (the order rolling-update.yml takes).
    const holder = (await vipHolder(cp))!;
    const order = [...cp.masters.filter((m) => m !== holder), holder];
    const dir = al.labAnsible(flagged.clusterDir);
    const t0 = Date.now();
    const back = await al.withClient('rollback', async () => {
      const out = [];
      for (const m of order) out.push({ m, run: await al.playbook(dir, 'rollback.yml', ['-e', `hacp_node=${m}`]) });
      return out;
    });
    const { result: runs, acked, lost } = back;
    log(`rollback of ${order.join(', ')}: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${formatClient(back)}`);
    const failures = failuresWithEvents(cp, back.requests);
    if (failures.length > 0) log(`failed requests and the pod events around them:\n${formatFailures(failures)}`);
    for (const { m, run } of runs) {
      expect({ m, code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-4000) }).toEqual({ m, code: 0, tail: '' });
      expect(hostsOfTask(run.stdout, 'Run install.sh')).toEqual([m]);
      // The gate after the rollback passed: all three checks answered.
      for (const check of ['Gate | etcd members healthy', 'Gate | API servers ready on their own addresses', 'Gate | controller manager and scheduler Leases held and renewed']) {
        expect({ m, check, hosts: [...new Set(hostsOfTask(run.stdout, check))] }).toEqual({ m, check, hosts: [m] });
      }
    }
    // Every file of the upgrade's bundle is back on every master, byte for byte; the playbooks' tarballs swapped.
    for (const m of cp.masters) {
      const nodeDir = join(base.clusterDir, m);
      const files = bundleFiles(nodeDir);
      expect(files).toContain('etc/kubernetes/manifests/kube-apiserver.yaml');
      const differ = files.filter((f) => !readFileSync(join(cp.rootOf(m), f)).equals(readFileSync(join(nodeDir, f))));
      expect({ m, differ }).toEqual({ m, differ: [] });
      expect(manifest(m)).not.toContain('--profiling=false');
      const kept = join(cp.rootOf(m), 'var/lib/ha-control-plane/ansible', cp.spec.name);
      expect({ m, current: sha256(join(kept, 'current.tar.gz')), previous: sha256(join(kept, 'previous.tar.gz')) })
        .toEqual({ m, current: sha256(join(base.clusterDir, 'bundles', `${m}.tar.gz`)), previous: sha256(join(flagged.clusterDir, 'bundles', `${m}.tar.gz`)) });
    }
    // Still the upgraded versions.
    for (const m of cp.masters) expect({ m, api: await apiServerVersion(cp, m) }).toEqual({ m, api: `v${TO.latestPatch}` });
    expect(acked).toBeGreaterThan(0);
    expect(lost).toEqual([]);
  });
});
