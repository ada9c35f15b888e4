/**
 * The generated playbooks run by the real ansible-playbook (Debian's ansible-core) against a running
 * control plane of real components (test/harness/control-plane-lab.ts: three masters in network
 * namespaces, each run from its installed bundle by the pod runner, which restarts a pod whose manifest
 * changes as the kubelet does). Ansible runs in the lab's client namespace (test/harness/ansible-lab.ts)
 * and reaches each master over ssh: a real sshd in every node namespace, on that node's lab address, its
 * host key pinned; the masters share the host's filesystem, so each has its root directory as hacp_root.
 * Every command, gate and install.sh run is the playbooks' own. A client writes and reads through the VIP
 * every 100 ms meanwhile.
 */
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterSpec } from '../lib';
import { summarizeApi } from './harness/api-client';
import { AnsibleLab, hostsOfTask, startAnsibleLab, withFlag } from './harness/ansible-lab';
import { failuresWithEvents, formatFailures } from './harness/ansible-upgrade';
import { ControlPlaneLab, startControlPlane } from './harness/control-plane-lab';
import { sleep, waitFor } from './harness/failover';
import { vipHolder } from './harness/real-failover';

jest.setTimeout(900_000);

let cp: ControlPlaneLab;
let al: AnsibleLab;
/** The spec the masters run now: the tests that add, replace and remove masters change it in turn. */
let current: ClusterSpec;
const log = (line: string) => process.stderr.write(`[ansible-lab] ${line}\n`);

beforeAll(async () => {
  // pki.mode generate: a master added later gets its certificates from the same CAs (the lab's PKI state).
  cp = await startControlPlane({ log, bootstrap: 'generate', spareMasters: 2 });
  await cp.waitAllReady(240_000);
  await cp.finishBootstrap();
  al = await startAnsibleLab(cp);
  current = withFlag(cp.spec, 'profiling', 'false');
}, 600_000);
afterAll(async () => {
  await al?.destroy();
  await cp?.destroy();
});

