/**
 * The library as a user meets it: `npm pack` of a copy of this repository (so `prepack` really cleans
 * and builds), then an app made from the `cdk8s init typescript-app` template of the cdk8s CLI we test
 * with — its own package.json (cdk8s-plus-33), tsconfig.json (CommonJS, lib es2016, strict) and cdk8s.yaml
 * (`npx ts-node main.ts`) — that installs the tarball as a user would, then runs the real `cdk8s synth`
 * on the README's examples exactly as printed, on the template's own plain-App main.ts, and on plain
 * JavaScript. One installed app directory serves every case.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string>;
};
const cliDir = join(root, 'node_modules', 'cdk8s-cli');
const cdk8sCli = join(root, 'node_modules', '.bin', 'cdk8s');
const templateDir = join(cliDir, 'templates', 'typescript-app');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'ha-cp-consumer-'));
const app = join(work, 'app');
let tarball = '';
let templateDeps: Record<string, string> = {};
let installLog = '';

const ENV = { CDK8S_CHECK_UPGRADE: 'false', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function run(cmd: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', timeout: 240_000, env: { ...process.env, ...ENV } });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** `cdk8s synth` in the app (its cdk8s.yaml, or --app): exit status and both streams. */
function synth(extra: readonly string[] = []): { status: number | null; out: string } {
  rmSync(join(app, 'dist'), { recursive: true, force: true });
  const r = spawnSync(cdk8sCli, ['synth', ...extra], { cwd: app, encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...ENV } });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

/** A ```ts block of the README: the first after `heading` that contains `marker`, exactly as printed. */
function readmeBlock(heading: string, marker: string): string {
  const from = readme.indexOf(heading);
  expect(from).toBeGreaterThanOrEqual(0);
  const block = [...readme.slice(from).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes(marker));
  if (!block) throw new Error(`no README block with ${marker} after ${heading}`);
  return block;
}

