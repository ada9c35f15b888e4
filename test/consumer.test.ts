/**
 * The library as a user meets it: `npm pack` of a copy of this repository (so `prepack` really cleans
 * and builds), then fresh cdk8s apps — one TypeScript, one plain JavaScript — written here, which
 * install the tarball from the npm cache, import the constructs and run the real `cdk8s synth`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string; version: string; peerDependencies: Record<string, string>; devDependencies: Record<string, string>;
};
const cdk8sCli = join(root, 'node_modules', '.bin', 'cdk8s');
const work = mkdtempSync(join(tmpdir(), 'ha-cp-consumer-'));
let tarball = '';

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, {
      cwd, encoding: 'utf8', stdio: 'pipe', timeout: 180_000,
      env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false', npm_config_update_notifier: 'false', ...env },
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** The exact versions this repository tests with: a consumer gets the same (they are the peer minimums). */
const peerInstall = () => Object.keys(pkg.peerDependencies).map((n) => `${n}@${pkg.devDependencies[n]}`);

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
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the build with types, schema, bin, docs and license — no sources, tests or output', () => {
  const list = run('tar', ['-tzf', tarball], work).split('\n').filter(Boolean).map((p) => p.replace(/^package\//, ''));
  for (const f of ['build/lib/index.js', 'build/lib/index.d.ts', 'build/lib/cli.js', 'build/schema/cluster-spec.schema.json', 'schema/cluster-spec.schema.json',
    'bin/ha-control-plane.js', 'README.md', 'CHANGELOG.md', 'LICENSE', 'package.json']) {
    expect(list).toContain(f);
  }
  const unexpected = list.filter((f) => /^(test|dist|bench|scripts|node_modules|\.cache)\//.test(f)
    || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || /\.(key|pem)$/.test(f) || f.startsWith('build/test'));
  expect(unexpected).toEqual([]);
});

function newApp(name: string, files: Record<string, string>, devDeps: readonly string[]): string {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save', tarball, ...peerInstall()], dir);
  if (devDeps.length) run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--save-dev', ...devDeps], dir);
  return dir;
}

/** Every node's manifests under dist/<cluster>/, parsed. */
function manifests(dir: string, cluster: string): Map<string, Record<string, any>[]> {
  const out = new Map<string, Record<string, any>[]>();
  const base = join(dir, 'dist', cluster);
  for (const node of readdirSync(base)) {
    const mdir = join(base, node, 'etc', 'kubernetes', 'manifests');
    if (!existsSync(mdir)) continue;
    out.set(node, readdirSync(mdir).map((f) => parse(readFileSync(join(mdir, f), 'utf8'))));
    expect(statSync(mdir).mode & 0o777).toBe(0o700);
  }
  return out;
}

const SPEC = `{
    name: 'consumer',
    kubernetesVersion: '1.36.2',
    controlPlaneEndpoint: { host: '10.20.0.100', port: 8443 },
    masters: [
      { name: 'cp-a', address: '10.20.0.11' },
      { name: 'cp-b', address: '10.20.0.12' },
      { name: 'cp-c', address: '10.20.0.13' },
    ],
    loadBalancer: { type: 'haproxy' },
    keepalived: { interface: 'eth0' },
  }`;

