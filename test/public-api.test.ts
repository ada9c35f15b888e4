/**
 * The package's public surface: the names the entry exports (values and types, nothing else), every
 * name the README and the consumer test use among them, symbol-based type guards that work
 * across two copies of the package, the one user-input error class, and StaticPodApp validating every
 * construct before it writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as cdk8s from 'cdk8s';
import * as constructs from 'constructs';
import * as ts from 'typescript';
import * as lib from '../lib';
import { HaControlPlane, HostFile, InputError, NodeChart, SpecError, StaticPod, StaticPodApp } from '../lib';
import { spec, TEST_ENCRYPTION_KEY } from './util';

const ROOT = path.join(__dirname, '..');

/**
 * The values `require('cdk8s-ha-control-plane')` has, sorted. Adding or removing one is a change of the
 * public API (a minor or a major release): update this list, the CHANGELOG and, for a type a public
 * signature mentions, test/fixtures/public-types.ts (typedoc, run by test/docs.test.ts, fails on a
 * public signature that mentions a type the entry does not export).
 */
const PUBLIC_VALUES = [
  'ApiServerHardening', 'EXAMPLE_SPEC', 'Etcd', 'HaControlPlane', 'HostFile', 'InputError', 'Keepalived', 'KubeApiServer',
  'KubeControllerManager', 'KubeScheduler', 'LvsDrVip', 'NodeChart', 'NotAStaticPodAppError', 'SpecError', 'StandaloneKubelet',
  'StaticPod', 'StaticPodApp', 'TcpProxy', 'formatIssue', 'loadSpec', 'loadSpecFile', 'planCluster', 'preparePki', 'preparePkiForPlan', 'readSpec',
  'readSpecFile',
];

/** Names in `import { … }` / `import type { … }` lists (`a as b` counts as a) of a source text, from `from`. */
function importedNames(text: string, from: string): string[] {
  const names: string[] = [];
  const re = new RegExp(`(?:import(?:\\s+type)?|const)\\s*\\{([^}]*)\\}\\s*(?:from\\s*|=\\s*require\\()\\\\?'${from.replace(/[$.{}]/g, (c) => `\\${c}`)}\\\\?'`, 'g');
  for (const m of text.matchAll(re)) names.push(...m[1].split(',').map((n) => n.replace(/^\s*type\s+/, '').split(/\s+as\s+|:/)[0].trim()).filter(Boolean));
  return names;
}

/** The export declarations of lib/index.ts: value names and type-only names. */
function entryExports(): { values: string[]; types: string[] } {
  const src = ts.createSourceFile('index.ts', fs.readFileSync(path.join(ROOT, 'lib', 'index.ts'), 'utf8'), ts.ScriptTarget.Latest, true);
  const values: string[] = [];
  const types: string[] = [];
  for (const st of src.statements) {
    // Only `export { … } from` and `export type { … } from`: no `export *`, no local declarations.
    if (!ts.isExportDeclaration(st) || !st.exportClause || !ts.isNamedExports(st.exportClause)) throw new Error(`lib/index.ts: not an explicit export list: ${st.getText(src).slice(0, 80)}`);
    for (const e of st.exportClause.elements) (st.isTypeOnly || e.isTypeOnly ? types : values).push(e.name.text);
  }
  return { values: values.sort(), types: types.sort() };
}

