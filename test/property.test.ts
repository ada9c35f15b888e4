import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ClusterSpec, formatIssue, HaControlPlane, readSpec, SpecError, StaticPodApp } from '../lib';
import { SUPPORTED_MINORS } from '../lib/plan/versions';
import { CliIo, runCli } from '../lib/cli';
import { ipFamily } from '../lib/util/net';

type Json = Record<string, any>;

/** The minor `delta` away from `minor`: "1.37", 1 → "1.38". */
function minorBeside(minor: string, delta: number): string {
  const [major, m] = minor.split('.').map(Number);
  return `${major}.${m + delta}`;
}

// ---------------------------------------------------------------------------------------------------
// Valid specs: 1, 3 or 5 masters with distinct names and addresses, any supported version, v4 or v6.

const versionArb = fc.oneof(
  fc.constantFrom(...SUPPORTED_MINORS),
  fc.tuple(fc.constantFrom(...SUPPORTED_MINORS), fc.integer({ min: 0, max: 30 })).map(([m, p]) => `${m}.${p}`),
);

const validSpecArb: fc.Arbitrary<ClusterSpec> = fc.record({
  count: fc.constantFrom(1, 3, 5),
  v6: fc.boolean(),
  prefix: fc.constantFrom('master', 'cp', 'k8s-control', 'node'),
  // Node networks outside the service and pod networks (10.96.0.0/12, 10.244.0.0/16, fd00:96::/112): a node
  // address inside them is refused.
  net: fc.integer({ min: 1, max: 250 }).filter((n) => !(n >= 96 && n <= 111) && n !== 244 && n !== 0x96),
  first: fc.integer({ min: 2, max: 90 }),
  version: fc.option(versionArb, { nil: undefined }),
  dnsEndpoint: fc.boolean(),
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  external: fc.boolean(),
  podSubnet: fc.boolean(),
  name: fc.stringMatching(/^[a-z]([-a-z0-9]{0,20}[a-z0-9])?$/),
}).map((r) => {
  const addr = (host: number) => (r.v6 ? `fd00:${r.net.toString(16)}::${host.toString(16)}` : `10.${r.net}.0.${host}`);
  const spec: Json = {
    name: r.name,
    controlPlaneEndpoint: { host: r.dnsEndpoint ? `api.${r.name}.example.com` : addr(250) },
    masters: Array.from({ length: r.count }, (_, i) => ({ name: `${r.prefix}-${i + 1}`, address: addr(r.first + i) })),
  };
  if (r.version !== undefined) spec.kubernetesVersion = r.version;
  if (r.port !== undefined) spec.controlPlaneEndpoint.port = r.port;
  if (r.v6) spec.networking = { serviceSubnet: 'fd00:96::/112', ...(r.podSubnet ? { podSubnet: 'fd00:244::/56' } : {}) };
  else if (r.podSubnet) spec.networking = { podSubnet: '10.244.0.0/16' };
  if (r.external) {
    spec.etcd = {
      external: {
        endpoints: [1, 2, 3].map((i) => `https://${r.v6 ? `[${addr(200 + i)}]` : addr(200 + i)}:2379`),
        caFile: '/etc/kubernetes/pki/etcd/ca.crt',
        certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt',
        keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key',
      },
    };
  }
  return spec as ClusterSpec;
});

// ---------------------------------------------------------------------------------------------------
// Invalid specs: a valid one with one defect, or text that is not a spec at all.

/** Sets a value at a path, creating mappings on the way (own properties only). */
function setAt(obj: Json, p: readonly (string | number)[], value: unknown): void {
  let cur: Json = obj;
  for (const k of p.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') Object.defineProperty(cur, k, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[k];
  }
  Object.defineProperty(cur, p[p.length - 1], { value, enumerable: true, writable: true, configurable: true });
}

function deleteAt(obj: Json, p: readonly (string | number)[]): void {
  let cur: Json = obj;
  for (const k of p.slice(0, -1)) cur = cur[k];
  delete cur[p[p.length - 1]];
}

const clone = (s: ClusterSpec): Json => JSON.parse(JSON.stringify(s));
const scalarOrCollection = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer(), { maxKeys: 2 }));
const notString = scalarOrCollection.filter((v) => typeof v !== 'string');
const notNumber = fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}), fc.constant(1.5));
const notList = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant({ a: 1 }));
const notObject = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant([1]));

