/**
 * The generated Ansible content (issue #20, first part): the inventory from the plan, read back by the
 * real ansible-inventory; every playbook accepted by the real ansible-playbook --syntax-check and by
 * ansible-lint's production profile (Debian's ansible-core and ansible-lint); written only beside the
 * tarballs, and a node named like its directory refused before anything is written. The playbooks' runs
 * against a real control plane are in test/ansible-lab.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { EXAMPLE_SPEC, HaControlPlane, planCluster, readSpecFile, StaticPodApp } from '../lib';
import { ansibleInventory } from '../lib/ansible/inventory';
import { PLAYBOOKS } from '../lib/ansible/files';
import { ClusterSpec } from '../lib/spec/types';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-ansible-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const example = (file: string): ClusterSpec => readSpecFile(path.join(__dirname, '..', 'examples', file), file).spec;

function bundle(spec: ClusterSpec, tarballs = true, outdir = tmp): string {
  const app = new StaticPodApp({ reporter: false, outdir, tarballs });
  new HaControlPlane(app, spec.name, { spec });
  app.synth();
  return path.join(outdir, spec.name, 'ansible');
}

/** Makes `node` of the Ansible directory `dir` a local-connection host whose root is `root` (the playbooks' hacp_root). */
function asLocalNode(dir: string, node: string, root: string): void {
  fs.mkdirSync(path.join(dir, 'host_vars'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'host_vars', `${node}.yml`), `ansible_connection: local\nansible_python_interpreter: /usr/bin/python3\nhacp_root: ${root}\n`);
}

/** The real ansible-playbook in `dir` with its inventory, its temporary files in the test's directory. */
function runPlaybook(dir: string, args: readonly string[]) {
  return spawnSync('ansible-playbook', ['-i', 'inventory.yml', ...args], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: path.join(tmp, 'ansible-tmp'), ANSIBLE_REMOTE_TEMP: path.join(tmp, 'ansible-tmp') },
  });
}

/** What the real ansible-inventory makes of an inventory file: groups → hosts, and each host's vars. */
function ansibleInventoryList(file: string): { groups: Record<string, string[]>; hostvars: Record<string, Record<string, unknown>> } {
  const out = JSON.parse(execFileSync('ansible-inventory', ['-i', file, '--list'], { encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } }));
  const groups: Record<string, string[]> = {};
  for (const [name, g] of Object.entries(out)) if (name !== '_meta') groups[name] = ((g as { hosts?: string[] }).hosts ?? []);
  return { groups, hostvars: out._meta.hostvars };
}

