import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { HaControlPlane, HostFile, NotAStaticPodAppError, StaticPodApp } from '../lib';
import { runApp } from '../lib/cli';
import { writeFileAtomic, writeNewFile } from '../lib/util/files';
import { spec } from './util';

// The module object itself (not an import namespace, whose bindings cannot be redefined), so spies
// on it are seen by the library code.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsModule: typeof fs = require('node:fs');

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-bundle-')); });
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function synth(outdir: string, s = spec()): HaControlPlane {
  const app = new StaticPodApp({ reporter: false, outdir });
  const cp = new HaControlPlane(app, s.name, { spec: s });
  app.synth();
  return cp;
}

/** Every path below dir, relative, with its mode. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out[path.relative(dir, p)] = (fs.statSync(p).mode & 0o777).toString(8);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describe('bundle on disk', () => {
  test('kubelet layout with kubeadm\'s modes: manifests 0600 in a 0700 directory', () => {
    synth(tmp);
    const t = tree(tmp);
    expect(Object.keys(t).filter((p) => p.split(path.sep).length === 2).sort()).toEqual(['example/master-1', 'example/master-2', 'example/master-3']);
    for (const n of ['master-1', 'master-2', 'master-3']) {
      const m = `example/${n}/etc/kubernetes/manifests`;
      expect(t[m]).toBe('700');
      expect(t[`example/${n}/etc/kubernetes`]).toBe('755');
      expect(Object.keys(t).filter((p) => p.startsWith(`${m}/`)).sort()).toEqual(
        ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'].map((f) => `${m}/${f}`));
      for (const f of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) expect(t[`${m}/${f}.yaml`]).toBe('600');
    }
    // No temporary or staging leftovers anywhere.
    expect(Object.keys(t).filter((p) => path.basename(p).startsWith('.'))).toEqual([]);
  });

  test('modes do not depend on the umask', () => {
    const old = process.umask(0o077);
    try {
      synth(tmp);
    } finally {
      process.umask(old);
    }
    expect(tree(tmp)['example/master-1/etc/kubernetes']).toBe('755');
    expect(tree(tmp)['example/master-1/etc/kubernetes/manifests/etcd.yaml']).toBe('600');
  });

  test('host files are written at their path with their mode, before any manifest', () => {
    const app = new StaticPodApp({ reporter: false, outdir: tmp });
    const cp = new HaControlPlane(app, 'example', { spec: spec() });
    const chart = cp.masters.get('master-1')!;
    const script = new HostFile(chart, 'script', { path: '/etc/keepalived/check.sh', content: '#!/bin/sh\nexit 0\n', mode: 0o755 });
    chart.staticPods[0].mountHostFile('check', script);
    const opens = jest.spyOn(fsModule, 'openSync');
    app.synth();
    const f = path.join(tmp, 'example/master-1/etc/keepalived/check.sh');
    expect(fs.readFileSync(f, 'utf8')).toBe('#!/bin/sh\nexit 0\n');
    expect(fs.statSync(f).mode & 0o777).toBe(0o755);
    const order = opens.mock.calls.map((c) => String(c[0])).filter((p) => p.includes('master-1'));
    const firstManifest = order.findIndex((p) => p.includes('/manifests/'));
    expect(order.findIndex((p) => p.endsWith('/check.sh'))).toBeLessThan(firstManifest);
    // The pod that mounts it gets a hostPath of type File and a checksum annotation.
    const pod = fs.readFileSync(path.join(tmp, 'example/master-1/etc/kubernetes/manifests/etcd.yaml'), 'utf8');
    expect(pod).toMatch(/ha-control-plane\.io\/config-checksum: sha256:[0-9a-f]{64}/);
    expect(pod).toMatch(/path: \/etc\/keepalived\/check\.sh\n\s+type: File/);
  });

  test('a changed host file changes the checksum annotation (the pod rolls)', () => {
    const checksum = (content: string) => {
      const app = new StaticPodApp({ reporter: false, outdir: tmp });
      const cp = new HaControlPlane(app, 'example', { spec: spec() });
      const chart = cp.masters.get('master-1')!;
      chart.staticPods[0].mountHostFile('cfg', new HostFile(chart, 'cfg', { path: '/etc/x.cfg', content }));
      return (chart.staticPods[0].toManifest() as any).metadata.annotations['ha-control-plane.io/config-checksum'];
    };
    expect(checksum('a')).toBe(checksum('a'));
    expect(checksum('a')).not.toBe(checksum('b'));
  });

  test('a re-synth replaces the cluster directory whole (no stale files)', () => {
    synth(tmp);
    fs.writeFileSync(path.join(tmp, 'example/master-1/etc/kubernetes/manifests/stale.yaml'), 'x');
    synth(tmp);
    expect(fs.existsSync(path.join(tmp, 'example/master-1/etc/kubernetes/manifests/stale.yaml'))).toBe(false);
    expect(fs.readdirSync(tmp)).toEqual(['example']);
  });

  test('invalid input writes nothing and leaves the previous bundle untouched', () => {
    synth(tmp);
    const before = tree(tmp);
    const content = fs.readFileSync(path.join(tmp, 'example/master-2/etc/kubernetes/manifests/etcd.yaml'), 'utf8');
    expect(() => synth(tmp, spec({ masters: [{ name: 'master-1', address: 'bad' }] }))).toThrow(/masters\[0\]\.address/);
    expect(tree(tmp)).toEqual(before);
    expect(fs.readFileSync(path.join(tmp, 'example/master-2/etc/kubernetes/manifests/etcd.yaml'), 'utf8')).toBe(content);
    const fresh = path.join(tmp, 'fresh');
    expect(() => synth(fresh, spec({ name: 'BAD' }))).toThrow(/name: "BAD"/);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  test('a write that fails midway leaves the previous bundle and no staging directory', () => {
    synth(tmp);
    const before = tree(tmp);
    const real = fs.writeFileSync;
    let n = 0;
    jest.spyOn(fsModule, 'writeFileSync').mockImplementation(((...a: Parameters<typeof fs.writeFileSync>) => {
      if (++n === 7) throw new Error('disk full');
      return real(...a);
    }) as typeof fs.writeFileSync);
    expect(() => synth(tmp)).toThrow('disk full');
    jest.restoreAllMocks();
    expect(tree(tmp)).toEqual(before);
  });
});

describe('an App that is not a StaticPodApp', () => {
  // A plain cdk8s App (the `cdk8s init` template's) writes only the Pods, not the host files they mount:
  // every kind of non-StaticPodApp root is refused at construction, before any state is made.
  const roots: [string, () => Construct][] = [
    ['the template\'s new App()', () => new App({ outdir: tmp })],
    ['an App subclass (Testing.app)', () => Testing.app({ outdir: tmp })],
    ['a chart of a plain App', () => new Chart(new App({ outdir: tmp }), 'mine')],
    ['a bare construct tree', () => new Construct(undefined as unknown as Construct, 'root')],
  ];
  test.each(roots)('%s: refused with a message naming StaticPodApp and how to use it; nothing written or stored', (_name, root) => {
    const cwd = process.cwd();
    process.chdir(tmp); // a hardened synth would create ha-control-plane-state/ here
    let err: unknown;
    try {
      new HaControlPlane(root(), 'prod', { spec: spec({ name: 'prod', security: { profile: 'hardened' } }) });
    } catch (e) {
      err = e;
    } finally {
      process.chdir(cwd);
    }
    expect(err).toBeInstanceOf(NotAStaticPodAppError);
    const e = err as Error;
    expect(e.message).toMatch(/^HaControlPlane "prod" is in (a plain cdk8s App|a construct tree without an App).*only the Pods, not the host files they mount \(haproxy\.cfg, keepalived\.conf.*kubeadm-config\.yaml/);
    expect(e.message).toContain("(fix: make the app a StaticPodApp: `import { StaticPodApp } from 'cdk8s-ha-control-plane'; const app = new StaticPodApp();` in place of `new App()`");
    // Uncaught, it prints as a message and the caller's line, not a stack trace of library frames.
    const lines = e.stack!.split('\n');
    expect(lines[0]).toBe(`error: ${e.message}`);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(/^\s+at .*bundle\.test\.ts:\d+:\d+\)?$/);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  test('a StaticPodApp is recognised, also through a chart of it', () => {
    const app = new StaticPodApp({ reporter: false, outdir: tmp });
    expect(StaticPodApp.isStaticPodApp(app)).toBe(true);
    expect(StaticPodApp.isStaticPodApp(new App())).toBe(false);
    const cp = new HaControlPlane(new Chart(app, 'mine'), 'prod', { spec: spec({ name: 'prod' }) });
    expect(cp.masters.size).toBe(3);
  });
});

test('the app `cdk8s synth` runs (main.ts) renders every file once and writes what it rendered', async () => {
  const renders = jest.spyOn(StaticPodApp.prototype, 'renderBundles');
  const out = path.join(tmp, 'dist');
  const saved = process.env.CDK8S_OUTDIR;
  process.env.CDK8S_OUTDIR = out;
  const stderr: string[] = [];
  try {
    expect(await runApp([], { stdout: () => undefined, stderr: (t) => { stderr.push(t); }, cwd: tmp, env: {} })).toBe(0);
  } finally {
    if (saved === undefined) delete process.env.CDK8S_OUTDIR; else process.env.CDK8S_OUTDIR = saved;
  }
  expect(renders).toHaveBeenCalledTimes(1);
  const rendered = renders.mock.results[0].value as Map<string, Map<string, { path: string; content: string }[]>>;
  const files = [...rendered.get('example')!].flatMap(([node, fs_]) => fs_.map((f) => ({ file: path.join(out, 'example', node, f.path), content: f.content })));
  expect(files).toHaveLength(30);
  for (const f of files) expect(fs.readFileSync(f.file, 'utf8')).toBe(f.content);
  expect(stderr).toHaveLength(1); // the report in one write
  expect(stderr[0]).toContain('dist/example/master-3/ (master: etcd');
});

describe('writeNewFile (bundle files, in the staging directory)', () => {
  test('writes the mode whatever the umask, and never over an existing file', () => {
    const f = path.join(tmp, 'check.sh');
    const umask = process.umask(0o077);
    try {
      writeNewFile(f, '#!/bin/sh\n', 0o755);
    } finally {
      process.umask(umask);
    }
    expect(fs.readFileSync(f, 'utf8')).toBe('#!/bin/sh\n');
    expect(fs.statSync(f).mode & 0o777).toBe(0o755);
    expect(() => writeNewFile(f, 'other', 0o644)).toThrow(/EEXIST/);
    expect(fs.readFileSync(f, 'utf8')).toBe('#!/bin/sh\n');
  });
});

describe('writeFileAtomic', () => {
  test('replaces the file whole, with the mode, and leaves no temporary file', () => {
    const f = path.join(tmp, 'a.yaml');
    fs.writeFileSync(f, 'old');
    writeFileAtomic(f, 'new', 0o600);
    expect(fs.readFileSync(f, 'utf8')).toBe('new');
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(tmp)).toEqual(['a.yaml']);
  });

  test('a failed write keeps the old content and removes the temporary (dot) file', () => {
    const f = path.join(tmp, 'a.yaml');
    fs.writeFileSync(f, 'old');
    jest.spyOn(fsModule, 'fsyncSync').mockImplementation(() => { throw new Error('EIO'); });
    expect(() => writeFileAtomic(f, 'new', 0o600)).toThrow('EIO');
    expect(fs.readFileSync(f, 'utf8')).toBe('old');
    expect(fs.readdirSync(tmp)).toEqual(['a.yaml']);
  });
});
