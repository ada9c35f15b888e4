/**
 * The generated playbooks run by the real ansible-playbook (Debian's ansible-core) against a running
 * control plane of real components (test/harness/control-plane-lab.ts: three masters in network
 * namespaces, each run from its installed bundle by the pod runner, which restarts a pod whose manifest
 * changes as the kubelet does). Ansible runs in the lab's client namespace with a local connection per
 * master (its root directory as hacp_root, `ip netns exec` for its `ip`): a stand-in for ssh only; every
 * command, gate and install.sh run is the playbooks' own. A client writes and reads through the VIP every
 * 100 ms meanwhile.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ClusterSpec } from '../lib';
import { readApiRequests, summarizeApi, writeApiClient } from './harness/api-client';
import { etcdBinary, k8sBinary } from './harness/binaries';
import { ControlPlaneLab, startControlPlane } from './harness/control-plane-lab';
import { ExecResult } from './harness/netns';
import { vipHolder } from './harness/real-failover';

jest.setTimeout(900_000);

let cp: ControlPlaneLab;
const log = (line: string) => process.stderr.write(`[ansible-lab] ${line}\n`);

beforeAll(async () => {
  // pki.mode generate: a master added later gets its certificates from the same CAs (the lab's PKI state).
  cp = await startControlPlane({ log, bootstrap: 'generate', spareMasters: 1 });
  await cp.waitAllReady(240_000);
  await cp.finishBootstrap();
}, 600_000);
afterAll(async () => { await cp?.destroy(); });

/** The cluster directory's Ansible content, with host_vars that point each master at its lab root. */
function labAnsible(clusterDir: string): string {
  const dir = join(clusterDir, 'ansible');
  mkdirSync(join(dir, 'host_vars'), { recursive: true });
  const ip = ['/usr/sbin/ip', '/sbin/ip'].find((p) => existsSync(p)) ?? 'ip';
  for (const m of [...cp.masters, ...cp.spares]) {
    writeFileSync(join(dir, 'host_vars', `${m}.yml`), stringify({
      ansible_connection: 'local',
      ansible_python_interpreter: '/usr/bin/python3',
      hacp_root: cp.rootOf(m),
      hacp_install_args: ['--node-name', m],
      hacp_etcdctl: [etcdctl()],
      hacp_kubectl: [k8sBinary('kubectl', `v${cp.plan.kubernetesVersion}`)],
      hacp_ip: [ip, 'netns', 'exec', cp.lab.nsOf(m), 'ip'],
    }));
  }
  return dir;
}

/** The built etcdctl of the lab's etcd line. */
function etcdctl(): string {
  if (cp.plan.etcd.kind !== 'local') throw new Error('the Ansible lab runs stacked etcd');
  return etcdBinary('etcdctl', `v${cp.plan.etcd.version}`);
}

/** `etcdctl member list` asked of a master's member, with the API server's etcd client certificate. */
function memberList(master: string, args: readonly string[]): Promise<ExecResult> {
  const pki = (f: string) => join(cp.rootOf(master), 'etc/kubernetes/pki', f);
  return cp.lab.exec(master, etcdctl(), ['member', 'list', ...args, '--endpoints', `https://${cp.addressOf(master)}:2379`,
    '--cacert', pki('etcd/ca.crt'), '--cert', pki('apiserver-etcd-client.crt'), '--key', pki('apiserver-etcd-client.key')]);
}

function playbook(dir: string, name: string, extra: readonly string[] = []): Promise<ExecResult> {
  return cp.lab.exec('client', 'ansible-playbook', ['-i', join(dir, 'inventory.yml'), join(dir, name), ...extra], {
    timeoutMs: 600_000,
    env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_LOCAL_TEMP: join(cp.workDir, 'ansible-tmp'), ANSIBLE_REMOTE_TEMP: join(cp.workDir, 'ansible-tmp') },
  });
}

/** The hosts of one task's results in the order Ansible printed them. */
function hostsOfTask(stdout: string, task: string): string[] {
  const out: string[] = [];
  for (const block of stdout.split(/\nTASK \[/).slice(1)) {
    if (!block.startsWith(`${task}]`) && !block.startsWith(`ha_control_plane : ${task}]`)) continue;
    // A delegated task's line reads "changed: [master-4 -> master-1(10.0.0.11)]": the task's host is the first.
    for (const m of block.matchAll(/^(?:ok|changed): \[([^\]\s]+)(?: -> [^\]]*)?\]/gm)) out.push(m[1]);
  }
  return out;
}

/** Runs `fn` while a client writes and reads through the VIP every 100 ms; returns what it saw and whether an acknowledged write is missing. */
async function withClient<T>(tag: string, fn: () => Promise<T>) {
  const { script, creds } = writeApiClient(cp.workDir, join(cp.rootOf(cp.masters[0]), 'etc/kubernetes/admin.conf'));
  const logFile = join(cp.workDir, `client-${tag}.log`);
  const prefix = `ans-${tag}-`;
  const proc = cp.lab.spawn(cp.clientNode, process.execPath, [script, cp.endpoint, creds, prefix, '100', '2000'], { logFile });
  const start = Date.now();
  const result = await fn();
  await proc.stop(2000);
  const reqs = readApiRequests(logFile);
  const list = await cp.kubectl(['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}'], { node: cp.clientNode, timeoutMs: 30_000 });
  if (list.code !== 0) throw new Error(`listing the ConfigMaps: ${list.stderr}`);
  const present = new Set(list.stdout.split(/\s+/));
  const acked = reqs.filter((r) => r.op === 'w' && r.ok).map((r) => `${prefix}${r.seq}`);
  return { result, api: summarizeApi(reqs, start), acked: acked.length, lost: acked.filter((n) => !present.has(n)) };
}

