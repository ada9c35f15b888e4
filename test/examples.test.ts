import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HaControlPlane, PreparedPki, preparePki, readSpecFile, StaticPodApp } from '../lib';
import { schemaRef } from '../lib/cli';
import { initSpecYaml } from '../lib/plan/init-template';
import { readSpec } from '../lib/plan/load';

const root = path.resolve(__dirname, '..');
const dir = path.join(root, 'examples');
const files = fs.readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

/** Synthesizes in memory: node → file paths. */
function render(spec: ReturnType<typeof readSpecFile>['spec'], pki?: PreparedPki): Map<string, string[]> {
  const app = new StaticPodApp({ reporter: false, outdir: '/nonexistent' });
  // A fixed key for hardened examples: rendering here must not create key state on disk.
  new HaControlPlane(app, spec.name, { spec, pki, encryptionKey: Buffer.alloc(32, 3).toString('base64') });
  const nodes = app.renderBundles().get(spec.name)!;
  return new Map([...nodes].map(([node, nodeFiles]) => [node, nodeFiles.map((f) => f.path)]));
}

test('there are examples, including the four basic topologies', () => {
  expect(files).toEqual(expect.arrayContaining(['stacked-3.yaml', 'stacked-5-ipv6.yaml', 'external-etcd.yaml', 'pinned-1.33-etcd-3.5.yaml']));
});

describe.each(files)('examples/%s', (file) => {
  const full = path.join(dir, file);

  test('names the schema on its first line, and that path exists', () => {
    const first = fs.readFileSync(full, 'utf8').split('\n')[0];
    expect(first).toBe('# yaml-language-server: $schema=../schema/cluster-spec.schema.json');
    expect(fs.existsSync(path.resolve(dir, '../schema/cluster-spec.schema.json'))).toBe(true);
  });

  test('loads without errors or warnings and synthesizes a bundle for every master', async () => {
    const { spec, warnings } = readSpecFile(full, `examples/${file}`);
    expect(warnings).toEqual([]);
    // pki.mode generate: prepared in a scratch directory, in memory only (the examples directory stays clean).
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-examples-'));
    let pki: PreparedPki | undefined;
    try {
      pki = spec.pki?.mode === 'generate' ? await preparePki(spec, { baseDir: scratch, write: false }) : undefined;
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    const bundles = render(spec, pki);
    if (pki) expect(bundles.get(spec.masters[0].name)).toEqual(expect.arrayContaining(['etc/kubernetes/pki/apiserver.crt', 'etc/kubernetes/super-admin.conf']));
    for (const m of spec.masters) {
      expect(bundles.get(m.name)).toEqual(expect.arrayContaining(['etc/kubernetes/manifests/kube-apiserver.yaml']));
    }
  });
});

test('the example `init` writes is valid and synthesizes', () => {
  const text = initSpecYaml(schemaRef(root));
  expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=schema/cluster-spec.schema.json');
  const { spec, warnings } = readSpec(text, 'cluster.yaml');
  expect(warnings).toEqual([]);
  expect([...render(spec).keys()]).toEqual(['master-1', 'master-2', 'master-3']);
});

test('the schema reference is relative to where the spec is written', () => {
  expect(schemaRef(path.join(root, 'examples'))).toBe('../schema/cluster-spec.schema.json');
  expect(schemaRef('/a/b/c/d/e')).toBe(path.join(root, 'schema', 'cluster-spec.schema.json'));
});