describe('the public API: an explicit list', () => {
  const entry = entryExports();
  const fixture = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'public-types.ts'), 'utf8');

  test('the values the entry exports are exactly the public ones', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(Object.keys(require('../lib')).sort()).toEqual(PUBLIC_VALUES);
    expect(entry.values).toEqual(PUBLIC_VALUES);
  });

  test('the types the entry exports are exactly those test/fixtures/public-types.ts imports (and type-checks)', () => {
    expect(entry.types).toEqual(importedNames(fixture, '../../lib').sort());
    expect(entry.types).toEqual(expect.arrayContaining(['ClusterSpec', 'ClusterPlan', 'HaControlPlaneProps', 'PreparedPki', 'SpecIssue', 'BundleFile']));
    expect(entry.types.filter((t) => PUBLIC_VALUES.includes(t))).toEqual([]);
  });

  test('the constructs, the LB ones included, and the entry points are public; internals are not', () => {
    for (const name of ['HaControlPlane', 'StaticPodApp', 'NodeChart', 'StaticPod', 'HostFile', 'Keepalived', 'TcpProxy', 'LvsDrVip', 'StandaloneKubelet',
      'SpecError', 'InputError', 'loadSpecFile', 'readSpecFile', 'planCluster', 'preparePki']) {
      expect(PUBLIC_VALUES).toContain(name);
    }
    for (const internal of ['writeBundles', 'writeFileAtomic', 'manifestYaml', 'DEFAULTS', 'KUBERNETES_PROFILES', 'validateSpec', 'pkiProfile', 'argsToCommand', 'runCli']) {
      expect(PUBLIC_VALUES).not.toContain(internal);
    }
  });

  test('every name the README\'s examples, the consumer test and the library\'s own messages import from the package resolves from its entry', () => {
    const publicNames = new Set([...PUBLIC_VALUES, ...entry.types]);
    const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');
    const used: Record<string, string[]> = {
      'README.md': importedNames(read('README.md'), 'cdk8s-ha-control-plane'),
      'test/consumer.test.ts': importedNames(read('test/consumer.test.ts'), '${pkg.name}'),
      'lib/ha-control-plane.ts': importedNames(read('lib/ha-control-plane.ts'), 'cdk8s-ha-control-plane'),
    };
    expect(used['README.md']).toEqual(expect.arrayContaining(['HaControlPlane', 'StaticPodApp', 'ClusterSpec', 'preparePkiForPlan', 'readSpecFile']));
    expect(used['test/consumer.test.ts']).toEqual(expect.arrayContaining(['ClusterSpec', 'HaControlPlane', 'StaticPodApp']));
    expect(used['lib/ha-control-plane.ts']).toEqual(['StaticPodApp']);
    // main.ts (npm run synth) is no example to copy: a thin caller of the CLI's own path (lib/cli.ts).
    expect(importedNames(read('main.ts'), './lib/cli')).toEqual(['runApp']);
    expect(read('main.ts')).not.toMatch(/from '\.\/lib'/);
    for (const [file, names] of Object.entries(used)) expect([file, names.filter((n) => !publicNames.has(n))]).toEqual([file, []]);
  });
});

/**
 * A second copy of the package, as when an app and a library each install their own: every module of
 * lib/ loaded again (new classes), with the app's one cdk8s and constructs (peer dependencies).
 */
function secondCopy(): typeof lib {
  let copy: typeof lib | undefined;
  jest.isolateModules(() => {
    jest.doMock('cdk8s', () => cdk8s);
    jest.doMock('constructs', () => constructs);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    copy = require('../lib') as typeof lib;
  });
  return copy!;
}

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-api-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The rendered bundles as plain data, to compare two renders. */
function rendered(app: StaticPodApp): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const [cluster, nodes] of app.renderBundles()) {
    out[cluster] = Object.fromEntries([...nodes].map(([node, files]) => [node, files.map((f) => `${f.path} ${f.mode.toString(8)} ${f.content.length}`)]));
  }
  return out;
}

