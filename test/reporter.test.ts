/**
 * What a synth tells the user, whatever the entry point (a consumer's own cdk8s app, main.ts, the CLI):
 * the spec's warnings, the state it created and every file it wrote, per node — on stderr by default —
 * and state directories that `git add .` cannot commit.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterSpec, HaControlPlane, preparePki, StaticPodApp } from '../lib';
import { runCli } from '../lib/cli';
import { haSpec, spec } from './util';

let tmp: string;
let cwd: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-report-'));
  cwd = process.cwd();
  process.chdir(tmp); // specs in code resolve the state directory from the working directory
});
afterEach(() => {
  process.chdir(cwd);
  jest.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const TWO_MASTERS = spec({ masters: [{ name: 'master-1', address: '10.0.0.11' }, { name: 'master-2', address: '10.0.0.12' }] });
const HARDENED: ClusterSpec = haSpec({ security: { profile: 'hardened' } });

/** A consumer's synth with a capturing reporter: the lines it reported. */
function synth(s: ClusterSpec, props: { pki?: Awaited<ReturnType<typeof preparePki>> } = {}): string[] {
  const lines: string[] = [];
  const app = new StaticPodApp({ outdir: 'dist', reporter: (l) => lines.push(l) });
  new HaControlPlane(app, s.name, { spec: s, pki: props.pki });
  app.synth();
  return lines;
}