describe('inventory', () => {
  test('masters with their addresses and etcd URLs, the cluster facts the playbooks read', () => {
    const dir = bundle(example('keepalived-haproxy.yaml'));
    const inv = ansibleInventoryList(path.join(dir, 'inventory.yml'));
    expect(inv.groups.masters).toEqual(['master-1', 'master-2', 'master-3']);
    expect(inv.groups.lb_hosts ?? []).toEqual([]);
    const m2 = inv.hostvars['master-2'];
    expect(m2).toMatchObject({
      ansible_host: '10.0.0.12',
      hacp_etcd_client_url: 'https://10.0.0.12:2379',
      hacp_etcd_peer_url: 'https://10.0.0.12:2380',
      hacp_api_port: 6443,
      hacp_endpoint: '10.0.0.100:8443',
      hacp_vip: '10.0.0.100',
      hacp_etcd: 'stacked',
      hacp_etcd_data_dir: '/var/lib/etcd',
      hacp_pki_mode: 'kubeadm',
    });
    expect(m2.hacp_etcdctl_env).toEqual({
      ETCDCTL_CACERT: '/etc/kubernetes/pki/etcd/ca.crt',
      ETCDCTL_CERT: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
      ETCDCTL_KEY: '/etc/kubernetes/pki/apiserver-etcd-client.key',
    });
  });

  test('LB hosts and workers get their groups; the VIP on LB hosts is not a master fact', () => {
    const spec = example('lb-hosts-haproxy-workers.yaml');
    const plan = planCluster(spec);
    const inv = ansibleInventoryList(path.join(bundle(spec), 'inventory.yml'));
    expect(inv.groups.lb_hosts).toEqual(plan.loadBalancer!.keepalived.nodes.map((n) => n.name));
    expect(inv.groups.workers).toEqual(plan.workerProxy!.workers.map((w) => w.name));
    const w = plan.workerProxy!.workers[0];
    expect(inv.hostvars[w.name]).toMatchObject({ ansible_host: w.address, hacp_worker_proxy_port: plan.workerProxy!.port, hacp_lb_vip: plan.loadBalancer!.vip });
    expect(inv.hostvars[w.name].hacp_vip).toBeUndefined();
  });

  test('IPv6: URL hosts and etcd URLs in brackets, ssh to the bare address', () => {
    const plan = planCluster(example('stacked-5-ipv6.yaml'));
    const inv = ansibleInventory(plan) as any;
    const m = plan.masters[0];
    const host = inv.all.children.masters.hosts[m.name];
    expect(host.ansible_host).toBe(m.address);
    expect(host.hacp_url_host).toBe(`[${m.address}]`);
    expect(host.hacp_etcd_client_url).toBe(`https://[${m.address}]:2379`);
  });

  test('external etcd: the endpoints and the API servers\' client certificate files, no data directory', () => {
    const plan = planCluster(example('external-etcd.yaml'));
    const vars = (ansibleInventory(plan) as any).all.vars;
    if (plan.etcd.kind !== 'external') throw new Error('external-etcd.yaml has no external etcd');
    expect(vars.hacp_etcd).toBe('external');
    expect(vars.hacp_etcd_endpoints).toBe(plan.etcd.endpoints.join(','));
    expect(vars.hacp_etcdctl_env).toEqual({ ETCDCTL_CACERT: plan.etcd.caFile, ETCDCTL_CERT: plan.etcd.certFile, ETCDCTL_KEY: plan.etcd.keyFile });
    expect(vars.hacp_etcd_data_dir).toBeUndefined();
    expect(Object.values((ansibleInventory(plan) as any).all.children.masters.hosts).every((h: any) => h.hacp_etcd_client_url === undefined)).toBe(true);
  });
});