/** The template's package.json as `cdk8s init` fills it in (versions as its init command resolves them). */
function templatePackageJson(): Record<string, any> {
  const version = (m: string) => (JSON.parse(readFileSync(require.resolve(`${m}/package.json`, { paths: [cliDir] }), 'utf8')) as { version: string }).version;
  const cli = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const text = readFileSync(join(templateDir, 'package.json'), 'utf8')
    .replace(/\{\{ \$base \}\}/g, 'app')
    .replace(/\{\{ cdk8s_core_version \}\}/g, version('cdk8s'))
    .replace(/\{\{ cdk8s_plus_version \}\}/g, version('cdk8s-plus-33'))
    .replace(/\{\{ constructs_version \}\}/g, cli.dependencies.constructs.replace('^', ''))
    .replace(/\{\{ cdk8s_cli_spec \}\}/g, `^${cli.version}`);
  expect(text).not.toMatch(/\{\{/);
  const json = JSON.parse(text) as Record<string, any>;
  // `cdk8s synth` needs only ts-node and typescript of the dev tools; the template's cdk8s-cli (we run
  // ours, the same version) and its jest setup are left out to keep the install short.
  for (const d of ['cdk8s-cli', 'jest', 'ts-jest', '@types/jest']) delete json.devDependencies[d];
  return json;
}

beforeAll(() => {
  // A copy of the repository's own files (tracked or new, never ignored ones like build/ or dist/).
  const src = join(work, 'src');
  const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], root).split('\0').filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(root, f))) continue; // deleted in the work tree
    mkdirSync(dirname(join(src, f)), { recursive: true });
    cpSync(join(root, f), join(src, f));
  }
  symlinkSync(join(root, 'node_modules'), join(src, 'node_modules'));
  const out = run('npm', ['pack', '--json', '--pack-destination', work], src);
  tarball = join(work, (JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[])[0].filename);

  // The template app, installed as `cdk8s init` does (npm install), then our package as a user adds it.
  mkdirSync(app);
  const pj = templatePackageJson();
  templateDeps = { ...pj.dependencies };
  writeFileSync(join(app, 'package.json'), JSON.stringify(pj, null, 2));
  for (const f of ['tsconfig.json', 'cdk8s.yaml']) cpSync(join(templateDir, f), join(app, f));
  run('npm', ['install', '--prefer-offline'], app);
  installLog = run('npm', ['install', '--prefer-offline', tarball], app);
}, 400_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the build with types, schema, bin, the keepalived Containerfile, docs and license — no sources, tests or output', () => {
  const list = run('tar', ['-tzf', tarball], work).split('\n').filter(Boolean).map((p) => p.replace(/^package\//, ''));
  for (const f of ['build/lib/index.js', 'build/lib/index.d.ts', 'build/lib/cli.js', 'build/schema/cluster-spec.schema.json', 'schema/cluster-spec.schema.json',
    'bin/ha-control-plane.js', 'images/keepalived/Containerfile', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) {
    expect(list).toContain(f);
  }
  const unexpected = list.filter((f) => /^(test|dist|bench|scripts|node_modules|\.cache)\//.test(f)
    || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.(key|pem)$/.test(f) || f.startsWith('build/test'));
  expect(unexpected).toEqual([]);
});

test('installs cleanly beside the template\'s cdk8s-plus-33: no peer conflict, no second plus library to add', () => {
  // The only warning allowed: cdk8s-plus-27 2.9.5 (the newest) lists backport 8.5.0 as an optional
  // dependency, whose postinstall npm holds back until approved; it is not ours to drop.
  const warnings = installLog.split('\n').filter((l) => /^npm (warn|error)/i.test(l) && !/install-scripts/.test(l));
  expect(warnings).toEqual([]);
  expect(installLog).not.toMatch(/ERESOLVE|peer dep|conflicting peer/i);
  const deps = (JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies;
  // The user's dependencies are the template's plus ours: nothing else asked of them.
  expect(Object.keys(deps).sort()).toEqual([...Object.keys(templateDeps), pkg.name].sort());
  expect(Object.keys(templateDeps)).toContain('cdk8s-plus-33');
  // Exits non-zero on a missing, invalid or extraneous one among them.
  const ls = JSON.parse(run('npm', ['ls', '--json', 'cdk8s', 'constructs', 'cdk8s-plus-27', 'cdk8s-plus-33', pkg.name], app)) as {
    dependencies: Record<string, { version: string; dependencies?: Record<string, { version: string }> }>;
  };
  expect(ls.dependencies['cdk8s-plus-33'].version).toMatch(/^2\./);
  // Our L1 library comes with us, as a regular dependency.
  expect(pkg.dependencies['cdk8s-plus-27']).toBeDefined();
  expect(ls.dependencies[pkg.name].dependencies?.['cdk8s-plus-27']?.version).toMatch(/^2\./);
  // One cdk8s and one constructs for the app, for us and for both plus libraries: one construct tree.
  for (const m of ['cdk8s', 'constructs']) {
    const from = (dir: string) => run('node', ['-p', `require.resolve('${m}', { paths: [${JSON.stringify(dir)}] })`], app).trim();
    const mine = from(app);
    expect(from(join(app, 'node_modules', pkg.name))).toBe(mine);
    expect(from(dirname(require.resolve('cdk8s-plus-27/package.json', { paths: [join(app, 'node_modules', pkg.name)] })))).toBe(mine);
    expect(from(join(app, 'node_modules', 'cdk8s-plus-33'))).toBe(mine);
  }
});

/** Every node's manifests under dist/<cluster>/, parsed. */
function manifests(cluster: string): Map<string, Record<string, any>[]> {
  const out = new Map<string, Record<string, any>[]>();
  const base = join(app, 'dist', cluster);
  for (const node of readdirSync(base)) {
    const mdir = join(base, node, 'etc', 'kubernetes', 'manifests');
    if (!existsSync(mdir)) continue;
    out.set(node, readdirSync(mdir).map((f) => parse(readFileSync(join(mdir, f), 'utf8'))));
    expect(statSync(mdir).mode & 0o777).toBe(0o700);
  }
  return out;
}

const HOST_FILES = ['etc/haproxy/haproxy.cfg', 'etc/keepalived/keepalived.conf', 'etc/kubernetes/kubeadm-config.yaml'];

test('the README\'s consumer example, exactly as printed, in the template app: cdk8s synth writes every pod and host file and reports them', () => {
  writeFileSync(join(app, 'main.ts'), readmeBlock('## Using it from your own cdk8s app', 'new StaticPodApp()'));
  const r = synth();
  expect(r.status).toBe(0);
  const nodes = manifests('prod');
  expect([...nodes.keys()].sort()).toEqual(['master-1', 'master-2', 'master-3']);
  for (const [node, pods] of nodes) {
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['etcd', 'haproxy', 'keepalived', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    for (const p of pods) expect(p.metadata.annotations['ha-control-plane.io/version']).toBe(pkg.version);
    for (const f of HOST_FILES) {
      expect(existsSync(join(app, 'dist', 'prod', node, f))).toBe(true);
      expect(r.out).toContain(`  /${f} 0`); // the report lists it
    }
    expect(r.out).toMatch(new RegExp(`^dist/prod/${node}/ \\(master: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, haproxy, keepalived; \\d+ files\\)$`, 'm'));
  }
  // The .d.ts are real types: a wrong field is a compile error in the consumer.
  writeFileSync(join(app, 'bad.ts'), `import { ClusterSpec } from '${pkg.name}';\nexport const s: ClusterSpec = { name: 'x', masters: 3 };\n`);
  try {
    expect(() => run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], app)).toThrow(/bad\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'MasterSpec\[\]'/);
  } finally {
    rmSync(join(app, 'bad.ts'));
  }
}, 300_000);

test('the template\'s own main.ts (a plain cdk8s App) with HaControlPlane in its chart: synth fails with the StaticPodApp fix, no stack trace, nothing written', () => {
  const main = readFileSync(join(templateDir, 'main.ts'), 'utf8').replace(/\{\{ \$base \}\}/g, 'app')
    .replace("import { App, Chart, ChartProps } from 'cdk8s';", `import { App, Chart, ChartProps } from 'cdk8s';\nimport { HaControlPlane } from '${pkg.name}';`)
    .replace('    // define resources here\n', `    new HaControlPlane(this, 'prod', { spec: { name: 'prod', controlPlaneEndpoint: { host: 'api.example.com' }, masters: [{ name: 'm1', address: '10.0.0.11' }, { name: 'm2', address: '10.0.0.12' }, { name: 'm3', address: '10.0.0.13' }] } });\n`);
  expect(main).toContain('const app = new App();');
  expect(main).toContain('new HaControlPlane(this');
  writeFileSync(join(app, 'main.ts'), main);
  const r = synth();
  expect(r.status).not.toBe(0);
  expect(r.out).toMatch(/error: HaControlPlane "prod" is in a plain cdk8s App, whose synth would write only the Pods/);
  expect(r.out).toContain("(fix: make the app a StaticPodApp: `import { StaticPodApp } from 'cdk8s-ha-control-plane'; const app = new StaticPodApp();` in place of `new App()`");
  // No stack trace from the library: the user's own line (main.ts:9) is the only frame of the app's
  // output (the last lines are the cdk8s CLI's own report that the app failed).
  const appOutput = r.out.split('Error: command')[0];
  expect(appOutput).toMatch(/main\.ts:9\n/);
  expect(appOutput.split('\n').filter((l) => /^\s+at /.test(l))).toEqual([expect.stringMatching(/^\s+at new MyChart \(.*main\.ts:9:\d+\)$/)]);
  expect(appOutput).not.toMatch(/NotAStaticPodAppError/);
  expect(existsSync(join(app, 'dist'))).toBe(false);
}, 300_000);

test('the README\'s PKI example, exactly as printed (CommonJS, no top-level await): synth issues the PKI, reports it, keeps the state out of git', () => {
  writeFileSync(join(app, 'main.ts'), readmeBlock('## PKI', 'preparePkiForPlan('));
  writeFileSync(join(app, 'cluster.yaml'), [
    'name: pki', 'controlPlaneEndpoint: { host: api.example.com }',
    'masters:', '  - { name: m1, address: 10.0.0.11 }', '  - { name: m2, address: 10.0.0.12 }',
    'pki: { mode: generate, keyAlgorithm: ECDSA-P256 }', '',
  ].join('\n'));
  const r = synth();
  expect(r.status).toBe(0);
  expect(r.out).toMatch(/^warning: cluster\.yaml:\d+:\d+ masters: 2 is an even number of etcd members/m); // located, via the props
  expect(r.out).toMatch(/^pki: .*ha-control-plane-state\/pki\/pki: created ca, etcd\/ca, front-proxy-ca, sa; issued \d+ certificates, reused 0$/m);
  expect(r.out).toMatch(/^rbac: once the API answers, on m1: kubectl /m);
  expect(r.out).toContain('  /etc/kubernetes/pki/apiserver.key 0600');
  expect(existsSync(join(app, 'dist', 'pki', 'm2', 'etc', 'kubernetes', 'pki', 'apiserver.crt'))).toBe(true);
  expect(readFileSync(join(app, 'ha-control-plane-state', 'pki', 'pki', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
}, 300_000);

test('plain JavaScript requires the package and synthesizes; the installed bin validates a spec', () => {
  writeFileSync(join(app, 'main.js'), `const { HaControlPlane, StaticPodApp } = require('${pkg.name}');
const spec = { name: 'js', controlPlaneEndpoint: { host: '10.20.0.100', port: 8443 },
  masters: [{ name: 'cp-a', address: '10.20.0.11' }, { name: 'cp-b', address: '10.20.0.12' }, { name: 'cp-c', address: '10.20.0.13' }],
  loadBalancer: { type: 'haproxy' }, keepalived: { interface: 'eth0' } };
const app = new StaticPodApp();
new HaControlPlane(app, spec.name, { spec });
app.synth();
`);
  const r = synth(['--app', 'node main.js']);
  expect(r.status).toBe(0);
  expect([...manifests('js').keys()].sort()).toEqual(['cp-a', 'cp-b', 'cp-c']);
  for (const f of HOST_FILES) expect(existsSync(join(app, 'dist', 'js', 'cp-b', f))).toBe(true);
  writeFileSync(join(app, 'c.yaml'), 'name: c\ncontrolPlaneEndpoint: { host: 10.0.0.100, external: true }\nmasters:\n  - { name: m1, address: 10.0.0.1 }\n  - { name: m2, address: 10.0.0.2 }\n  - { name: m3, address: 10.0.0.3 }\n');
  expect(run('npx', ['--no-install', 'ha-control-plane', 'validate', '--spec', 'c.yaml'], app)).toMatch(/^valid: c\.yaml/);
  // The schema is reachable through the package's exports.
  const schema = JSON.parse(run('node', ['-e', `process.stdout.write(JSON.stringify(require('${pkg.name}/schema/cluster-spec.schema.json')))`], app));
  expect(schema.$schema ?? schema.definitions).toBeDefined();
}, 300_000);