describe('the synth report', () => {
  test('by default on stderr: the even-member-count warning reaches a consumer\'s synth', () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const app = new StaticPodApp({ outdir: 'dist' });
    new HaControlPlane(app, 'example', { spec: TWO_MASTERS });
    app.synth();
    const text = err.mock.calls.map((c) => String(c[0])).join('');
    expect(text).toMatch(/^warning: masters: 2 is an even number of etcd members: .*\(fix: run 3 or 5 masters/m);
    expect(text).toMatch(/^dist\/example\/master-1\/ \(master: etcd, kube-apiserver, kube-controller-manager, kube-scheduler; \d+ files\)$/m);
  });

  test('reporter: false reports nothing', () => {
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const app = new StaticPodApp({ outdir: 'dist', reporter: false });
    new HaControlPlane(app, 'example', { spec: TWO_MASTERS });
    app.synth();
    expect(err).not.toHaveBeenCalled();
  });

  test('a hardened synth that creates the encryption key says so (once: the next synth reads it)', () => {
    const first = synth(HARDENED);
    const key = path.join('ha-control-plane-state', 'example', 'encryption-key');
    expect(fs.existsSync(key)).toBe(true);
    expect(first.filter((l) => l.includes('generated a new encryption key'))).toEqual([
      expect.stringMatching(new RegExp(`^warning: security: generated a new encryption key for Secrets at rest, stored at ${key.replace(/\//g, '\\/')} \\(fix: `)),
    ]);
    expect(synth(HARDENED).filter((l) => l.includes('encryption key'))).toEqual([]);
  });

  test('every file written is listed per node, host files first, with its mode', () => {
    const lines = synth(haSpec());
    for (const node of ['master-1', 'master-2', 'master-3']) {
      const at = lines.findIndex((l) => l.startsWith(`dist/example/${node}/ (master: `));
      expect(at).toBeGreaterThanOrEqual(0);
      const files: string[] = [];
      for (let i = at + 1; i < lines.length && lines[i].startsWith('  /'); i++) files.push(lines[i].trim());
      const onDisk = (fs.readdirSync(path.join('dist/example', node), { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join('dist/example', node, f)).isFile());
      expect(files.map((f) => f.split(' ')[0].slice(1)).sort()).toEqual(onDisk.sort());
      expect(lines[at]).toContain(`; ${onDisk.length} files)`);
      for (const f of ['/etc/haproxy/haproxy.cfg', '/etc/keepalived/keepalived.conf', '/etc/kubernetes/kubeadm-config.yaml']) {
        expect(files.some((l) => l.startsWith(`${f} 0`))).toBe(true);
      }
      expect(files).toContain('/etc/kubernetes/manifests/etcd.yaml 0600');
      const firstManifest = files.findIndex((l) => l.includes('/manifests/'));
      expect(files.slice(firstManifest).every((l) => l.includes('/manifests/'))).toBe(true);
    }
  });

  test('the PKI a synth creates is reported: the summary, the RBAC step and the secrets warning', async () => {
    const s = haSpec({ pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' } });
    const pki = await preparePki(s, { outdir: 'dist', write: false });
    const lines = synth(s, { pki });
    expect(lines).toContainEqual(expect.stringMatching(/^pki: .*ha-control-plane-state\/example\/pki: created ca, .*issued \d+ certificates, reused 0$/));
    expect(lines).toContainEqual(expect.stringMatching(/^rbac: once the API answers, on master-1: kubectl /));
    expect(lines).toContainEqual(expect.stringMatching(/^warning: dist\/example\/ now holds private keys and kubeconfigs: keep it out of version control/));
  });
});

describe('state directories stay out of git', () => {
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: tmp, encoding: 'utf8' });

  test('`git add .` after a hardened synth and a generated PKI (also at a custom pki.dir) stages no key', async () => {
    const s = haSpec({ security: { profile: 'hardened' }, pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256', dir: 'secrets/pki' } });
    const pki = await preparePki(s, { outdir: 'dist', write: false });
    synth(s, { pki });
    expect(fs.readFileSync('ha-control-plane-state/example/.gitignore', 'utf8')).toMatch(/^\*$/m);
    expect(fs.readFileSync('secrets/pki/.gitignore', 'utf8')).toMatch(/^\*$/m);
    fs.rmSync('dist', { recursive: true }); // the bundle is the user's to ignore (the README says so)
    fs.writeFileSync('main.ts', '// the consumer\'s app\n');
    git('init', '-q');
    git('add', '.');
    expect(git('diff', '--cached', '--name-only').trim().split('\n')).toEqual(['main.ts']);
    expect(fs.existsSync('ha-control-plane-state/example/encryption-key')).toBe(true);
    expect(fs.existsSync('secrets/pki/ca.key')).toBe(true);
  });
});

describe('state directories from before the .gitignore', () => {
  test('a synth that reads an existing key or PKI adds the missing .gitignore; validate does not', async () => {
    const s = haSpec({ security: { profile: 'hardened' }, pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' } });
    synth(s, { pki: await preparePki(s, { outdir: 'dist', write: false }) });
    const ignores = ['ha-control-plane-state/example/.gitignore', 'ha-control-plane-state/example/pki/.gitignore'];
    for (const f of ignores) fs.rmSync(f);
    fs.writeFileSync('c.json', JSON.stringify(s));
    expect(await runCli(['validate', '--spec', 'c.json'], { stdout: () => {}, stderr: () => {}, cwd: tmp, env: {} })).toBe(0);
    for (const f of ignores) expect(fs.existsSync(f)).toBe(false);
    const again = await preparePki(s, { outdir: 'dist', write: false });
    expect(again.report.created).toEqual([]);
    synth(s, { pki: again });
    for (const f of ignores) expect(fs.readFileSync(f, 'utf8')).toMatch(/^\*$/m);
  });
});

describe('validate', () => {
  test('says that a synth will create an encryption key, and creates none', async () => {
    fs.writeFileSync('c.json', JSON.stringify(HARDENED));
    const out: string[] = [];
    const code = await runCli(['validate', '--spec', 'c.json'], { stdout: (t) => { out.push(t); }, stderr: () => {}, cwd: tmp, env: {} });
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/^security: a synth would create a new encryption key for Secrets at rest at ha-control-plane-state\/example\/encryption-key \(/m);
    expect(fs.existsSync('ha-control-plane-state')).toBe(false);
  });
});