const withFlag = (spec: ClusterSpec, name: string, value: string): ClusterSpec => ({
  ...spec,
  apiServer: { ...spec.apiServer, extraArgs: [...(spec.apiServer?.extraArgs ?? []).filter((a) => a.name !== name), { name, value }] },
});

describe('the playbooks on a running control plane', () => {
  test('rolling-update.yml: a changed kube-apiserver flag reaches every master one at a time, the VIP holder last; no acknowledged write lost', async () => {
    const holder = await vipHolder(cp);
    expect(cp.masters).toContain(holder);
    const dir = labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const t0 = Date.now();
    const { result: run, api, acked, lost } = await withClient('rolling', () => playbook(dir, 'rolling-update.yml'));
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
    const dir = labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const run = await playbook(dir, 'rolling-update.yml');
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-4000) }).toEqual({ code: 0, tail: '' });
    const said = [...run.stdout.matchAll(/"msg": "(no changes: [^"]*|done: [^"]*)"/g)].map((m) => m[1]);
    expect(said).toHaveLength(cp.masters.length);
    for (const s of said) expect(s).toMatch(/^no changes: /);
  });

  test('rollback.yml refuses a master whose earlier bundle the playbooks did not install (the lab installed it by hand): nothing changed', async () => {
    const dir = labAnsible(await cp.synthesize(withFlag(cp.spec, 'profiling', 'false')));
    const node = cp.masters[0];
    const before = readFileSync(join(cp.rootOf(node), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8');
    const run = await playbook(dir, 'rollback.yml', ['-e', `hacp_node=${node}`]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`${node} has no previous bundle (${cp.rootOf(node)}/var/lib/ha-control-plane/ansible/${cp.spec.name}/previous.tar.gz); nothing was changed`);
    expect(hostsOfTask(run.stdout, 'Run install.sh')).toEqual([]);
    expect(readFileSync(join(cp.rootOf(node), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8')).toBe(before);
  });

  test('a degraded control plane stops remove-master.yml at its first gate: nothing removed, nothing installed', async () => {
    const smaller: ClusterSpec = { ...cp.spec, masters: cp.spec.masters.filter((m) => m.name !== cp.masters[2]) };
    const dir = labAnsible(await cp.synthesize(smaller));
    // One remaining master loses its link: the cluster is degraded.
    const down = cp.masters[1];
    const cut = await cp.lab.exec(down, 'ip', ['link', 'set', 'eth0', 'down']);
    expect(cut.code).toBe(0);
    try {
      const run = await playbook(dir, 'remove-master.yml', ['-e', `hacp_node=${cp.masters[2]}`, '-e', 'hacp_gate_retries=2', '-e', 'hacp_gate_delay=1']);
      expect(run.code).toBe(2);
      expect(run.stdout).toContain(`health gate failed before removing ${cp.masters[2]}: Gate | etcd members healthy`);
      expect(hostsOfTask(run.stdout, 'Remove the member')).toEqual([]);
      expect(run.stdout).not.toContain('TASK [ha_control_plane : Run install.sh]');
    } finally {
      await cp.lab.exec(down, 'ip', ['link', 'set', 'eth0', 'up']);
    }
    // Still three members.
    const members = await memberList(cp.masters[0], []);
    expect(members.stdout.trim().split('\n')).toHaveLength(3);
  });

  test('add-master.yml: a fourth master joins (its etcd member added before it starts), then the others get their changed files one at a time; no acknowledged write lost', async () => {
    const node = cp.spares[0];
    cp.startRunner(node);
    const bigger: ClusterSpec = {
      ...withFlag(cp.spec, 'profiling', 'false'),
      masters: [...cp.spec.masters, { name: node, address: cp.addressOf(node), etcdState: 'existing' }],
    };
    const dir = labAnsible(await cp.synthesize(bigger));
    const t0 = Date.now();
    const { result: run, api, acked, lost } = await withClient('add', () => playbook(dir, 'add-master.yml', ['-e', `hacp_node=${node}`]));
    log(`add-master ${node} (and the rolling update of the others): ${((Date.now() - t0) / 1000).toFixed(1)} s; client: ${api.failedWrites}/${api.writes} writes and ${api.failedReads}/${api.reads} reads failed (${JSON.stringify(api.errors)}), ${acked} acknowledged writes, ${lost.length} lost`);
    expect({ code: run.code, tail: run.code === 0 ? '' : run.stdout.slice(-5000) + run.stderr.slice(-2000) }).toEqual({ code: 0, tail: '' });
    // member add before the new member's first install; its install first, the others after.
    expect(hostsOfTask(run.stdout, 'Add the member')).toEqual([node]);
    const installs = hostsOfTask(run.stdout, 'Run install.sh');
    expect(installs[0]).toBe(node);
    expect([...new Set(installs)].sort()).toEqual([...cp.masters, node].sort());
    // Four started members, the new one among them; its API server ready on its own address.
    const m0 = cp.masters[0];
    const members = await memberList(m0, ['-w', 'json']);
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