describe('type guards across two copies of the package', () => {
  const other = secondCopy();

  test('the second copy is a real copy: its classes differ and instanceof does not see across', () => {
    expect(other.StaticPodApp).not.toBe(StaticPodApp);
    expect(other.NodeChart).not.toBe(NodeChart);
    expect(other.SpecError).not.toBe(SpecError);
    expect(new other.StaticPodApp({ reporter: false }) instanceof StaticPodApp).toBe(false);
    expect(new other.SpecError([]) instanceof SpecError).toBe(false);
    // ... while cdk8s is the app's one.
    expect(new other.StaticPodApp({ reporter: false }) instanceof cdk8s.App).toBe(true);
  });

  test.each([
    ['this copy', lib, other],
    ['the other copy', other, lib],
  ])('each guard recognizes objects of %s, and nothing else', (_name, mine, theirs) => {
    const app = new theirs.StaticPodApp({ reporter: false, outdir: tmp });
    const chart = new theirs.NodeChart(app, 'n1', { clusterName: 'c', nodeName: 'n1', role: 'master' });
    const pod = new theirs.StaticPod(chart, 'p', { name: 'p', image: 'busybox', command: ['true'] });
    const file = new theirs.HostFile(chart, 'f', { path: '/etc/f', content: 'x' });
    const specError = new theirs.SpecError([{ path: 'name', value: 1, problem: 'is wrong', fix: 'change it' }]);
    const inputError = new theirs.InputError('bad (fix: good)');
    expect([mine.StaticPodApp.isStaticPodApp(app), mine.NodeChart.isNodeChart(chart), mine.StaticPod.isStaticPod(pod), mine.HostFile.isHostFile(file)]).toEqual([true, true, true, true]);
    expect([mine.SpecError.isSpecError(specError), mine.InputError.isInputError(specError), mine.InputError.isInputError(inputError)]).toEqual([true, true, true]);
    // A NotAStaticPodAppError is a user error too.
    expect(() => new theirs.HaControlPlane(new cdk8s.App(), 'x', { spec: spec() })).toThrow(expect.objectContaining({ message: expect.stringMatching(/^HaControlPlane "x" is in a plain cdk8s App/) }));
    try { new theirs.HaControlPlane(new cdk8s.App(), 'x', { spec: spec() }); } catch (e) { expect(mine.InputError.isInputError(e)).toBe(true); }
    // Subclasses: the component pods are StaticPods.
    const cp = new theirs.HaControlPlane(app, 'prod', { spec: spec({ name: 'prod' }) });
    const master = cp.masters.get('master-1')!;
    expect(master.node.findAll().filter(mine.StaticPod.isStaticPod).map((p) => p.podName)).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    // Nothing else passes.
    const others: unknown[] = [undefined, null, 0, 'x', {}, new Error('x (fix: y)'), new cdk8s.App(), new cdk8s.Chart(new cdk8s.App(), 'plain'), new constructs.Construct(chart, 'plain')];
    for (const x of others) {
      expect([mine.StaticPodApp.isStaticPodApp(x), mine.NodeChart.isNodeChart(x), mine.StaticPod.isStaticPod(x), mine.HostFile.isHostFile(x), mine.SpecError.isSpecError(x), mine.InputError.isInputError(x)])
        .toEqual([false, false, false, false, false, false]);
    }
    // Each guard is about its own class only.
    expect([mine.NodeChart.isNodeChart(app), mine.StaticPod.isStaticPod(file), mine.HostFile.isHostFile(pod), mine.StaticPodApp.isStaticPodApp(chart), mine.SpecError.isSpecError(inputError)]).toEqual([false, false, false, false, false]);
  });

  test('a HaControlPlane of the other copy in this copy\'s StaticPodApp renders exactly what this copy renders', () => {
    const s = spec({ name: 'prod', security: { profile: 'hardened' } });
    const mixed = new StaticPodApp({ reporter: false, outdir: tmp });
    new other.HaControlPlane(mixed, 'prod', { spec: s, encryptionKey: TEST_ENCRYPTION_KEY });
    const own = new StaticPodApp({ reporter: false, outdir: tmp });
    new HaControlPlane(own, 'prod', { spec: s, encryptionKey: TEST_ENCRYPTION_KEY });
    const expected = rendered(own);
    expect(Object.keys(expected.prod)).toEqual(['master-1', 'master-2', 'master-3']);
    expect(expected.prod['master-1'].length).toBeGreaterThan(5);
    expect(rendered(mixed)).toEqual(expected);
    expect(mixed.nodeCharts().map((c) => c.nodeName)).toEqual(['master-1', 'master-2', 'master-3']);
    // And the other way: this copy's host file in the other copy's chart is part of the node.
    const chart = new other.NodeChart(new other.StaticPodApp({ reporter: false }), 'n', { clusterName: 'c', nodeName: 'n', role: 'worker' });
    new HostFile(chart, 'f', { path: '/etc/extra', content: 'x' });
    new StaticPod(chart, 'p', { name: 'p', image: 'busybox', command: ['true'] });
    expect(chart.hostFiles.map((f) => f.absolutePath)).toEqual(['/etc/extra']);
    expect(chart.staticPods.map((p) => p.podName)).toEqual(['p']);
  });
});