describe('playbooks', () => {
  test('every playbook passes the real ansible-playbook --syntax-check, and ansible-lint (production profile)', () => {
    const dir = bundle(example('lb-hosts-haproxy-workers.yaml'));
    expect(fs.readdirSync(dir).sort()).toEqual([...PLAYBOOKS, 'inventory.yml', 'roles'].sort());
    for (const p of PLAYBOOKS) {
      const r = spawnSync('ansible-playbook', ['-i', 'inventory.yml', '--syntax-check', p], { cwd: dir, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
      expect({ p, code: r.status, err: r.stderr.replace(/\[WARNING\]: Could not match supplied host pattern.*\n/g, '') }).toEqual({ p, code: 0, err: '' });
    }
    const lint = spawnSync('ansible-lint', ['--offline', '--profile', 'production', '--nocolor', ...PLAYBOOKS, 'roles/'], { cwd: dir, encoding: 'utf8' });
    expect({ code: lint.status, out: lint.stdout }).toEqual({ code: 0, out: '' });
    expect(lint.stderr).toMatch(/Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
  });

  test('a playbook that needs a node refuses to run without one, naming the argument', () => {
    const dir = bundle(EXAMPLE_SPEC);
    for (const p of ['add-master.yml', 'replace-master.yml', 'remove-master.yml', 'rollback.yml']) {
      const r = spawnSync('ansible-playbook', ['-i', 'inventory.yml', p], { cwd: dir, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
      expect(r.status).toBe(2);
      expect(r.stdout).toContain(`name the node: ansible-playbook -i inventory.yml ${p} -e hacp_node=<node>`);
    }
  });

  test('every task and play is named, every module by its full name (what the role and playbooks hold)', () => {
    const dir = bundle(EXAMPLE_SPEC);
    const files = [...PLAYBOOKS, ...fs.readdirSync(path.join(dir, 'roles/ha_control_plane/tasks')).map((f) => `roles/ha_control_plane/tasks/${f}`)];
    for (const f of files) {
      const doc = parse(fs.readFileSync(path.join(dir, f), 'utf8')) as any[];
      const tasks = doc.flatMap((t: any) => [t, ...(t.tasks ?? []), ...(t.block ?? []), ...(t.rescue ?? [])]);
      for (const t of tasks) expect({ f, name: typeof t.name }).toEqual({ f, name: 'string' });
      for (const t of tasks) for (const k of Object.keys(t)) if (/^(command|shell|copy|file|stat|uri|assert|fail|set_fact|add_host|debug|unarchive|import_role|import_tasks)$/.test(k)) throw new Error(`${f}: ${t.name} uses "${k}" without ansible.builtin.`);
    }
  });
});

describe('rollback.yml on a node (a local connection, its root a temporary directory)', () => {
  test('refuses to go back across a Kubernetes minor (the previous bundle 1.36, the installed 1.37): nothing changed', () => {
    const m = EXAMPLE_SPEC.masters[0].name;
    const older = bundle({ ...EXAMPLE_SPEC, kubernetesVersion: '1.36' }, true, path.join(tmp, 'older'));
    const dir = bundle({ ...EXAMPLE_SPEC, kubernetesVersion: '1.37' }, true, path.join(tmp, 'newer'));
    // The node: the 1.37 API server manifest installed, the 1.36 tarball kept as the previous one.
    const root = path.join(tmp, 'root');
    const manifest = path.join(root, 'etc/kubernetes/manifests/kube-apiserver.yaml');
    fs.mkdirSync(path.dirname(manifest), { recursive: true });
    fs.copyFileSync(path.join(dir, '..', m, 'etc/kubernetes/manifests/kube-apiserver.yaml'), manifest);
    const kept = path.join(root, 'var/lib/ha-control-plane/ansible', EXAMPLE_SPEC.name);
    fs.mkdirSync(kept, { recursive: true });
    fs.copyFileSync(path.join(older, '..', 'bundles', `${m}.tar.gz`), path.join(kept, 'previous.tar.gz'));
    asLocalNode(dir, m, root);
    const before = fs.readFileSync(manifest, 'utf8');
    expect(before).toContain('kube-apiserver:v1.37.');

    const r = runPlaybook(dir, ['rollback.yml', '-e', `hacp_node=${m}`]);
    expect({ code: r.status, tail: r.stdout.slice(-1500) }).toEqual({ code: 2, tail: expect.stringContaining(`refused: the previous bundle of ${m} runs Kubernetes 1.36 and the installed one 1.37;`) });
    expect(r.stdout).toContain('nothing was changed (fix: roll forward with a new bundle of the installed minor)');
    expect(r.stdout).not.toContain('Hand over the etcd leadership');
    expect(r.stdout).not.toContain('Run install.sh');
    expect(fs.readFileSync(manifest, 'utf8')).toBe(before);
  });
});

describe('add-master.yml and replace-master.yml on a blank node (a local connection, its root a temporary directory)', () => {
  test.each([['add-master.yml', 'existing'], ['replace-master.yml', 'replacement']])('%s refuses a bundle whose etcd would start a new cluster (the spec still says "new"): nothing installed, no member touched', (playbook, state) => {
    const m = EXAMPLE_SPEC.masters[2].name;
    const dir = bundle(EXAMPLE_SPEC, true);
    const root = path.join(tmp, 'root');
    fs.mkdirSync(root);
    asLocalNode(dir, m, root);
    const r = runPlaybook(dir, [playbook, '-e', `hacp_node=${m}`]);
    expect({ code: r.status, tail: r.stdout.slice(-1500) }).toEqual({ code: 2, tail: expect.stringContaining(`the bundle of ${m} starts a new etcd cluster: its entry in the spec's masters has etcdState new; nothing was changed (fix: set its etcdState to ${state} and synthesize again)`) });
    for (const task of ['Gate | etcd members healthy', 'Remove the member', 'Add the member', 'Run install.sh']) expect(r.stdout).not.toContain(`: ${task}]`);
    expect(fs.existsSync(path.join(root, 'etc'))).toBe(false);
  });
});

describe('where it is written', () => {
  test('beside the tarballs only (the playbooks install them)', () => {
    bundle(EXAMPLE_SPEC, false);
    expect(fs.existsSync(path.join(tmp, EXAMPLE_SPEC.name, 'ansible'))).toBe(false);
  });

  test('a node named "ansible" is refused before anything is written', () => {
    const s = { ...EXAMPLE_SPEC, masters: [...EXAMPLE_SPEC.masters.slice(0, 2), { name: 'ansible', address: '192.168.10.13' }] };
    expect(() => bundle(s)).toThrow('cluster example: a node named "ansible" would share its directory with the cluster\'s ansible/ files (fix: rename the node)');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
