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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterSpec } from '../lib';
import { AnsibleLab, hostsOfTask, startAnsibleLab, withFlag } from './harness/ansible-lab';
import { ControlPlaneLab, startControlPlane } from './harness/control-plane-lab';
import { vipHolder } from './harness/real-failover';

jest.setTimeout(900_000);

let cp: ControlPlaneLab;
let al: AnsibleLab;
const log = (line: string) => process.stderr.write(`[ansible-lab] ${line}\n`);

beforeAll(async () => {
  // pki.mode generate: a master added later gets its certificates from the same CAs (the lab's PKI state).
  cp = await startControlPlane({ log, bootstrap: 'generate', spareMasters: 1 });
  await cp.waitAllReady(240_000);
  await cp.finishBootstrap();
  al = await startAnsibleLab(cp);
}, 600_000);
afterAll(async () => {
  await al?.destroy();
  await cp?.destroy();
});

describe('the playbooks on a running control plane', () => {
  test('rolling-update.yml: a changed kube-apiserver flag reaches every master one at a time, the VIP holder last; no acknowledged write lost', async () => {
    const holder = await vipHolder(cp);
    expect(cp.masters).toContain(holder);
    const dir = al.labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const t0 = Date.now();
    const { result: run, api, acked, lost } = await al.withClient('rolling', () => al.playbook(dir, 'rolling-update.yml'));
    const seconds = (Date.now() - t0) / 1000;
    log(`rolling update of ${cp.masters.length} masters: ${seconds.toFixed(1)} s; client: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), ${acked} acknowledged writes, ${lost.length} lost`);
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-4000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });

    // One master at a time, the VIP holder last; every master's API server runs the new flag.
    const installed = hostsOfTask(run.stdout, 'Run install.sh');
    expect([...installed].sort()).toEqual([...cp.masters].sort());
    expect(installed[installed.length - 1]).toBe(holder);
    for (const m of cp.masters) {
      const manifest = readFileSync(join(cp.rootOf(m), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
      expect({ m, flag: manifest.includes('- --profiling=false') }).toEqual({ m, flag: true });
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
    const dir = al.labAnsible(await cp.synthesize(smaller));
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
    // Still three members.
    const members = await al.memberList(cp.masters[0], []);
    expect(members.stdout.trim().split('\n')).toHaveLength(3);
  });

  test('add-master.yml: a fourth master joins (its etcd member added before it starts), then the others get their changed files one at a time; no acknowledged write lost', async () => {
    const node = cp.spares[0];
    cp.startRunner(node);
    const bigger: ClusterSpec = {
      ...withFlag(cp.spec, 'profiling', 'false'),
      masters: [...cp.spec.masters, { name: node, address: cp.addressOf(node), etcdState: 'existing' }],
    };
    const dir = al.labAnsible(await cp.synthesize(bigger));
    const t0 = Date.now();
    const { result: run, api, acked, lost } = await al.withClient('add', () => al.playbook(dir, 'add-master.yml', ['-e', `hacp_node=${node}`]));
    log(`add-master ${node} (and the rolling update of the others): ${((Date.now() - t0) / 1000).toFixed(1)} s; client: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), ${acked} acknowledged writes, ${lost.length} lost`);
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-5000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
    // member add before the new member's first install; its install first, the others after.
    expect(hostsOfTask(run.stdout, 'Add the member')).toEqual([node]);
    const installs = hostsOfTask(run.stdout, 'Run install.sh');
    expect(installs[0]).toBe(node);
    expect([...new Set(installs)].sort()).toEqual([...cp.masters, node].sort());
    // Four started members, the new one among them; its API server ready on its own address.
    const m0 = cp.masters[0];
    const members = await al.memberList(m0, ['-w', 'json']);
    const list = JSON.parse(members.stdout).members as { name: string; clientURLs?: string[] }[];
    expect(list.map((x) => x.name).sort()).toEqual([...cp.masters, node].sort());
    expect(list.every((x) => (x.clientURLs ?? []).length === 1)).toBe(true);
    const readyz = await cp.kubectl([`--server=https://${cp.addressOf(node)}:${cp.plan.apiServer.bindPort}`, 'get', '--raw', '/readyz'], { node: cp.clientNode });
    expect(readyz.stdout).toBe('ok');
    // The old masters' haproxy now sends to the new API server too.
    expect(readFileSync(join(cp.rootOf(m0), 'etc/haproxy/haproxy.cfg'), 'utf8')).toContain(`${cp.addressOf(node)}:${cp.plan.apiServer.bindPort}`);
    expect(lost).toEqual([]);
  });
});