test('a plain chart beside a cluster is not a node chart (cdk8s makes `instanceof` of any Chart subclass true for every chart): written as <chart>.k8s.yaml', () => {
  const outdir = path.join(tmp, 'dist');
  const reported: string[] = [];
  const app = new StaticPodApp({ reporter: (l) => reported.push(l), outdir });
  const plain = new cdk8s.Chart(app, 'plain');
  new cdk8s.ApiObject(plain, 'cm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } });
  new HaControlPlane(app, 'prod', { spec: spec({ name: 'prod' }) });
  expect(NodeChart.isNodeChart(plain)).toBe(false);
  expect(app.nodeCharts().map((c) => c.nodeName)).toEqual(['master-1', 'master-2', 'master-3']);
  expect([...app.renderBundles().keys()]).toEqual(['prod']);
  app.synth();
  expect(fs.readdirSync(outdir).sort()).toEqual(['plain.k8s.yaml', 'prod']);
  expect(fs.readFileSync(path.join(outdir, 'plain.k8s.yaml'), 'utf8')).toMatch(/^kind: ConfigMap$/m);
  expect(reported[reported.length - 1]).toMatch(/plain\.k8s\.yaml \(a chart that is not a node's\)$/);
});

describe('InputError: the one class of user-fixable errors', () => {
  const thrown = (f: () => unknown): unknown => {
    try { f(); } catch (e) { return e; }
    throw new Error('nothing thrown');
  };

  test('construct and bundle errors that carry a fix are InputErrors, with their messages as before', () => {
    const app = new StaticPodApp({ reporter: false, outdir: tmp });
    const chart = new NodeChart(app, 'n', { clusterName: 'c', nodeName: 'n', role: 'worker' });
    const cases: [unknown, string][] = [
      [thrown(() => new HostFile(chart, 'a', { path: 'etc/x', content: '' })), 'HostFile path "etc/x" is not an absolute file path (fix: use e.g. "/etc/haproxy/haproxy.cfg")'],
      [thrown(() => new StaticPod(chart, 'b', { name: 'Bad', image: 'x', command: [] })), 'StaticPod name "Bad" is not a DNS label (fix: use lower-case letters, digits and "-")'],
    ];
    const app2 = new StaticPodApp({ reporter: false, outdir: tmp });
    const chart2 = new NodeChart(app2, 'n', { clusterName: 'c', nodeName: 'n', role: 'worker' });
    new HostFile(chart2, 'c', { path: '/etc/same', content: '' });
    new HostFile(chart2, 'd', { path: '/etc/same', content: '' });
    cases.push([thrown(() => app2.renderBundles()), 'node n: two files at /etc/same (fix: each pod and host file needs its own path)']);
    for (const [e, message] of cases) {
      expect(InputError.isInputError(e)).toBe(true);
      expect(e).toBeInstanceOf(InputError);
      expect(SpecError.isSpecError(e)).toBe(false);
      expect((e as Error).message).toBe(message);
      expect((e as Error).name).toBe('InputError');
    }
  });

  test('a SpecError is an InputError; its message and name are as before', () => {
    const e = thrown(() => new HaControlPlane(new StaticPodApp({ reporter: false }), 'x', { spec: spec({ name: 'Not_A_Label' }) }));
    expect(SpecError.isSpecError(e)).toBe(true);
    expect(InputError.isInputError(e)).toBe(true);
    expect((e as SpecError).name).toBe('SpecError');
    expect((e as SpecError).message).toMatch(/^invalid cluster spec: name: "Not_A_Label" /);
  });

  test('no module of lib/ throws a plain Error that carries a fix: every user-fixable error is an InputError', () => {
    const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    const plain: string[] = [];
    let withFix = 0;
    for (const file of files(path.join(ROOT, 'lib'))) {
      const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const visit = (n: ts.Node): void => {
        if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && /(fix: |fix:)/.test(n.arguments?.map((a) => a.getText(src)).join() ?? '')) {
          withFix++;
          if (!['InputError', 'SpecError', 'NotAStaticPodAppError'].includes(n.expression.text)) plain.push(`${path.relative(ROOT, file)}: new ${n.expression.text}(${n.arguments![0].getText(src).slice(0, 60)}`);
        }
        ts.forEachChild(n, visit);
      };
      visit(src);
    }
    expect(withFix).toBeGreaterThan(20);
    expect(plain).toEqual([]);
  });

  test('a bug is not an InputError, even with "(fix: ...)" in its message', () => {
    expect(InputError.isInputError(new Error('x (fix: y)'))).toBe(false);
    // The brand is invisible: not in JSON, keys or a spread.
    const e = new InputError('m');
    expect(Object.keys(e)).toEqual([]);
    expect(JSON.stringify({ ...e })).toBe('{}');
  });
});

describe('StaticPodApp validates every construct before it writes (as cdk8s App.synth does)', () => {
  test('a failed validation on a node chart, or deeper, stops the synth: one InputError listing each with its path; nothing written or stored', () => {
    const outdir = path.join(tmp, 'dist');
    const app = new StaticPodApp({ reporter: false, outdir });
    // A hardened cluster without a key: the synth would store a generated key in the state directory.
    const cp = new HaControlPlane(app, 'prod', { spec: spec({ name: 'prod', security: { profile: 'hardened' } }), baseDir: tmp });
    expect(cp.generatedEncryptionKeyFile).toBeDefined();
    cp.masters.get('master-2')!.node.addValidation({ validate: () => ['master-2 is reserved (fix: rename it)'] });
    const kubeadmConfig = cp.masters.get('master-3')!.node.findAll().find(HostFile.isHostFile)!;
    kubeadmConfig.node.addValidation({ validate: () => ['too long', 'not reviewed'] });
    cp.masters.get('master-1')!.node.addValidation({ validate: () => [] });
    let error: unknown;
    try { app.synth(); } catch (e) { error = e; }
    expect(InputError.isInputError(error)).toBe(true);
    expect((error as Error).message).toBe([
      'validation failed:',
      '  [prod/master-2] master-2 is reserved (fix: rename it)',
      `  [${kubeadmConfig.node.path}] too long`,
      `  [${kubeadmConfig.node.path}] not reviewed`,
    ].join('\n'));
    expect(fs.readdirSync(tmp)).toEqual([]); // no dist/, no ha-control-plane-state/
    expect(() => app.renderBundles()).toThrow(/^validation failed:\n {2}\[prod\/master-2\]/);
  });

  test('validations that pass change nothing', () => {
    const app = new StaticPodApp({ reporter: false, outdir: path.join(tmp, 'dist') });
    const cp = new HaControlPlane(app, 'prod', { spec: spec({ name: 'prod' }) });
    let calls = 0;
    for (const c of cp.masters.values()) c.node.addValidation({ validate: () => { calls++; return []; } });
    app.synth();
    expect(calls).toBe(3);
    expect(fs.readdirSync(path.join(tmp, 'dist', 'prod')).sort()).toEqual(['master-1', 'master-2', 'master-3']);
  });
});