function assertBundle(dir: string): void {
  const nodes = manifests(dir, 'consumer');
  expect([...nodes.keys()].sort()).toEqual(['cp-a', 'cp-b', 'cp-c']);
  for (const [node, pods] of nodes) {
    const names = pods.map((p) => p.metadata.name).sort();
    expect(names).toEqual(['etcd', 'haproxy', 'keepalived', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    for (const p of pods) expect(p.metadata.annotations['ha-control-plane.io/version']).toBe(pkg.version);
    const api = pods.find((p) => p.metadata.name === 'kube-apiserver')!;
    const address = { 'cp-a': '10.20.0.11', 'cp-b': '10.20.0.12', 'cp-c': '10.20.0.13' }[node];
    expect(api.spec.containers[0].command).toContain(`--advertise-address=${address}`);
    expect(api.spec.containers[0].image).toBe('registry.k8s.io/kube-apiserver:v1.36.2');
    expect(existsSync(join(dir, 'dist', 'consumer', node, 'etc', 'haproxy', 'haproxy.cfg'))).toBe(true);
  }
}

test('a fresh TypeScript cdk8s app installs the tarball, type-checks against its .d.ts and synthesizes 3 masters', () => {
  const dir = newApp('ts-app', {
    'package.json': JSON.stringify({ name: 'ts-app', version: '0.0.0', private: true }),
    'tsconfig.json': JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, outDir: 'build', types: ['node'], skipLibCheck: false },
      include: ['main.ts'],
    }),
    'cdk8s.yaml': 'language: typescript\napp: npx tsc -p tsconfig.json && node build/main.js\noutput: dist\n',
    'main.ts': `import { writeFileSync } from 'node:fs';
import { ClusterSpec, HaControlPlane, StaticPodApp, LIBRARY_VERSION } from '${pkg.name}';
const spec: ClusterSpec = ${SPEC};
const app = new StaticPodApp({ reporter: false });
const cp = new HaControlPlane(app, spec.name, { spec });
app.synth();
writeFileSync('consumer-info.json', JSON.stringify({ version: LIBRARY_VERSION, masters: cp.plan.masters.length }));
`,
  }, [`typescript@${pkg.devDependencies.typescript}`, `@types/node@${pkg.devDependencies['@types/node']}`]);
  run(cdk8sCli, ['synth'], dir);
  expect(JSON.parse(readFileSync(join(dir, 'consumer-info.json'), 'utf8'))).toEqual({ version: pkg.version, masters: 3 });
  assertBundle(dir);
  // The .d.ts are real types: a wrong field is a compile error in the consumer.
  writeFileSync(join(dir, 'bad.ts'), `import { ClusterSpec } from '${pkg.name}';\nexport const s: ClusterSpec = { name: 'x', masters: 3 };\n`);
  expect(() => run('npx', ['tsc', '--noEmit', '--strict', '--types', 'node', 'bad.ts'], dir)).toThrow(/bad\.ts\(2,\d+\): error TS2322: Type 'number' is not assignable to type 'MasterSpec\[\]'/);
}, 300_000);

test('a plain JavaScript cdk8s app requires the package and synthesizes; the installed bin validates a spec', () => {
  const dir = newApp('js-app', {
    'package.json': JSON.stringify({ name: 'js-app', version: '0.0.0', private: true }),
    'cdk8s.yaml': 'language: javascript\napp: node main.js\noutput: dist\n',
    'main.js': `const { HaControlPlane, StaticPodApp } = require('${pkg.name}');
const spec = ${SPEC};
const app = new StaticPodApp({ reporter: false });
new HaControlPlane(app, spec.name, { spec });
app.synth();
`,
    'cluster.yaml': 'name: c\ncontrolPlaneEndpoint: { host: 10.0.0.100 }\nmasters:\n  - { name: m1, address: 10.0.0.1 }\n  - { name: m2, address: 10.0.0.2 }\n  - { name: m3, address: 10.0.0.3 }\n',
  }, []);
  run(cdk8sCli, ['synth'], dir);
  assertBundle(dir);
  expect(run('npx', ['--no-install', 'ha-control-plane', 'validate', '--spec', 'cluster.yaml'], dir)).toMatch(/valid/i);
  // The schema is reachable through the package's exports.
  const schema = JSON.parse(run('node', ['-e', `process.stdout.write(JSON.stringify(require('${pkg.name}/schema/cluster-spec.schema.json')))`], dir));
  expect(schema.$schema ?? schema.definitions).toBeDefined();
}, 300_000);