const FIELD_TYPES: [(string | number)[], fc.Arbitrary<unknown>][] = [
  [['name'], notString], [['kubernetesVersion'], notString], [['controlPlaneEndpoint'], notObject],
  [['controlPlaneEndpoint', 'host'], notString], [['controlPlaneEndpoint', 'port'], notNumber],
  [['masters'], notList], [['masters', 0], notObject], [['masters', 0, 'name'], notString],
  [['masters', 0, 'address'], notString], [['masters', 0, 'etcdState'], notString], [['networking'], notObject],
  [['networking', 'podSubnet'], notString], [['networking', 'dnsDomain'], notString], [['imageRepository'], notString],
  [['certificatesDir'], notString], [['clusterName'], notString], [['caCertificatePaths'], notList],
  [['etcd'], notObject], [['apiServer'], notObject], [['apiServer', 'bindPort'], notNumber],
  [['apiServer', 'extraArgs'], notList], [['scheduler', 'extraEnvs'], notList], [['controllerManager', 'image'], notString],
];

const KNOWN_KEYS = new Set(['name', 'kubernetesVersion', 'controlPlaneEndpoint', 'masters', 'networking', 'imageRepository', 'certificatesDir',
  'clusterName', 'caCertificatePaths', 'etcd', 'apiServer', 'controllerManager', 'scheduler', 'loadBalancer', 'keepalived', 'loadBalancers',
  'workers', 'workerProxy', 'host', 'port', 'address', 'etcdState', 'serviceSubnet', 'podSubnet', 'dnsDomain', 'local', 'external',
  'extraArgs', 'extraVolumes', 'extraEnvs', 'image', 'bindPort', 'imageTag', 'version', 'dataDir', '__proto__']);

type Defect = { kind: string; apply: (s: Json) => void };

const defectArb: fc.Arbitrary<Defect> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELD_TYPES).chain(([p, arb]) => arb.map((v): Defect => ({ kind: `wrong type at ${p.join('.')}`, apply: (s) => setAt(s, p, v) }))) },
  fc.constantFrom(['name'], ['controlPlaneEndpoint'], ['masters'], ['controlPlaneEndpoint', 'host'], ['masters', 0, 'name'], ['masters', 0, 'address'])
    .map((p): Defect => ({ kind: `missing ${p.join('.')}`, apply: (s) => deleteAt(s, p) })),
  fc.oneof(fc.constantFrom('10.0.0.300', '999.1.1.1', 'fd00::g', '', 'localhost', '10.0.0', '1.2.3.4/24', ' 10.0.0.1', 'master-1'), fc.string())
    .filter((a) => ipFamily(a) === 0)
    .map((a): Defect => ({ kind: `bad address ${JSON.stringify(a)}`, apply: (s) => { s.masters[s.masters.length - 1].address = a; } })),
  fc.constantFrom('not a host!', '', 'under_score.example.com', '-lead.example.com', 'a..b', '10.0.0.1:6443', 'API.EXAMPLE.COM ')
    .map((h): Defect => ({ kind: `bad endpoint host ${JSON.stringify(h)}`, apply: (s) => { s.controlPlaneEndpoint.host = h; } })),
  fc.constantFrom('name', 'address').map((field): Defect => ({
    kind: `duplicate master ${field}`,
    apply: (s) => {
      if (s.masters.length < 2) s.masters.push({ name: 'extra-master', address: s.masters[0].address.includes(':') ? 'fd00:ff::1' : '10.255.0.1' });
      s.masters[1][field] = s.masters[0][field];
    },
  })),
  fc.constant<Defect>({
    kind: 'mixed address families',
    apply: (s) => { s.masters.push({ name: 'other-family', address: s.masters[0].address.includes(':') ? '10.255.0.1' : 'fd00:ff::1' }); },
  }),
  fc.constant<Defect>({ kind: 'overlapping subnets', apply: (s) => { s.networking = { serviceSubnet: '10.96.0.0/12', podSubnet: '10.100.0.0/16' }; } }),
  fc.tuple(fc.constantFrom(['controlPlaneEndpoint', 'port'], ['apiServer', 'bindPort']), fc.constantFrom(0, -1, 65536, 1e6, 1.5))
    .map(([p, v]): Defect => ({ kind: `port ${v}`, apply: (s) => setAt(s, p, v) })),
  // Just outside the version table (derived, so a new minor does not make one of these valid).
  fc.constantFrom(minorBeside(SUPPORTED_MINORS[0], -1), minorBeside(SUPPORTED_MINORS[SUPPORTED_MINORS.length - 1], 1), '2.0', 'latest', '', '1.37.x', '1', '1.37.1.1')
    .map((v): Defect => ({ kind: `version ${v}`, apply: (s) => { s.kubernetesVersion = v; } })),
  fc.constantFrom('joining', 'NEW', '', 'Existing').map((v): Defect => ({ kind: `etcdState ${v}`, apply: (s) => { s.masters[0].etcdState = v; } })),
  fc.constant<Defect>({ kind: 'all existing', apply: (s) => { delete s.etcd; s.masters.forEach((m: Json) => { m.etcdState = 'existing'; }); } }),
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom([], ['masters', 0], ['controlPlaneEndpoint'], ['networking'], ['apiServer'], ['etcd', 'local']), fc.string({ minLength: 1, maxLength: 12 }), scalarOrCollection)
    .filter(([, key]) => !KNOWN_KEYS.has(key))
    .map(([p, key, v]): Defect => ({
      kind: `unknown field ${[...p, key].join('.')}`,
      apply: (s) => {
        if (p[0] === 'etcd') delete s.etcd;
        setAt(s, [...p, key], v);
      },
    })) },
);

