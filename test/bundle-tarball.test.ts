import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXAMPLE_SPEC, HaControlPlane, HostFile, StaticPodApp } from '../lib';
import { LIBRARY_VERSION } from '../lib/version';
import { installerScript, nodePackage } from '../lib/bundle/package';
import { TARBALL_MTIME } from '../lib/bundle/tarball';
import { haSpec } from './util';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-tarball-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function bundle(outdir: string, s = haSpec(), extra?: (cp: HaControlPlane) => void): void {
  const app = new StaticPodApp({ reporter: false, outdir, tarballs: true });
  const cp = new HaControlPlane(app, s.name, { spec: s });
  extra?.(cp);
  app.synth();
}

/** Every path below dir (relative) → mode and, for files, content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const mode = (fs.statSync(p).mode & 0o7777).toString(8);
      out[path.relative(dir, p)] = e.isDirectory() ? `${mode} dir` : `${mode} ${fs.readFileSync(p, 'utf8')}`;
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const sh = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8' });

describe('tarballs', () => {
  test('one tarball per node plus SHA256SUMS over them, beside the node trees', () => {
    bundle(tmp);
    expect(fs.readdirSync(path.join(tmp, 'example')).sort()).toEqual(['ansible', 'bundles', 'master-1', 'master-2', 'master-3']);
    const dir = path.join(tmp, 'example/bundles');
    expect(fs.readdirSync(dir).sort()).toEqual(['SHA256SUMS', 'master-1.tar.gz', 'master-2.tar.gz', 'master-3.tar.gz']);
    // The real sha256sum agrees with every line.
    expect(sh('sha256sum', ['-c', '--strict', 'SHA256SUMS'], dir)).toBe('master-1.tar.gz: OK\nmaster-2.tar.gz: OK\nmaster-3.tar.gz: OK\n');
    // A tarball may hold keys (PKI, the encryption key): only its owner reads it; the checksums are public.
    for (const f of fs.readdirSync(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(f === 'SHA256SUMS' ? 0o644 : 0o600);
    // No staging leftovers.
    expect(fs.readdirSync(tmp)).toEqual(['example']);
  });

  test('byte-identical for the same input, whatever the output directory or umask', () => {
    bundle(path.join(tmp, 'a'));
    const old = process.umask(0o077);
    try {
      bundle(path.join(tmp, 'b'));
    } finally {
      process.umask(old);
    }
    for (const f of ['master-1.tar.gz', 'master-2.tar.gz', 'SHA256SUMS']) {
      const a = fs.readFileSync(path.join(tmp, 'a/example/bundles', f));
      const b = fs.readFileSync(path.join(tmp, 'b/example/bundles', f));
      expect(a.equals(b)).toBe(true);
    }
    // A different input gives a different tarball (the comparison above can fail).
    bundle(path.join(tmp, 'c'), haSpec({ kubernetesVersion: '1.36' }));
    expect(fs.readFileSync(path.join(tmp, 'c/example/bundles/master-1.tar.gz')).equals(fs.readFileSync(path.join(tmp, 'a/example/bundles/master-1.tar.gz')))).toBe(false);
  });

  test('GNU tar lists sorted entries under <node>/ with their modes, owner 0/0 and the fixed time', () => {
    bundle(tmp);
    const listing = sh('tar', ['--numeric-owner', '--utc', '-tvzf', 'master-1.tar.gz'], path.join(tmp, 'example/bundles')).trim().split('\n');
    const rows = listing.map((l) => {
      const [perm, owner, , date, time, name] = l.split(/\s+/);
      return { perm, owner, stamp: `${date} ${time}`, name };
    });
    const names = rows.map((r) => r.name);
    expect(names[0]).toBe('master-1/');
    expect(names.every((n) => n.startsWith('master-1/'))).toBe(true);
    expect(names).toEqual([...names].sort((a, b) => (a.replace(/\/$/, '') < b.replace(/\/$/, '') ? -1 : 1)));
    expect(rows.every((r) => r.owner === '0/0')).toBe(true);
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('master-1/install.sh')!.perm).toBe('-rwxr-xr-x');
    expect(byName.get('master-1/files/etc/kubernetes/manifests/')!.perm).toBe('drwx------');
    expect(byName.get('master-1/files/etc/kubernetes/manifests/etcd.yaml')!.perm).toBe('-rw-------');
    expect(byName.get('master-1/files/etc/keepalived/check_apiserver.sh')!.perm).toBe('-rwxr-xr-x');
    expect(byName.get('master-1/files/etc/haproxy/haproxy.cfg')!.perm).toBe('-rw-r--r--');
    const fixed = TARBALL_MTIME.toISOString().slice(0, 16).replace('T', ' ');
    for (const r of rows.filter((x) => !x.name.endsWith('/'))) expect(r.stamp).toBe(fixed);
    expect(names.sort()).toEqual([
      'master-1/', 'master-1/CLUSTER', 'master-1/FILES', 'master-1/NODE', 'master-1/SHA256SUMS', 'master-1/files/',
      'master-1/files/etc/', 'master-1/files/etc/haproxy/', 'master-1/files/etc/haproxy/haproxy.cfg',
      'master-1/files/etc/keepalived/', 'master-1/files/etc/keepalived/check_apiserver.sh', 'master-1/files/etc/keepalived/keepalived.conf',
      'master-1/files/etc/kubernetes/', 'master-1/files/etc/kubernetes/kubeadm-config.yaml', 'master-1/files/etc/kubernetes/manifests/',
      ...['etcd', 'haproxy', 'keepalived', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((p) => `master-1/files/etc/kubernetes/manifests/${p}.yaml`),
      'master-1/VERSION', 'master-1/install.sh',
    ].sort());
  });

  test('extracted: files/ equals the synth tree of the node, and the inner SHA256SUMS checks with sha256sum -c', () => {
    bundle(tmp);
    const x = path.join(tmp, 'x');
    fs.mkdirSync(x);
    sh('tar', ['-xzf', path.join(tmp, 'example/bundles/master-2.tar.gz'), '-C', x], tmp);
    const node = path.join(x, 'master-2');
    expect(tree(path.join(node, 'files'))).toEqual(tree(path.join(tmp, 'example/master-2')));
    const check = sh('sha256sum', ['-c', '--strict', 'SHA256SUMS'], node).trim().split('\n');
    expect(check.every((l) => l.endsWith(': OK'))).toBe(true);
    // Every file of the bundle but SHA256SUMS itself is covered.
    const files = Object.entries(tree(node)).filter(([, v]) => !v.endsWith(' dir')).map(([k]) => k).filter((k) => k !== 'SHA256SUMS');
    expect(check.map((l) => l.replace(/: OK$/, '')).sort()).toEqual(files.sort());
    expect(fs.readFileSync(path.join(node, 'NODE'), 'utf8')).toBe('master-2\n');
    expect(fs.readFileSync(path.join(node, 'CLUSTER'), 'utf8')).toBe('example\n');
    expect(fs.readFileSync(path.join(node, 'VERSION'), 'utf8')).toBe(`cdk8s-ha-control-plane ${LIBRARY_VERSION}\n`);
    expect(fs.readFileSync(path.join(node, 'install.sh'), 'utf8')).toBe(installerScript());
  });

  test('FILES: directories parents first with their modes, then host files, then manifests, each with its SHA-256', () => {
    const files = [
      { path: 'etc/kubernetes/manifests/b.yaml', content: 'b\n', mode: 0o600 },
      { path: 'etc/x/y/z.conf', content: 'z\n', mode: 0o644 },
      { path: 'etc/kubernetes/manifests/a.yaml', content: 'a\n', mode: 0o600 },
      { path: 'etc/a.sh', content: '#!/bin/sh\n', mode: 0o755 },
    ];
    const entries = nodePackage('c', 'n', files, '#!/bin/sh\n');
    const index = entries.find((e) => e.path === 'FILES')!.content!.split('\n').filter((l) => l && !l.startsWith('#'));
    const sha = (t: string) => execFileSync('sha256sum', { input: t, encoding: 'utf8' }).slice(0, 64);
    expect(index).toEqual([
      'd 0755 - etc',
      'd 0755 - etc/kubernetes',
      'd 0700 - etc/kubernetes/manifests',
      'd 0755 - etc/x',
      'd 0755 - etc/x/y',
      `f 0755 ${sha('#!/bin/sh\n')} etc/a.sh`,
      `f 0644 ${sha('z\n')} etc/x/y/z.conf`,
      `f 0600 ${sha('a\n')} etc/kubernetes/manifests/a.yaml`,
      `f 0600 ${sha('b\n')} etc/kubernetes/manifests/b.yaml`,
    ]);
    const sums = entries.find((e) => e.path === 'SHA256SUMS')!.content!;
    expect(sums.split('\n').filter(Boolean).map((l) => l.slice(66))).toEqual([
      'CLUSTER', 'FILES', 'NODE', 'VERSION',
      'files/etc/a.sh', 'files/etc/kubernetes/manifests/a.yaml', 'files/etc/kubernetes/manifests/b.yaml', 'files/etc/x/y/z.conf',
      'install.sh',
    ]);
  });

  test('synth without tarballs writes no bundles directory', () => {
    const app = new StaticPodApp({ reporter: false, outdir: tmp });
    new HaControlPlane(app, 'example', { spec: haSpec() });
    app.synth();
    expect(fs.existsSync(path.join(tmp, 'example/bundles'))).toBe(false);
  });
});

describe('what cannot be bundled fails before anything is written', () => {
  test('fails for a node named "bundles"', () => {
    const s = { ...EXAMPLE_SPEC, masters: [...EXAMPLE_SPEC.masters.slice(0, 2), { name: 'bundles', address: '192.168.10.13' }] };
    expect(() => bundle(tmp, s)).toThrow('cluster example: a node named "bundles" would share its directory with the installable bundles (fix: rename the node)');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test.each([
    ['666', 0o666],
    ['4755', 0o4755],
  ])('fails for a host file with mode %s', (text, mode) => {
    const add = (cp: HaControlPlane) => { new HostFile(cp.masters.get('master-1')!, 'x', { path: '/etc/x.conf', content: 'x', mode }); };
    expect(() => bundle(tmp, haSpec(), add)).toThrow(`node master-1: /etc/x.conf has mode ${text}, which the bundle installer does not write (fix: use a mode up to 0755 that is not writable by group or others, e.g. 0644, or 0600 for secrets)`);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test.each(['/etc/a\nb.conf', '/etc/a\\b.conf', '/etc/ a.conf '])('fails for the host file path %j', (p) => {
    const add = (cp: HaControlPlane) => { new HostFile(cp.masters.get('master-1')!, 'x', { path: p, content: 'x' }); };
    expect(() => bundle(tmp, haSpec(), add)).toThrow(/node master-1: the file path .* cannot go into an installable bundle \(fix: /);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('a failed re-bundle leaves the previous output as it was', () => {
    bundle(tmp);
    const before = tree(tmp);
    const add = (cp: HaControlPlane) => { new HostFile(cp.masters.get('master-2')!, 'x', { path: '/etc/x.conf', content: 'x', mode: 0o664 }); };
    expect(() => bundle(tmp, haSpec(), add)).toThrow(/master-2: \/etc\/x.conf has mode 664/);
    expect(tree(tmp)).toEqual(before);
  });
});
