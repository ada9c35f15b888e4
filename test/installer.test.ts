// The bundle installer (lib/bundle/install.sh) run for real: tarballs made by StaticPodApp, extracted
// with GNU tar, installed with dash and bash into temporary roots (--root). Every child process is
// bounded in time and killed by its own process group id.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterSpec, HaControlPlane, StaticPodApp } from '../lib';
import { LIBRARY_VERSION } from '../lib/version';
import { haSpec, render } from './util';

const INSTALLER = path.resolve(__dirname, '../lib/bundle/install.sh');
const RUN_TIMEOUT_MS = 30_000;
const MANIFESTS = 'etc/kubernetes/manifests';
const TEMP_NAME = /^\.[^/]+\.hacp-[A-Za-z0-9]{6}$/;

/** The upgrade used throughout: another minor and another LB check interval change host files and manifests. */
const OLD = haSpec();
const NEW = haSpec({ kubernetesVersion: '1.36', loadBalancer: { type: 'haproxy', checkIntervalMs: 400 } });
const NODE = 'master-1';

let tmp: string;
const live = new Set<number>();
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-install-'));
  fs.chmodSync(tmp, 0o755); // readable by the unprivileged user of the non-root test
});
afterEach(() => {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let seq = 0;
let shared: string;
const tarballs = new Map<string, string>();
beforeAll(() => { shared = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-install-tarballs-')); });
afterAll(() => fs.rmSync(shared, { recursive: true, force: true }));

/** The node's tarball of a spec, made once per spec by StaticPodApp. */
function tarball(s: ClusterSpec, node: string): string {
  const key = `${node} ${JSON.stringify(s)}`;
  if (!tarballs.has(key)) {
    const out = path.join(shared, `out-${tarballs.size}`);
    const app = new StaticPodApp({ reporter: false, outdir: out, tarballs: true });
    new HaControlPlane(app, s.name, { spec: s });
    app.synth();
    tarballs.set(key, path.join(out, s.name, 'bundles', `${node}.tar.gz`));
  }
  return tarballs.get(key)!;
}

/** Extracts a fresh copy of the node's tarball with GNU tar; returns the bundle directory. */
function extracted(s: ClusterSpec, node = NODE): string {
  const x = path.join(tmp, `x-${++seq}`);
  fs.mkdirSync(x, { mode: 0o755 });
  execFileSync('tar', ['-xzf', tarball(s, node), '-C', x]);
  return path.join(x, node);
}

function newRoot(): string {
  const r = path.join(tmp, `root-${++seq}`);
  fs.mkdirSync(r, { mode: 0o755 });
  return r;
}

interface Result { code: number | null; stdout: string; stderr: string }

function install(bundle: string, args: string[], opts: { shell?: string; env?: Record<string, string>; uid?: number } = {}): Result {
  const r = spawnSync(opts.shell ?? 'sh', [path.join(bundle, 'install.sh'), ...args], {
    encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, ...opts.env }, uid: opts.uid, cwd: tmp,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry below dir: relative path → mode, inode and content (directories: mode only). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      const rel = path.relative(dir, p);
      if (e.isDirectory()) {
        out[`${rel}/`] = (st.mode & 0o7777).toString(8);
        walk(p);
      } else {
        out[rel] = `${(st.mode & 0o7777).toString(8)} ino=${st.ino} mtime=${st.mtimeMs} ${fs.readFileSync(p, 'utf8')}`;
      }
    }
  };
  walk(dir);
  return out;
}

const modeOf = (p: string) => fs.statSync(p).mode & 0o7777;

/** Asserts root holds exactly the node's files of spec s (content and mode) and nothing stray. */
function expectInstalled(root: string, s: ClusterSpec): void {
  const want = render(s).get(NODE)!;
  for (const [rel, f] of want) {
    expect({ rel, content: fs.readFileSync(path.join(root, rel), 'utf8'), mode: modeOf(path.join(root, rel)) }).toEqual({ rel, content: f.content, mode: f.mode });
  }
  expect(modeOf(path.join(root, MANIFESTS))).toBe(0o700);
  const manifests = fs.readdirSync(path.join(root, MANIFESTS)).sort();
  expect(manifests).toEqual([...want.keys()].filter((k) => k.startsWith(`${MANIFESTS}/`)).map((k) => path.basename(k)).sort());
  expect(fs.existsSync(path.join(root, 'var/lib/ha-control-plane/install.lock'))).toBe(false);
}

describe.each(['dash', 'bash'])('install with %s', (shell) => {
  test('into an empty root: every file with its mode, directories 0755 / manifests 0700; a second run changes nothing', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    const first = install(bundle, ['--root', root, '--node-name', NODE], { shell });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expectInstalled(root, OLD);
    for (const d of ['etc', 'etc/kubernetes', 'etc/haproxy', 'etc/keepalived']) expect(modeOf(path.join(root, d))).toBe(0o755);
    expect(first.stdout).toContain(`created ${root}/etc/kubernetes/manifests/etcd.yaml (0600)`);
    expect(first.stdout).toMatch(/done: 5 directories created, 10 files created, 0 replaced, 0 modes changed, 0 removed, 0 unchanged\n$/);
    // Host files first: every host file line comes before the first manifest line.
    const lines = first.stdout.split('\n').filter((l) => l.startsWith('created /'));
    const firstManifest = lines.findIndex((l) => l.includes(`/${MANIFESTS}/`));
    expect(lines.slice(firstManifest).every((l) => l.includes(`/${MANIFESTS}/`))).toBe(true);
    expect(firstManifest).toBe(4);

    const before = snapshot(root);
    const second = install(bundle, ['--root', root, '--node-name', NODE], { shell });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`no changes: ${root} already has this bundle (10 files up to date)`);
    expect(snapshot(root)).toEqual(before); // same inodes and mtimes: nothing rewritten, no backup made
    expect(fs.existsSync(path.join(root, 'var/lib/ha-control-plane/backup'))).toBe(false);
  });

  test('an upgrade backs up each replaced file outside the manifests directory, then reruns clean', () => {
    const root = newRoot();
    expect(install(extracted(OLD), ['--root', root, '--node-name', NODE], { shell }).code).toBe(0);
    const oldFiles = render(OLD).get(NODE)!;
    const newFiles = render(NEW).get(NODE)!;
    const changed = [...newFiles.keys()].filter((k) => oldFiles.get(k)?.content !== newFiles.get(k)!.content);
    expect(changed).toContain('etc/haproxy/haproxy.cfg');
    expect(changed).toContain(`${MANIFESTS}/kube-apiserver.yaml`);

    const bundle = extracted(NEW);
    const r = install(bundle, ['--root', root, '--node-name', NODE], { shell });
    expect(r.code).toBe(0);
    expectInstalled(root, NEW);
    const backups = fs.readdirSync(path.join(root, 'var/lib/ha-control-plane/backup'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^\d{8}T\d{6}Z$/);
    const backup = path.join(root, 'var/lib/ha-control-plane/backup', backups[0]);
    for (const rel of changed) {
      expect(fs.readFileSync(path.join(backup, rel), 'utf8')).toBe(oldFiles.get(rel)!.content);
      expect(r.stdout).toContain(`replaced ${root}/${rel} (0${newFiles.get(rel)!.mode.toString(8)}; the old one is in ${backup}/${rel})`);
    }
    expect(modeOf(backup)).toBe(0o700);
    expect(r.stdout).toContain(`${changed.length} replaced`);
    // Nothing but the bundle's manifests in the manifests directory (checked by expectInstalled), and a
    // rerun makes no second backup.
    const again = install(bundle, ['--root', root, '--node-name', NODE], { shell });
    expect(again.stdout).toContain('no changes');
    expect(fs.readdirSync(path.join(root, 'var/lib/ha-control-plane/backup'))).toEqual(backups);
  });
});

describe('a pod that leaves the bundle (the record of what the last bundle installed)', () => {
  const HAPROXY = haSpec();
  const NGINX = haSpec({ loadBalancer: { type: 'nginx' } });
  const STATE = 'var/lib/ha-control-plane';
  const files = (s: ClusterSpec) => render(s).get(NODE)!;
  const onlyIn = (a: ClusterSpec, b: ClusterSpec) => [...files(a).keys()].filter((k) => !files(b).has(k));
  const lines = (text: string) => text.split('\n');
  const lineOf = (text: string, prefix: string) => lines(text).findIndex((l) => l.startsWith(prefix));

  test('the switch changes files of both kinds', () => {
    expect(onlyIn(HAPROXY, NGINX)).toEqual(expect.arrayContaining([`${MANIFESTS}/haproxy.yaml`, 'etc/haproxy/haproxy.cfg']));
    expect(onlyIn(NGINX, HAPROXY)).toEqual(expect.arrayContaining([`${MANIFESTS}/nginx.yaml`]));
  });

  test.each([['haproxy', 'nginx'], ['nginx', 'haproxy']])('%s -> %s: the files the last bundle installed and this one lacks move to the backup, the leaving manifest before the new one; files no bundle installed stay, warned', (from, to) => {
    const [a, b] = from === 'haproxy' ? [HAPROXY, NGINX] : [NGINX, HAPROXY];
    const root = newRoot();
    expect(install(extracted(a), ['--root', root, '--node-name', NODE]).code).toBe(0);
    const record = fs.readFileSync(path.join(root, STATE, 'installed/example.files'), 'utf8');
    for (const rel of files(a).keys()) expect(record).toContain(` ${rel}\n`);
    // Not installed by a bundle: left alone. Edited since it was installed: still moved, the edit kept in the backup.
    fs.writeFileSync(path.join(root, MANIFESTS, 'custom.yaml'), 'my pod');
    fs.writeFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'secret');
    const leaving = onlyIn(a, b);
    const edited = leaving.find((k) => !k.startsWith(`${MANIFESTS}/`))!;
    fs.appendFileSync(path.join(root, edited), '# edited by hand\n');
    const leavingContent = new Map(leaving.map((k) => [k, fs.readFileSync(path.join(root, k), 'utf8')]));

    const r = install(extracted(b), ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`install.sh: warning: ${root}/${MANIFESTS}/custom.yaml is not in this bundle; the kubelet runs it too (left alone: move it out of the directory if it is obsolete)\n`);
    const backups = fs.readdirSync(path.join(root, STATE, 'backup'));
    expect(backups).toHaveLength(1);
    const backup = path.join(root, STATE, 'backup', backups[0]);
    for (const rel of leaving) {
      expect({ rel, exists: fs.existsSync(path.join(root, rel)) }).toEqual({ rel, exists: false });
      expect({ rel, backup: fs.readFileSync(path.join(backup, rel), 'utf8') }).toEqual({ rel, backup: leavingContent.get(rel) });
      expect(r.stdout).toContain(`removed ${root}/${rel} (not in this bundle, installed by the last one of cluster example; the old one is in ${backup}/${rel})\n`);
    }
    expect(fs.readFileSync(path.join(backup, edited), 'utf8')).toMatch(/# edited by hand\n$/);
    for (const [rel, f] of files(b)) expect({ rel, content: fs.readFileSync(path.join(root, rel), 'utf8') }).toEqual({ rel, content: f.content });
    expect(fs.readdirSync(path.join(root, MANIFESTS)).sort()).toEqual([...files(b).keys()].filter((k) => k.startsWith(`${MANIFESTS}/`)).map((k) => path.basename(k)).concat('custom.yaml').sort());
    expect(fs.readFileSync(path.join(root, MANIFESTS, 'custom.yaml'), 'utf8')).toBe('my pod');
    expect(fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8')).toBe('secret');

    // The order: host files, the leaving manifest, the new manifests, the leaving host files, the record.
    const out = r.stdout;
    const leavingManifest = lineOf(out, `removed ${root}/${MANIFESTS}/${from}.yaml `);
    const newManifest = lineOf(out, `created ${root}/${MANIFESTS}/${to}.yaml `);
    const leavingHost = lineOf(out, `removed ${root}/${edited} `);
    const changes = lines(out).map((l, i) => ({ l, i })).filter(({ l }) => /^(created|replaced|removed) \//.test(l));
    const hostChanges = changes.filter(({ l }) => !l.includes(`/${MANIFESTS}/`) && !l.startsWith('removed '));
    expect(leavingManifest).toBeGreaterThan(-1);
    expect(hostChanges.every(({ i }) => i < leavingManifest)).toBe(true);
    expect(leavingManifest).toBeLessThan(newManifest);
    // Replaced manifests before it: a failure among them leaves the old LB pod running.
    expect(changes.filter(({ l }) => l.startsWith('replaced ') && l.includes(`/${MANIFESTS}/`)).every(({ i }) => i < leavingManifest)).toBe(true);
    expect(changes.filter(({ l }) => l.includes(`/${MANIFESTS}/`)).every(({ i }) => i < leavingHost)).toBe(true);
    expect(lineOf(out, 'recorded the installed files in ')).toBeGreaterThan(leavingHost);
    expect(out).toMatch(new RegExp(`, ${leaving.length} removed, \\d+ unchanged; backups in `));
    const newRecord = fs.readFileSync(path.join(root, STATE, 'installed/example.files'), 'utf8');
    for (const rel of leaving) expect(newRecord).not.toContain(` ${rel}\n`);
    for (const rel of files(b).keys()) expect(newRecord).toContain(` ${rel}\n`);

    // A rerun changes nothing (the record is current) and still leaves custom.yaml alone.
    const before = snapshot(root);
    const again = install(extracted(b), ['--root', root, '--node-name', NODE]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no changes');
    expect(snapshot(root)).toEqual(before);
  });

  test('a master leaving LVS-DR: its VIP pod and its sysctl file move to the backup; the settings staying in the kernel are said', () => {
    const lbHosts = [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }];
    const endpoint = { host: '192.168.10.100', port: 6443 };
    const dr = haSpec({ controlPlaneEndpoint: endpoint, loadBalancers: lbHosts, loadBalancer: { type: 'lvs-dr' } });
    const proxied = haSpec({ controlPlaneEndpoint: endpoint, loadBalancers: lbHosts, loadBalancer: { type: 'haproxy' } });
    const sysctl = 'etc/sysctl.d/90-ha-control-plane-lvs-dr.conf';
    expect(onlyIn(dr, proxied).sort()).toEqual([`${MANIFESTS}/lvs-dr-vip.yaml`, sysctl]);
    const root = newRoot();
    const first = install(extracted(dr), ['--root', root, '--node-name', NODE]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('next: sysctl settings changed; run: sysctl --system\n');
    const r = install(extracted(proxied), ['--root', root, '--node-name', NODE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectInstalled(root, proxied);
    expect(fs.existsSync(path.join(root, sysctl))).toBe(false);
    const backup = path.join(root, STATE, 'backup', fs.readdirSync(path.join(root, STATE, 'backup'))[0]);
    expect(fs.readFileSync(path.join(backup, sysctl), 'utf8')).toBe(files(dr).get(sysctl)!.content);
    expect(r.stdout).not.toContain('sysctl --system\n');
    expect(r.stdout).toContain(`next: the settings of the removed sysctl files (${root}/${sysctl}) stay in effect until a reboot (sysctl --system does not undo them): set them back with sysctl -w if they must go now; the files are in ${backup}\n`);
  });

  test('--dry-run names the files that would move to the backup and writes nothing', () => {
    const root = newRoot();
    expect(install(extracted(HAPROXY), ['--root', root, '--node-name', NODE]).code).toBe(0);
    const before = snapshot(root);
    const r = install(extracted(NGINX), ['--root', root, '--node-name', NODE, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const rel of onlyIn(HAPROXY, NGINX)) {
      expect(r.stdout).toContain(`would remove ${root}/${rel} (installed by the last bundle of cluster example, not in this one; it would be moved to the backup)\n`);
    }
    expect(r.stdout).toMatch(new RegExp(`, ${onlyIn(HAPROXY, NGINX).length} removed, \\d+ unchanged; nothing was written\\n$`));
    expect(snapshot(root)).toEqual(before);
  });

  test('another cluster\'s record is not touched, nor its files; an install without a record (an older installer) moves nothing', () => {
    const root = newRoot();
    expect(install(extracted(HAPROXY), ['--root', root, '--node-name', NODE]).code).toBe(0);
    const recordPath = path.join(root, STATE, 'installed/example.files');
    const record = snapshot(path.join(root, STATE, 'installed'));
    const other = haSpec({ name: 'other', loadBalancer: { type: 'nginx' } });
    const r = install(extracted(other), ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${root}/${MANIFESTS}/haproxy.yaml is not in this bundle; the kubelet runs it too (left alone`);
    expect(r.stdout).not.toMatch(/^removed /m);
    expect(fs.existsSync(path.join(root, MANIFESTS, 'haproxy.yaml'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'etc/haproxy/haproxy.cfg'))).toBe(true);
    const after = snapshot(path.join(root, STATE, 'installed'));
    expect(after['example.files']).toBe(record['example.files']); // same inode, mtime, content
    expect(Object.keys(after).sort()).toEqual(['example.files', 'other.files']);

    // No record of this cluster (installed before the installer kept one): nothing is moved, the extra
    // manifest is warned about as before; the install writes the record for the next one.
    const legacy = newRoot();
    expect(install(extracted(HAPROXY), ['--root', legacy, '--node-name', NODE]).code).toBe(0);
    fs.rmSync(path.join(legacy, STATE, 'installed'), { recursive: true });
    const noRecord = install(extracted(NGINX), ['--root', legacy, '--node-name', NODE]);
    expect(noRecord.code).toBe(0);
    expect(noRecord.stderr).toContain(`${legacy}/${MANIFESTS}/haproxy.yaml is not in this bundle`);
    expect(fs.existsSync(path.join(legacy, MANIFESTS, 'haproxy.yaml'))).toBe(true);
    expect(fs.existsSync(recordPath.replace(root, legacy))).toBe(true);
  });
});

describe('install', () => {
  test('run as ./install.sh from elsewhere, with a relative --root', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    const r = spawnSync(path.join(bundle, 'install.sh'), ['--root', path.basename(root), '--node-name', NODE], { cwd: tmp, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installing the bundle of ${NODE} (cluster example, made by cdk8s-ha-control-plane ${LIBRARY_VERSION}) into ${root}\n`);
    expectInstalled(root, OLD);
  });

  test('a mode-only difference is fixed with chmod, without a backup', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    install(bundle, ['--root', root, '--node-name', NODE]);
    const etcd = path.join(root, MANIFESTS, 'etcd.yaml');
    fs.chmodSync(etcd, 0o644);
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`mode of ${etcd}: 0644 -> 0600`);
    expect(r.stdout).toContain('1 modes changed');
    expect(modeOf(etcd)).toBe(0o600);
    expect(fs.existsSync(path.join(root, 'var/lib/ha-control-plane/backup'))).toBe(false);
  });

  test('files not in the bundle are left alone; an extra manifest is warned about', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    fs.mkdirSync(path.join(root, MANIFESTS), { recursive: true });
    fs.writeFileSync(path.join(root, MANIFESTS, 'nginx.yaml'), 'old pod');
    fs.writeFileSync(path.join(root, MANIFESTS, '.hidden'), 'x');
    fs.writeFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'secret');
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`install.sh: warning: ${root}/${MANIFESTS} has mode 0755, the bundle's is 0700 (an existing directory is left as it is: chmod 0700 ${root}/${MANIFESTS} if you want it)\n`
      + `install.sh: warning: ${root}/${MANIFESTS}/nginx.yaml is not in this bundle; the kubelet runs it too (left alone: move it out of the directory if it is obsolete)\n`);
    expect(fs.readFileSync(path.join(root, MANIFESTS, 'nginx.yaml'), 'utf8')).toBe('old pod');
    expect(fs.readFileSync(path.join(root, MANIFESTS, '.hidden'), 'utf8')).toBe('x');
    expect(fs.readFileSync(path.join(root, 'etc/kubernetes/admin.conf'), 'utf8')).toBe('secret');
    // Existing directories keep their modes (with a warning above).
    expect(modeOf(path.join(root, MANIFESTS))).toBe(0o755);
  });

  test('--dry-run writes nothing and prints a unified diff of each change', () => {
    const root = newRoot();
    install(extracted(OLD), ['--root', root, '--node-name', NODE]);
    const before = snapshot(root);
    const bundle = extracted(NEW);
    const r = install(bundle, ['--root', root, '--node-name', NODE, '--dry-run']);
    expect(r.code).toBe(0);
    expect(snapshot(root)).toEqual(before);
    const cfg = `${root}/etc/haproxy/haproxy.cfg`;
    expect(r.stdout).toContain(`would replace ${cfg}\n--- ${cfg}\n+++ ${cfg} (bundle)\n@@ `);
    expect(r.stdout).toMatch(/^-.*inter 500ms/m);
    expect(r.stdout).toMatch(/^\+.*inter 400ms/m);
    expect(r.stdout).toMatch(/^-\s+image: registry\.k8s\.io\/kube-apiserver:v1\.37\.\d+$/m);
    expect(r.stdout).toMatch(/^\+\s+image: registry\.k8s\.io\/kube-apiserver:v1\.36\.\d+$/m);
    expect(r.stdout).toMatch(/would change: 0 directories created, 0 files created, \d+ replaced, 0 modes changed, 0 removed, \d+ unchanged; nothing was written\n$/);

    // Into an empty root: whole files as additions, directories listed; still nothing written (no var/lib either).
    const empty = newRoot();
    const fresh = install(bundle, ['--root', empty, '--node-name', NODE, '-n']);
    expect(fresh.code).toBe(0);
    expect(fs.readdirSync(empty)).toEqual([]);
    expect(fresh.stdout).toContain(`would create directory ${empty}/${MANIFESTS} (0700)`);
    expect(fresh.stdout).toContain(`would create ${empty}/${MANIFESTS}/etcd.yaml (0600)\n--- /dev/null\n+++ ${empty}/${MANIFESTS}/etcd.yaml (bundle)\n@@ -0,0 +1,`);
  });

  test('--dry-run without diff installed says so instead of failing', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    for (const t of ['sha256sum', 'basename', 'cat', 'chmod', 'cp', 'cut', 'date', 'dirname', 'id', 'ln', 'mkdir', 'mktemp', 'mv', 'rm', 'rmdir', 'sleep', 'stat', 'sync', 'tr', 'uname', 'wc', 'hostname']) {
      const p = execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim();
      fs.symlinkSync(p, path.join(bin, t));
    }
    const root = newRoot();
    const r = install(extracted(OLD), ['--root', root, '--node-name', NODE, '--dry-run'], { shell: '/bin/sh', env: { PATH: bin } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`(diff is not installed: install diffutils to see the changes of ${root}/${MANIFESTS}/etcd.yaml)`);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('a tampered file is refused by name and nothing is written', () => {
    const bundle = extracted(OLD);
    fs.appendFileSync(path.join(bundle, 'files', MANIFESTS, 'kube-apiserver.yaml'), '    - --anonymous-auth=true\n');
    const root = newRoot();
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`  files/${MANIFESTS}/kube-apiserver.yaml: FAILED\n`);
    expect(r.stderr).toContain(`install.sh: error: the bundle in ${bundle} does not match its SHA256SUMS (the files above); it was damaged or changed after it was made; nothing was written (fix: copy the tarball again`);
    expect(r.stderr).not.toContain('etcd.yaml');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('a file changed together with SHA256SUMS is still caught by the checksums in FILES', () => {
    const bundle = extracted(OLD);
    const rel = `files/${MANIFESTS}/etcd.yaml`;
    fs.appendFileSync(path.join(bundle, rel), '# changed\n');
    const sums = execFileSync('sha256sum', [rel], { cwd: bundle, encoding: 'utf8' });
    const text = fs.readFileSync(path.join(bundle, 'SHA256SUMS'), 'utf8').replace(new RegExp(`^[0-9a-f]{64}  ${rel}\n`, 'm'), sums);
    fs.writeFileSync(path.join(bundle, 'SHA256SUMS'), text);
    const root = newRoot();
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`install.sh: error: ${rel} does not match its checksum in FILES, or SHA256SUMS does not cover it (fix: copy the tarball again)\n`);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('a file left out of SHA256SUMS is refused', () => {
    const bundle = extracted(OLD);
    const sums = path.join(bundle, 'SHA256SUMS');
    fs.writeFileSync(sums, fs.readFileSync(sums, 'utf8').split('\n').filter((l) => !l.endsWith('  files/etc/keepalived/keepalived.conf')).join('\n'));
    const root = newRoot();
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('install.sh: error: files/etc/keepalived/keepalived.conf does not match its checksum in FILES, or SHA256SUMS does not cover it (fix: copy the tarball again)\n');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('a missing file is refused', () => {
    const bundle = extracted(OLD);
    fs.rmSync(path.join(bundle, 'files/etc/haproxy/haproxy.cfg'));
    const root = newRoot();
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/files\/etc\/haproxy\/haproxy\.cfg: FAILED open or read/);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('the wrong node is refused with both names and the fix', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    const r = install(bundle, ['--root', root, '--node-name', 'master-2']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('install.sh: error: this bundle is for node "master-1" (cluster example), but this host is "master-2" (--node-name); nothing was written (fix: install the bundle of "master-2" here, or pass --node-name master-1 if this host really is master-1 under another hostname)\n');
    expect(fs.readdirSync(root)).toEqual([]);
    // Without --node-name the hostname decides (lower-cased, as kubeadm names nodes).
    const host = execFileSync('hostname', { encoding: 'utf8' }).trim().toLowerCase();
    const byHostname = install(bundle, ['--root', root]);
    expect(host).not.toBe(NODE);
    expect(byHostname.code).toBe(3);
    expect(byHostname.stderr).toContain(`but this host is "${host}" (hostname)`);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('usage errors exit 2; --help exits 0', () => {
    const bundle = extracted(OLD);
    for (const args of [['--bogus'], ['--root'], ['--root', ''], ['--root', path.join(tmp, 'missing')], ['--node-name']]) {
      const r = install(bundle, args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(/^install\.sh: error: .+\nrun "sh install\.sh --help" for usage\n$/);
    }
    const help = install(bundle, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: sh install\.sh \[--root DIR\] \[--dry-run\] \[--node-name NAME\]/);
  });

  test('non-root: refused without --root (exit 4), allowed with a --root it owns', () => {
    const bundle = extracted(OLD);
    const nobody = 65534;
    execFileSync('chown', ['-R', `${nobody}:${nobody}`, bundle]); // as if that user had extracted it
    const denied = install(bundle, ['--node-name', NODE], { uid: nobody });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toBe('install.sh: error: installing into / needs root (fix: run it with sudo, or pass --root DIR to install under DIR)\n');
    const root = newRoot();
    fs.chownSync(root, nobody, nobody);
    const ok = install(bundle, ['--root', root, '--node-name', NODE], { uid: nobody, env: { HOME: tmp } });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(fs.statSync(path.join(root, MANIFESTS, 'etcd.yaml')).uid).toBe(nobody);
    expectInstalled(root, OLD);
  });

  test('a directory where the bundle has a file, or a file where it has a directory: exit 4, named, nothing written', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    fs.mkdirSync(path.join(root, 'etc/haproxy/haproxy.cfg'), { recursive: true });
    const before = snapshot(root);
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`install.sh: error: ${root}/etc/haproxy/haproxy.cfg is a directory, where the bundle has a file; nothing was written (fix: move it away and rerun)\n`);
    expect(snapshot(root)).toEqual(before);

    const other = newRoot();
    fs.mkdirSync(path.join(other, 'etc'));
    fs.writeFileSync(path.join(other, 'etc/keepalived'), 'a file');
    const before2 = snapshot(other);
    const r2 = install(bundle, ['--root', other, '--node-name', NODE]);
    expect(r2.code).toBe(4);
    expect(r2.stderr).toBe(`install.sh: error: ${other}/etc/keepalived is not a directory, where the bundle has one; nothing was written (fix: move it away and rerun)\n`);
    expect(snapshot(other)).toEqual(before2);
  });

  test('a running install holds the lock; a lock left by a dead installer is taken over', () => {
    const bundle = extracted(OLD);
    const root = newRoot();
    const state = path.join(root, 'var/lib/ha-control-plane');
    fs.mkdirSync(state, { recursive: true });
    fs.writeFileSync(path.join(state, 'install.lock'), `${process.pid}\n`);
    const held = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(held.code).toBe(4);
    expect(held.stderr).toContain(`another install is running (pid ${process.pid}, lock ${state}/install.lock)`);
    expect(fs.existsSync(path.join(root, MANIFESTS))).toBe(false);
    // A pid that is certainly gone: a child that has exited.
    const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    fs.writeFileSync(path.join(state, 'install.lock'), `${dead}\n`);
    const r = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(r.code).toBe(0);
    expectInstalled(root, OLD);
  });

  test('the installer (and the fill-level harness) is shellcheck-clean POSIX sh', () => {
    const r = spawnSync('shellcheck', ['-s', 'sh', INSTALLER, path.resolve(__dirname, 'harness/fill-levels.sh')], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});

/** Starts the installer in its own process group and waits (bounded) until it reports the test pause. */
async function startPaused(bundle: string, root: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn('sh', [path.join(bundle, 'install.sh'), '--root', root, '--node-name', NODE], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  live.add(child.pid!);
  child.stdout!.resume();
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no test pause within 10 s; stderr: ${stderr}`)), 10_000);
    child.stderr!.on('data', (d) => {
      stderr += String(d);
      if (stderr.includes('test pause after')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the installer exited (${code}) before its test pause; stderr: ${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

/** Signals the child's whole process group (the shell and its sleep) and waits, bounded, for it to end. */
async function signalGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }> {
  const done = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`installer still running 10 s after ${signal}`)), 10_000);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig });
    });
  });
  process.kill(-child.pid!, signal);
  const r = await done;
  live.delete(child.pid!);
  return r;
}

/**
 * After an interrupted install: every bundle file holds either its old or its new content, whole, with
 * the matching mode; the only extra files are dot-prefixed temporaries; and no manifest is new while a
 * host file is still old (host files go first).
 */
function expectConsistent(root: string, oldFiles: Map<string, { content: string; mode: number }>, newFiles: Map<string, { content: string; mode: number }>): void {
  let newManifests = 0;
  let oldHostFiles = 0;
  for (const [rel, want] of newFiles) {
    const p = path.join(root, rel);
    const before = oldFiles.get(rel);
    if (!fs.existsSync(p)) {
      expect({ rel, missing: true, hadOld: before !== undefined }).toEqual({ rel, missing: true, hadOld: false });
      if (!rel.startsWith(`${MANIFESTS}/`)) oldHostFiles++;
      continue;
    }
    const content = fs.readFileSync(p, 'utf8');
    const isNew = content === want.content;
    expect({ rel, wholeOldOrNew: isNew || content === before?.content }).toEqual({ rel, wholeOldOrNew: true });
    expect({ rel, mode: modeOf(p) }).toEqual({ rel, mode: isNew ? want.mode : before!.mode });
    const changed = want.content !== before?.content;
    if (rel.startsWith(`${MANIFESTS}/`)) {
      if (isNew && changed) newManifests++;
    } else if (!isNew) {
      oldHostFiles++;
    }
  }
  if (newManifests > 0) expect(oldHostFiles).toBe(0);
  const known = new Set([...oldFiles.keys(), ...newFiles.keys()].filter((k) => k.startsWith(`${MANIFESTS}/`)).map((k) => path.basename(k)));
  for (const name of fs.readdirSync(path.join(root, MANIFESTS))) {
    if (name.startsWith('.')) expect(name).toMatch(TEMP_NAME);
    else expect(known.has(name)).toBe(true);
  }
}

describe('an install killed in the middle', () => {
  const oldFiles = render(OLD).get(NODE)!;
  const newFiles = render(NEW).get(NODE)!;
  const changes = [...newFiles.keys()].filter((k) => oldFiles.get(k)?.content !== newFiles.get(k)!.content).length;
  const upgrades = Array.from({ length: changes }, (_, i) => i + 1);

  test('there is something to interrupt', () => {
    expect(changes).toBeGreaterThanOrEqual(5);
  });

  test.each(upgrades.flatMap((n) => [['HA_INSTALL_TEST_PAUSE_AFTER', n], ['HA_INSTALL_TEST_PAUSE_IN', n]] as const))(
    'SIGKILL at %s=%i of an upgrade: no partial or stray manifest; a rerun completes', async (hook, n) => {
      const root = newRoot();
      expect(install(extracted(OLD), ['--root', root, '--node-name', NODE]).code).toBe(0);
      const bundle = extracted(NEW);
      const child = await startPaused(bundle, root, { [hook]: String(n) });
      const killed = await signalGroup(child, 'SIGKILL');
      expect(killed.signal).toBe('SIGKILL');

      expectConsistent(root, oldFiles, newFiles);
      const temps = fs.readdirSync(path.join(root, MANIFESTS)).filter((f) => f.startsWith('.'));
      const hostTemps = ['etc/haproxy', 'etc/keepalived', 'etc/kubernetes'].flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.startsWith('.')));
      // Everything is staged before the first change: paused after the n-th staged file, n temporary
      // files exist and every file is still old; paused after the n-th change, the other changes - n
      // files are still staged, not yet renamed.
      expect(temps.length + hostTemps.length).toBe(hook === 'HA_INSTALL_TEST_PAUSE_IN' ? n : changes - n);
      if (hook === 'HA_INSTALL_TEST_PAUSE_IN') {
        for (const [rel, f] of oldFiles) expect({ rel, content: fs.readFileSync(path.join(root, rel), 'utf8') }).toEqual({ rel, content: f.content });
      }
      expect(fs.existsSync(path.join(root, 'var/lib/ha-control-plane/install.lock'))).toBe(true); // SIGKILL: no trap ran

      const rerun = install(bundle, ['--root', root, '--node-name', NODE]);
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      expectInstalled(root, NEW);
      if (temps.length + hostTemps.length) expect(rerun.stdout).toMatch(/^removed .+\.hacp-[A-Za-z0-9]{6} \(left by an interrupted run\)$/m);
      for (const d of ['etc/haproxy', 'etc/keepalived', 'etc/kubernetes', MANIFESTS, 'var/lib/ha-control-plane/backup', 'var/lib/ha-control-plane/installed']) {
        expect({ d, dotFiles: fs.readdirSync(path.join(root, d)).filter((f) => f.startsWith('.')) }).toEqual({ d, dotFiles: [] });
      }
      // A backup staged by a run killed before its first change is removed; one made by a run that
      // changed something stays beside the rerun's (none when only the record was left to rename).
      expect(fs.readdirSync(path.join(root, 'var/lib/ha-control-plane/backup'))).toHaveLength(hook === 'HA_INSTALL_TEST_PAUSE_IN' || n === changes ? 1 : 2);
      if (hook === 'HA_INSTALL_TEST_PAUSE_IN') expect(rerun.stdout).toMatch(/^removed .+\/backup\/\.\d{8}T\d{6}Z\.hacp-[A-Za-z0-9]{6} \(a backup staged by an interrupted run that changed nothing\)$/m);
    });

  test.each([1, 4, 5, 10])('SIGKILL after %i renames of a fresh install: only whole files; a rerun completes', async (n) => {
    const root = newRoot();
    const bundle = extracted(OLD);
    const child = await startPaused(bundle, root, { HA_INSTALL_TEST_PAUSE_AFTER: String(n) });
    await signalGroup(child, 'SIGKILL');
    expectConsistent(root, new Map(), oldFiles);
    const present = [...oldFiles.keys()].filter((k) => fs.existsSync(path.join(root, k)));
    expect(present).toHaveLength(n);
    // Host files (4 of them) before any manifest.
    expect(present.filter((k) => k.startsWith(`${MANIFESTS}/`))).toHaveLength(Math.max(0, n - 4));
    expect(install(bundle, ['--root', root, '--node-name', NODE]).code).toBe(0);
    expectInstalled(root, OLD);
  });

  test('SIGTERM while staging: the trap removes the staged files, the lock and the new directories, exit 143', async () => {
    const root = newRoot();
    const bundle = extracted(OLD);
    const child = await startPaused(bundle, root, { HA_INSTALL_TEST_PAUSE_IN: '6' });
    const tempsBefore = fs.readdirSync(path.join(root, MANIFESTS)).filter((f) => f.startsWith('.'));
    expect(tempsBefore).toHaveLength(2); // 4 host files, then 2 manifests staged
    for (const t of tempsBefore) expect(t).toMatch(TEMP_NAME);
    const r = await signalGroup(child, 'SIGTERM');
    expect(r.code).toBe(143);
    expect(fs.readdirSync(root)).toEqual([]); // nothing had changed: the node is as it was
  });
});

describe('a full disk: all or nothing (root on a tiny tmpfs, at every fill level)', () => {
  const FILL_LEVELS = path.resolve(__dirname, 'harness/fill-levels.sh');
  const PORT = haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 9443 } });
  const SWITCH = haSpec({ kubernetesVersion: '1.36', loadBalancer: { type: 'nginx' } });
  const MAX_FREE = 200;
  const STATE = 'var/lib/ha-control-plane';

  interface Entry { type: string; mode: string; sum?: string }
  interface Level { free: number; wanted: number; code: number; stderr: string; tree: Map<string, Entry> }

  /** Runs test/harness/fill-levels.sh in a private mount namespace; one Level per fill level. */
  function fillLevels(from: ClusterSpec | undefined, to: ClusterSpec, kind: 'pages' | 'inodes'): { levels: Level[]; before: Map<string, Entry> } {
    const mnt = path.join(tmp, 'mnt');
    fs.mkdirSync(mnt);
    // The state before: the old bundle installed into a plain directory by the same installer.
    const plain = newRoot();
    if (from) expect(install(extracted(from), ['--root', plain, '--node-name', NODE]).code).toBe(0);
    const r = spawnSync('timeout', ['-s', 'KILL', '55', 'unshare', '--mount', '--propagation', 'private', 'sh', FILL_LEVELS,
      mnt, '1024', from ? extracted(from) : '-', extracted(to), NODE, String(MAX_FREE), kind], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    if (r.error) throw r.error;
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const levels: Level[] = [];
    let cur: Level | undefined;
    const root = `${mnt}/root/`;
    for (const line of r.stdout.split('\n')) {
      const [tag, ...rest] = line.split(' ');
      if (tag === '@level') {
        const m = /^@level (\d+) free=(\d+) code=(\d+)$/.exec(line)!;
        cur = { wanted: Number(m[1]), free: Number(m[2]), code: Number(m[3]), stderr: '', tree: new Map() };
      } else if (tag === '@err') {
        cur!.stderr += `${line.slice(5)}\n`;
      } else if (tag === '@node') {
        cur!.tree.set(rest.slice(2).join(' '), { type: rest[0], mode: rest[1] });
      } else if (tag === '@sum') {
        const m = /^@sum ([0-9a-f]{64}) {2}(.+)$/.exec(line)!;
        cur!.tree.get(m[2].slice(root.length))!.sum = m[1];
      } else if (tag === '@end') {
        levels.push(cur!);
      } else if (line !== '') {
        throw new Error(`fill-levels.sh: unexpected output: ${line}`);
      }
    }
    // The same listing of the plain directory's old state, for comparison.
    const before = new Map<string, Entry>();
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        const rel = path.relative(plain, p);
        const mode = (fs.lstatSync(p).mode & 0o7777).toString(8);
        if (e.isDirectory()) {
          before.set(rel, { type: 'd', mode });
          walk(p);
        } else {
          before.set(rel, { type: 'f', mode, sum: execFileSync('sha256sum', [p], { encoding: 'utf8' }).slice(0, 64) });
        }
      }
    };
    walk(plain);
    return { levels, before };
  }

  test('the port upgrade changes the proxy config and the keepalived check beside the manifests (the split the issue saw)', () => {
    const a = render(OLD).get(NODE)!;
    const b = render(PORT).get(NODE)!;
    const changed = [...b.keys()].filter((k) => a.get(k)?.content !== b.get(k)!.content);
    expect(changed).toEqual(expect.arrayContaining(['etc/haproxy/haproxy.cfg', 'etc/keepalived/check_apiserver.sh', `${MANIFESTS}/haproxy.yaml`, `${MANIFESTS}/keepalived.yaml`]));
    expect(changed.some((k) => k.startsWith('etc/keepalived/') && b.get(k)!.content.includes('9443'))).toBe(true);
    expect(b.get('etc/haproxy/haproxy.cfg')!.content).toContain(':9443');
  });

  const sha = (text: string) => require('node:crypto').createHash('sha256').update(text).digest('hex');

  test.each([
    ['pages free from 0 up, an upgrade that moves the LB port (8443 -> 9443: haproxy.cfg, the keepalived check, the manifests)', OLD, PORT, 'pages'],
    ['pages free from 0 up, an upgrade with haproxy -> nginx (files created, replaced and moved to the backup)', OLD, SWITCH, 'pages'],
    ['pages free from 0 up, a fresh install into an empty root (directories created)', undefined, OLD, 'pages'],
    ['inodes free from 0 up (out of inodes, not space), an upgrade with haproxy -> nginx', OLD, SWITCH, 'inodes'],
  ] as const)('%s: exit 5 with the node byte-identical and no temporary file, or exit 0 with the whole new state', (_name, from, to, kind) => {
    const started = Date.now();
    const { levels, before } = fillLevels(from, to, kind);
    const last = levels[levels.length - 1];
    expect(last.code).toBe(0); // it succeeds once there is room
    const failed = levels.slice(0, -1);
    expect(failed.length).toBeGreaterThan(3); // there was a range of fill levels to fail at
    levels.forEach((l, i) => expect({ wanted: i, free: l.free }).toEqual({ wanted: i, free: l.wanted })); // exactly N pages free
    for (const l of failed) {
      expect({ level: l.wanted, code: l.code }).toEqual({ level: l.wanted, code: 5 });
      expect(l.stderr).toMatch(/^install\.sh: error: .+; nothing changed: .*the node is as it was \(fix: free space/m);
      // Once the lock is written, the message says how much room the install needs: on tmpfs (4 KiB
      // pages) exactly the room it succeeded with.
      if (kind === 'pages' && l.wanted > 0) expect({ level: l.wanted, needs: /the install needs about (\d+) KiB/.exec(l.stderr)?.[1] }).toEqual({ level: l.wanted, needs: String(4 * last.wanted) });
      expect({ level: l.wanted, tree: Object.fromEntries(l.tree) }).toEqual({ level: l.wanted, tree: Object.fromEntries(before) });
      expect([...l.tree.keys()].filter((k) => /\.hacp-/.test(k) || k.endsWith('install.lock'))).toEqual([]);
    }
    // Success: every file of the new bundle with its content and mode, nothing left of the old bundle
    // in the manifests directory, no temporary file, the old files in the backup, the record.
    const want = render(to).get(NODE)!;
    for (const [rel, f] of want) {
      expect({ rel, ...last.tree.get(rel) }).toEqual({ rel, type: 'f', mode: f.mode.toString(8), sum: sha(f.content) });
    }
    const manifests = [...last.tree.keys()].filter((k) => path.dirname(k) === MANIFESTS).sort();
    expect(manifests).toEqual([...want.keys()].filter((k) => k.startsWith(`${MANIFESTS}/`)).sort());
    expect([...last.tree.keys()].filter((k) => /\.hacp-/.test(k) || k.endsWith('install.lock'))).toEqual([]);
    expect(last.tree.get(`${STATE}/installed/example.files`)?.type).toBe('f');
    const old = from ? render(from).get(NODE)! : new Map<string, { content: string; mode: number }>();
    const gone = [...old.keys()].filter((k) => old.get(k)!.content !== want.get(k)?.content);
    for (const rel of gone) {
      const backups = [...last.tree].filter(([k, e]) => k.startsWith(`${STATE}/backup/`) && k.endsWith(`/${rel}`) && e.sum === sha(old.get(rel)!.content));
      expect({ rel, backups: backups.length }).toEqual({ rel, backups: 1 });
      if (!want.has(rel)) expect(last.tree.has(rel)).toBe(false);
    }
    // eslint-disable-next-line no-console
    console.log(`${_name}: exit 5, node unchanged, at 0-${failed.length - 1} free ${kind}; installed at ${last.wanted} (${levels.length} installs, ${Date.now() - started} ms)`);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});

describe('a change that fails (the target is a mount point: rename and unlink fail with EBUSY)', () => {
  const SWITCH = haSpec({ kubernetesVersion: '1.36', loadBalancer: { type: 'nginx' } });
  const STATE = 'var/lib/ha-control-plane';

  /** Installs with `target` (relative to root) bind-mounted over itself from a copy, in a private mount namespace. */
  function installBlocked(bundle: string, root: string, target: string): Result {
    const copy = path.join(tmp, `blocked-${++seq}`);
    fs.copyFileSync(path.join(root, target), copy);
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" "$2" && exec timeout -s KILL 20 sh "$3/install.sh" --root "$4" --node-name "$5"',
      'sh', copy, path.join(root, target), bundle, root, NODE], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const dotFiles = (root: string) => [`${MANIFESTS}`, 'etc/haproxy', 'etc/nginx', 'etc/keepalived', 'etc/kubernetes', `${STATE}/backup`, `${STATE}/installed`]
    .filter((d) => fs.existsSync(path.join(root, d))).flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.startsWith('.')).map((f) => `${d}/${f}`));

  test('the first change fails: exit 5, nothing changed (the backup made for it is removed too)', () => {
    const root = newRoot();
    expect(install(extracted(OLD), ['--root', root, '--node-name', NODE]).code).toBe(0);
    const bundle = extracted(SWITCH);
    const dry = install(bundle, ['--root', root, '--node-name', NODE, '--dry-run']);
    const first = /^would (?:replace|remove) (\S+)/m.exec(dry.stdout)![1];
    expect(first.startsWith(`${root}/etc/`)).toBe(true);
    expect(first).not.toContain(`/${MANIFESTS}/`); // host files first
    const before = snapshot(root);
    const r = installBlocked(bundle, root, path.relative(root, first));
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`install\\.sh: error: cannot rename \\S+ to ${first}; nothing changed: the staged files were removed and the node is as it was \\(fix: the cause above, and rerun\\)\\n$`));
    expect(r.stdout).not.toMatch(/^(created|replaced|removed) /m);
    expect(snapshot(root)).toEqual(before); // same inodes and mtimes: no backup, no temporary file, no lock
  });

  test.each([
    ['the leaving manifest cannot be removed', `${MANIFESTS}/haproxy.yaml`],
    ['a manifest cannot be replaced', `${MANIFESTS}/kube-apiserver.yaml`],
  ])('%s: exit 6, the message lists what is in place and what is not; no temporary file; a rerun completes', (_name, blocked) => {
    const root = newRoot();
    expect(install(extracted(OLD), ['--root', root, '--node-name', NODE]).code).toBe(0);
    const oldFiles = render(OLD).get(NODE)!;
    const newFiles = render(SWITCH).get(NODE)!;
    const record = fs.readFileSync(path.join(root, STATE, 'installed/example.files'), 'utf8');
    const bundle = extracted(SWITCH);
    const r = installBlocked(bundle, root, blocked);
    expect(r.code).toBe(6);
    const m = /^install\.sh: error: cannot (?:rename \S+ to|remove) (\S+); the install stopped midway: the (\d+) changes listed above are in place, these are not: (.+); the files replaced or removed so far are in (\S+) \(fix: the cause above, then rerun the installer, which completes the rest; or, to go back, copy the files from \S+ over\)$/m.exec(r.stderr);
    expect(m).not.toBeNull();
    const [, failed, done, notDone, backup] = m!;
    expect(failed).toBe(`${root}/${blocked}`);
    const inPlace = r.stdout.split('\n').filter((l) => /^(created|replaced|removed) \//.test(l)).map((l) => l.split(' ')[1]);
    expect(inPlace).toHaveLength(Number(done));
    expect(inPlace.length).toBeGreaterThan(0);
    const missing = notDone.trim().split(' ');
    expect(missing[0]).toBe(failed);
    // What the message says is in place is new (or gone); what it says is not is old; nothing else.
    for (const p of inPlace) {
      const rel = path.relative(root, p);
      if (newFiles.has(rel)) expect({ rel, content: fs.readFileSync(p, 'utf8') }).toEqual({ rel, content: newFiles.get(rel)!.content });
      else expect({ rel, exists: fs.existsSync(p) }).toEqual({ rel, exists: false });
    }
    for (const p of missing) {
      const rel = path.relative(root, p);
      if (rel === `${STATE}/installed/example.files`) continue;
      if (oldFiles.has(rel)) expect({ rel, content: fs.readFileSync(p, 'utf8') }).toEqual({ rel, content: oldFiles.get(rel)!.content });
      else expect({ rel, exists: fs.existsSync(p) }).toEqual({ rel, exists: false });
    }
    expect(missing[missing.length - 1]).toBe(`${root}/${STATE}/installed/example.files`); // the record last,
    expect(fs.readFileSync(path.join(root, STATE, 'installed/example.files'), 'utf8')).toBe(record); // not updated
    expect(fs.existsSync(backup)).toBe(true);
    expect(dotFiles(root)).toEqual([]);
    expect(fs.existsSync(path.join(root, STATE, 'install.lock'))).toBe(false);

    const rerun = install(bundle, ['--root', root, '--node-name', NODE]);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expectInstalled(root, SWITCH);
    for (const rel of [`${MANIFESTS}/haproxy.yaml`, 'etc/haproxy/haproxy.cfg']) expect({ rel, exists: fs.existsSync(path.join(root, rel)) }).toEqual({ rel, exists: false });
    expect(dotFiles(root)).toEqual([]);
  });
});