/** The text of an invalid spec and what is wrong with it. */
const invalidTextArb: fc.Arbitrary<{ kind: string; text: string; file: string }> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(validSpecArb, defectArb, fc.boolean()).map(([spec, defect, json]) => {
    const s = clone(spec);
    defect.apply(s);
    return { kind: defect.kind, text: json ? JSON.stringify(s, null, 2) : stringify(s), file: json ? 'cluster.json' : 'cluster.yaml' };
  }) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'binary-ascii', maxLength: 200 }))
    .map((text) => ({ kind: 'garbage', text, file: 'cluster.yaml' })) },
);

// ---------------------------------------------------------------------------------------------------

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ha-cp-property-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), cwd: tmp, env: {} };
}

const LOCATED = /^\S+:\d+:\d+ \S.*: .*\(fix: .+\)$/;

test('1000 invalid specs: each a SpecError naming a located field with a fix, and nothing written', async () => {
  let run = 0;
  await fc.assert(fc.asyncProperty(invalidTextArb, async ({ kind, text, file }) => {
    run++;
    let error: unknown;
    try {
      readSpec(text, file);
    } catch (e) {
      error = e;
    }
    if (!(error instanceof SpecError)) throw new Error(`${kind}: expected a SpecError, got ${error === undefined ? 'none' : String(error)}\n${text}`);
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(issue.path).not.toBe('');
      expect(formatIssue(issue)).toMatch(LOCATED);
    }
    expect(error.message).toContain('fix:');

    // The CLI: exit 1, only error/warning lines, and no output directory.
    const specFile = path.join(tmp, `spec-${run}.${file.endsWith('.json') ? 'json' : 'yaml'}`);
    fs.writeFileSync(specFile, text);
    const io = capture();
    const out = path.join(tmp, `out-${run}`);
    expect(await runCli(['synth', '--spec', specFile, '--out', out], io)).toBe(1);
    expect(io.out).toEqual([]);
    for (const line of io.err.join('').trimEnd().split('\n')) expect(line).toMatch(/^(error|warning): /);
    expect(fs.existsSync(out)).toBe(false);
    fs.rmSync(specFile);
  }), { numRuns: 1000 });
  expect(run).toBeGreaterThanOrEqual(1000);
});

test('text edits of a valid spec: either still valid, or a SpecError, never anything else', () => {
  const editArb = fc.tuple(validSpecArb, fc.nat(), fc.nat(8), fc.string({ maxLength: 3 }))
    .map(([spec, at, cut, insert]) => {
      const text = stringify(spec);
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(Math.min(text.length, i + cut));
    });
  fc.assert(fc.property(editArb, (text) => {
    try {
      readSpec(text, 'cluster.yaml');
    } catch (e) {
      if (!(e instanceof SpecError)) throw new Error(`expected a SpecError, got ${String(e)}\n${text}`);
      for (const issue of e.issues) expect(formatIssue(issue)).toMatch(LOCATED);
    }
  }), { numRuns: 500 });
});

test('valid specs always load and synthesize in memory', () => {
  fc.assert(fc.property(validSpecArb, fc.boolean(), (spec, json) => {
    const text = json ? JSON.stringify(spec) : stringify(spec);
    const loaded = readSpec(text, json ? 'cluster.json' : 'cluster.yaml');
    expect(loaded.spec).toEqual(spec);
    const app = new StaticPodApp({ reporter: false, outdir: path.join(tmp, 'never-written') });
    new HaControlPlane(app, spec.name, { spec: loaded.spec });
    const nodes = app.renderBundles().get(spec.name)!;
    expect([...nodes.keys()]).toEqual(spec.masters.map((m) => m.name));
    for (const files of nodes.values()) {
      expect(files.filter((f) => f.path.startsWith('etc/kubernetes/manifests/')).length).toBe(spec.etcd?.external ? 3 : 4);
    }
  }), { numRuns: 100 });
  expect(fs.existsSync(path.join(tmp, 'never-written'))).toBe(false);
});