/** `etcdctl member list` of a master's member: ID (hex), status, name, client URLs. */
async function members(master: string): Promise<{ id: string; status: string; name: string; clientURLs: string }[]> {
  const r = await al.memberList(master, []);
  if (r.code !== 0) throw new Error(`etcdctl member list on ${master}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => {
    const [id, status, name, , clientURLs] = line.split(', ');
    return { id, status, name, clientURLs };
  });
}

/** `etcdctl endpoint health --cluster` asked of master-1's member: its exit code, the members it lists and the healthy ones. */
async function memberHealth(): Promise<{ code: number | null; healthy: number; all: number }> {
  const r = await al.etcdctlOn(cp.masters[0], ['endpoint', 'health', '--cluster', '-w', 'json']);
  const health = /^\[/.test(r.stdout) ? JSON.parse(r.stdout) as { endpoint: string; health: boolean }[] : [];
  return { code: r.code, healthy: health.filter((h) => h.health).length, all: health.length };
}

/** `etcdctl endpoint health --cluster` lists `n` members, every one healthy. */
async function expectHealthyMembers(n: number): Promise<void> {
  expect(await memberHealth()).toEqual({ code: 0, healthy: n, all: n });
}

/** What a master's API server answers to /readyz on its own address ("ok" when ready). */
async function readyz(m: string, timeoutMs?: number): Promise<string> {
  return (await cp.kubectl([`--server=https://${cp.addressOf(m)}:${cp.plan.apiServer.bindPort}`, 'get', '--raw', '/readyz'], { node: cp.clientNode, timeoutMs })).stdout;
}

/** Every named master's API server answers /readyz on its own address. */
async function expectReadyz(masters: readonly string[]): Promise<void> {
  for (const m of masters) {
    expect({ m, readyz: await readyz(m) }).toEqual({ m, readyz: 'ok' });
  }
}

/**
 * add-master.yml for a spare node: its runner started, the spec grown by it (etcdState existing), the
 * playbook run while the client writes; asserts the order (member add, then its install first), the
 * started members, its API server and the others' haproxy.
 */
async function addMaster(node: string, tag: string): Promise<void> {
  cp.startRunner(node);
  current = { ...current, masters: [...current.masters, { name: node, address: cp.addressOf(node), etcdState: 'existing' }] };
  const all = current.masters.map((m) => m.name);
  const dir = al.labAnsible(await cp.synthesize(current));
  const t0 = Date.now();
  const { result: run, api, acked, lost } = await al.withClient(tag, () => al.playbook(dir, 'add-master.yml', ['-e', `hacp_node=${node}`]));
  log(`add-master ${node} (and the rolling update of the ${all.length - 1} others): ${((Date.now() - t0) / 1000).toFixed(1)} s; client: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), longest write outage ${api.writeOutageMs} ms, ${acked} acknowledged writes, ${lost.length} lost`);
  expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-5000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
  // member add before the new member's first install; its install first, the others after.
  expect(hostsOfTask(run.stdout, 'Add the member')).toEqual([node]);
  const installs = hostsOfTask(run.stdout, 'Run install.sh');
  expect(installs[0]).toBe(node);
  expect([...new Set(installs)].sort()).toEqual([...all].sort());
  // Every member started, the new one among them, all healthy; its API server ready on its own address.
  const list = await members(cp.masters[0]);
  expect(list.map((x) => x.name).sort()).toEqual([...all].sort());
  expect(list.every((x) => x.status === 'started' && x.clientURLs.length > 0)).toBe(true);
  await expectHealthyMembers(all.length);
  await expectReadyz([node]);
  // The old masters' haproxy now sends to the new API server too.
  expect(readFileSync(join(cp.rootOf(cp.masters[0]), 'etc/haproxy/haproxy.cfg'), 'utf8')).toContain(`${cp.addressOf(node)}:${cp.plan.apiServer.bindPort}`);
  expect(acked).toBeGreaterThan(0);
  expect(lost).toEqual([]);
}

describe('the playbooks on a running control plane', () => {
  test('rolling-update.yml: a changed kube-apiserver flag reaches every master one at a time, the VIP holder last; no acknowledged write lost', async () => {
    const holder = await vipHolder(cp);
    expect(cp.masters).toContain(holder);
    const dir = al.labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const t0 = Date.now();
    const { result: run, api, acked, lost } = await al.withClient('rolling', () => al.playbook(dir, 'rolling-update.yml'));
    const seconds = (Date.now() - t0) / 1000;
    log(`rolling update of ${cp.masters.length} masters: ${seconds.toFixed(1)} s; client: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), longest write outage ${api.writeOutageMs} ms, ${acked} acknowledged writes, ${lost.length} lost`);
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-4000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });

    // One master at a time, the VIP holder last; every master's API server runs the new flag.
    const installed = hostsOfTask(run.stdout, 'Run install.sh');
    expect([...installed].sort()).toEqual([...cp.masters].sort());
    expect(installed[installed.length - 1]).toBe(holder);
    for (const m of cp.masters) {
      const manifest = readFileSync(join(cp.rootOf(m), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
      expect({ m, flag: manifest.includes('- --profiling=false') }).toEqual({ m, flag: true });
    }
    // Ansible reached every master through its own sshd, with the run's key, from the client's address.
    for (const m of cp.masters) {
      expect({ m, ssh: al.sshdLog(m).includes(`Accepted publickey for root from ${cp.addressOf(cp.clientNode)} `) }).toEqual({ m, ssh: true });
    }
    // Gated once before anything changed, then after each master.
    expect(hostsOfTask(run.stdout, 'Gate | etcd members healthy').length).toBe(1 + cp.masters.length);
    expect(acked).toBeGreaterThan(0);
    expect(lost).toEqual([]);
  });

  test('a second run changes no file on any master', async () => {
    const dir = al.labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const run = await al.playbook(dir, 'rolling-update.yml');
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-4000) }).toEqual({ code: 0, tail: '' });
    const said = [...run.stdout.matchAll(/"msg": "(no changes: [^"]*|done: [^"]*)"/g)].map((m) => m[1]);
    expect(said).toHaveLength(cp.masters.length);
    for (const s of said) expect(s).toMatch(/^no changes: /);
  });

  test('rollback.yml refuses a master whose earlier bundle the playbooks did not install (the lab installed it by hand): nothing changed', async () => {
    const dir = al.labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const node = cp.masters[0];
    const before = readFileSync(join(cp.rootOf(node), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
    const run = await al.playbook(dir, 'rollback.yml', ['-e', `hacp_node=${node}`]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`${node} has no previous bundle (${cp.rootOf(node)}/var/lib/ha-control-plane/ansible/${cp.spec.name}/previous.tar.gz); nothing was changed`);
    expect(hostsOfTask(run.stdout, 'Run install.sh')).toEqual([]);
    expect(readFileSync(join(cp.rootOf(node), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8')).toBe(before);
  });

  test('a degraded control plane stops remove-master.yml at its first gate: nothing removed, nothing installed', async () => {
    const smaller: ClusterSpec = { ...cp.spec, masters: cp.spec.masters.filter((m) => m.name !== cp.masters[2]) };
    // The bundles of a spec the cluster never runs: synthesizing them reissues the API server certificates
    // in the PKI state (their SANs name every master), so the state goes back to the running spec's after.
    const state = join(cp.workDir, 'pki-state');
    cpSync(state, `${state}.running`, { recursive: true });
    const dir = al.labAnsible(await cp.synthesize(smaller));
    rmSync(state, { recursive: true });
    renameSync(`${state}.running`, state);
    // One remaining master loses its link: the cluster is degraded.
    const down = cp.masters[1];
    const cut = await cp.lab.exec(down, 'ip', ['link', 'set', 'eth0', 'down']);
    expect(cut.code).toBe(0);
    try {
      const run = await al.playbook(dir, 'remove-master.yml', ['-e', `hacp_node=${cp.masters[2]}`, '-e', 'hacp_gate_retries=2', '-e', 'hacp_gate_delay=1']);
      expect(run.code).toBe(2);
      expect(run.stdout).toContain(`health gate failed before removing ${cp.masters[2]}: Gate | etcd members healthy`);
      expect(hostsOfTask(run.stdout, 'Remove the member')).toEqual([]);
      expect(run.stdout).not.toContain('TASK [ha_control_plane : Run install.sh]');
    } finally {
      await cp.lab.exec(down, 'ip', ['link', 'set', 'eth0', 'up']);
    }
    // The link is back: the tests after this one start from a healthy cluster. The cut-off member takes
    // a while to hear from the leader again (its peer connections were cut mid-stream), and a master lost
    // meanwhile would take the quorum with it (the replace test, run right after, once did: 8.8 s
    // without a leader).
    const t0 = Date.now();
    await waitFor('every etcd member healthy again after the link came back', 120_000, async () => {
      const h = await memberHealth();
      return h.code === 0 && h.healthy === 3;
    }, undefined, 500);
    log(`${down}'s link back: all three etcd members healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await expectReadyz(cp.masters);
    // Still three members.
    const members = await al.memberList(cp.masters[0], []);
    expect(members.stdout.trim().split('\n')).toHaveLength(3);
  });

  test('replace-master.yml: a dead master (every pod SIGKILLed, its root wiped) is replaced by a blank node of the same name and address: the dead member removed first, then the new one added, installed and gated; no acknowledged write lost', async () => {
    const node = cp.masters[2];
    await expectHealthyMembers(3);
    const oldId = (await members(cp.masters[0])).find((x) => x.name === node)?.id;
    expect(oldId).toMatch(/^[0-9a-f]+$/);
    // The replacement keeps the name and address and joins the running etcd cluster in the dead member's place.
    current = { ...current, masters: current.masters.map((m) => (m.name === node ? { ...m, etcdState: 'replacement' } : m)) };
    const dir = al.labAnsible(await cp.synthesize(current));
    let seconds = 0;
    let sshdLogBefore = 0;
    let playbookAt = 0;
    const holder = await vipHolder(cp);
    const { result: run, api, acked, lost, requests } = await al.withClient('replace', async () => {
      // The machine dies: its pods (etcd, API server, controller manager, scheduler, keepalived, haproxy)
      // and its sshd. A blank machine with the same name and address takes its place: a new host key
      // (known_hosts updated, as `ssh-keygen -R` would), an empty root, the kubelet (pod runner) running.
      await cp.killNode(node, { wipe: true });
      await al.stopSsh(node);
      expect(existsSync(cp.rootOf(node))).toBe(false);
      await al.startSsh(node, { newHostKey: true });
      sshdLogBefore = al.sshdLog(node).length;
      cp.startRunner(node);
      // The loss itself costs what a node loss costs (etcd's election when it held the leadership, the
      // load balancers' checks): the playbook starts once the survivors have settled — each one's etcd
      // answers a linearizable read (a leader is elected) and its API server /readyz, twice 1 s apart —
      // so that the requests counted during it are the playbook's own.
      const survivors = cp.masters.filter((m) => m !== node);
      const settled = async () => (await Promise.all(survivors.flatMap((m) => [
        al.etcdctlOn(m, ['endpoint', 'health', '--command-timeout=2s']).then((r) => r.code === 0),
        readyz(m, 5_000).then((body) => body === 'ok'),
      ]))).every(Boolean);
      await waitFor('the survivors settled after the loss', 60_000, async () => await settled() && await sleep(1000).then(settled), undefined, 500);
      playbookAt = Date.now();
      const r = await al.playbook(dir, 'replace-master.yml', ['-e', `hacp_node=${node}`]);
      seconds = (Date.now() - playbookAt) / 1000;
      return r;
    });
    const said = [...run.stdout.matchAll(/"msg": "((?:no changes|done): [^"]*)"/g)].map((m) => m[1]);
    log(`replace-master ${node}: install.sh on ${hostsOfTask(run.stdout, 'Run install.sh').join(', ')}: ${said.join(' | ')}`);
    const during = summarizeApi(requests, playbookAt);
    const failures = failuresWithEvents(cp, requests.filter((r) => r.s >= playbookAt));
    if (failures.length > 0) log(`replace-master: failed requests during the playbook and the pod events around them:\n${formatFailures(failures)}`);
    log(`replace-master ${node} (dead, wiped; the VIP on ${holder} before): playbook ${seconds.toFixed(1)} s; client from the kill: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), longest write outage ${api.writeOutageMs} ms; during the playbook: ${during.failedWrites}/${during.writes} writes and ${during.failedReads}/${during.reads} reads failed (${JSON.stringify(during.errors)}), longest write outage ${during.writeOutageMs} ms; ${acked} acknowledged writes, ${lost.length} lost`);
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-5000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
    // The playbook reached the new machine through its new sshd (its new host key pinned).
    expect(al.sshdLog(node).slice(sshdLogBefore)).toContain(`Accepted publickey for root from ${cp.addressOf(cp.clientNode)} `);
    // The dead member removed before the new one was added, added before the node's first install.
    const at = (task: string) => run.stdout.indexOf(`TASK [ha_control_plane : ${task}]`);
    expect(at('Remove the member')).toBeGreaterThan(0);
    expect(at('Remove the member')).toBeLessThan(at('Add the member'));
    expect(at('Add the member')).toBeLessThan(at('Run install.sh'));
    expect(hostsOfTask(run.stdout, 'Remove the member')).toEqual([node]);
    expect(hostsOfTask(run.stdout, 'Add the member')).toEqual([node]);
    expect(hostsOfTask(run.stdout, 'Run install.sh')[0]).toBe(node);
    // Its bundle was checked to join the running cluster; the others' bundles did not change at all
    // (founding members list a replacement too), so nothing was installed on them.
    expect(hostsOfTask(run.stdout, 'Joining etcd | refuse a bundle whose etcd would start a new cluster')).toEqual([node]);
    expect(hostsOfTask(run.stdout, 'Run install.sh').slice(1).sort()).toEqual([...cp.masters].sort());
    expect(said.slice(1)).toEqual(cp.masters.map(() => expect.stringMatching(/^no changes: /)));
    // Three started members, the replaced one under a new member ID; every member healthy.
    const after = await members(cp.masters[0]);
    expect(after.map((x) => x.name).sort()).toEqual([...cp.masters].sort());
    expect(after.every((x) => x.status === 'started')).toBe(true);
    const newId = after.find((x) => x.name === node)!.id;
    log(`${node}: member ${oldId} replaced by member ${newId}`);
    expect(newId).not.toBe(oldId);
    await expectHealthyMembers(cp.masters.length);
    await expectReadyz(cp.masters);
    expect(acked).toBeGreaterThan(0);
    expect(lost).toEqual([]);
  });

  test('add-master.yml: a fourth master joins (its etcd member added before it starts), then the others get their changed files one at a time; no acknowledged write lost', async () => {
    await addMaster(cp.spares[0], 'add');
  });

  test('add-master.yml: a fifth master joins the four the same way; no acknowledged write lost', async () => {
    await addMaster(cp.spares[1], 'add5');
  });

  test('remove-master.yml: the fifth master leaves (member removed with the quorum kept, its manifests moved away, its pods stopped), the others updated; no acknowledged write lost', async () => {
    const node = cp.spares[1];
    current = { ...current, masters: current.masters.filter((m) => m.name !== node) };
    const left = current.masters.map((m) => m.name);
    const dir = al.labAnsible(await cp.synthesize(current));
    const t0 = Date.now();
    const { result: run, api, acked, lost } = await al.withClient('remove', () =>
      al.playbook(dir, 'remove-master.yml', ['-e', `hacp_node=${node}`, '-e', `hacp_address=${cp.addressOf(node)}`]));
    log(`remove-master ${node} (and the rolling update of the ${left.length} others): ${((Date.now() - t0) / 1000).toFixed(1)} s; client: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), longest write outage ${api.writeOutageMs} ms, ${acked} acknowledged writes, ${lost.length} lost`);
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-5000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
    // Removed once, asked of a remaining master; its manifests moved out over ssh; the others updated.
    expect(hostsOfTask(run.stdout, 'Remove the member')).toEqual([cp.masters[0]]);
    expect(hostsOfTask(run.stdout, 'Move its manifests out of the manifests directory')).toEqual([node]);
    expect([...new Set(hostsOfTask(run.stdout, 'Run install.sh'))].sort()).toEqual([...left].sort());
    // The member is gone, the rest started and healthy (a quorum of 3 of 4 kept).
    const after = await members(cp.masters[0]);
    expect(after.map((x) => x.name).sort()).toEqual([...left].sort());
    expect(after.every((x) => x.status === 'started')).toBe(true);
    await expectHealthyMembers(left.length);
    await expectReadyz(left);
    // No manifest left on the node, and its runner (the kubelet) stopped every pod.
    expect(readdirSync(join(cp.rootOf(node), 'etc/kubernetes/manifests')).filter((f) => !f.startsWith('.'))).toEqual([]);
    const runner = cp.runners.get(node)!;
    await runner.waitFor(`every pod of ${node} stopped`, 60_000, () => runner.pods().length === 0);
    // The remaining haproxy no longer sends to it.
    expect(readFileSync(join(cp.rootOf(cp.masters[0]), 'etc/haproxy/haproxy.cfg'), 'utf8')).not.toContain(`${cp.addressOf(node)}:${cp.plan.apiServer.bindPort}`);
    expect(acked).toBeGreaterThan(0);
    expect(lost).toEqual([]);
  });
});
