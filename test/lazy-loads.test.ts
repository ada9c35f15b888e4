/**
 * Modules that only some runs need are loaded only by those (issue #17, speed): ajv explains an invalid
 * spec (a valid one is told by the validator precompiled from the schema), tar makes the tarballs,
 * cdk8s-plus-27 (a 2.5 MB module of generated code) converts typed init containers (lvs-dr's VIP pod);
 * of our own, the PKI code, the tarballs, the Ansible content and the spec template.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const loads: string[] = [];
jest.mock('ajv', () => { loads.push('ajv'); return jest.requireActual('ajv'); });
jest.mock('ajv-formats', () => { loads.push('ajv-formats'); return jest.requireActual('ajv-formats'); });
jest.mock('tar', () => { loads.push('tar'); return jest.requireActual('tar'); });
jest.mock('cdk8s-plus-27', () => { loads.push('cdk8s-plus-27'); return jest.requireActual('cdk8s-plus-27'); });
// Our own yaml: not when cdk8s's copy (loaded with cdk8s) is the same version (lib/util/yaml.ts).
jest.mock('yaml', () => { loads.push('yaml'); return jest.requireActual('yaml'); });
const sameYaml = jest.requireActual<{ version: string }>('yaml/package.json').version
  === jest.requireActual<{ version: string }>(require.resolve('yaml/package.json', { paths: [require.resolve('cdk8s')] })).version;
// Our own modules that only some runs need: the PKI (pki.mode generate), the tarballs and the Ansible
// content they ship with (--bundle), the spec template (`init`).
for (const m of ['../lib/pki/prepare', '../lib/bundle/tarball', '../lib/ansible/files', '../lib/plan/init-template']) {
  jest.mock(m, () => { loads.push(m.split('/').slice(2).join('/')); return jest.requireActual(m); });
}

test('the app `cdk8s synth` runs (main.ts) loads none of them for the example; --bundle loads the tarballs\' and the Ansible content\'s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hacp-lazy-loads-'));
  const saved = process.env.CDK8S_OUTDIR;
  process.env.CDK8S_OUTDIR = dir;
  const io = { stdout: () => undefined, stderr: () => undefined, cwd: dir, env: {} };
  try {
    await jest.isolateModulesAsync(async () => {
      const { runApp } = await import('../lib/cli');
      expect(await runApp([], io)).toBe(0);
      expect(loads).toEqual(sameYaml ? [] : ['yaml']);
      loads.length = 0;
      expect(await runApp(['--bundle'], io)).toBe(0);
      expect(loads.sort()).toEqual(['ansible/files', 'bundle/tarball', 'tar']);
    });
  } finally {
    if (saved === undefined) delete process.env.CDK8S_OUTDIR; else process.env.CDK8S_OUTDIR = saved;
    rmSync(dir, { recursive: true, force: true });
    loads.length = 0;
  }
});

/** What the library loaded, without our yaml (test/util.ts parses with it). */
const libraryLoads = () => loads.filter((m) => m !== 'yaml').sort();

test('a synth of a valid spec loads neither ajv, tar nor cdk8s-plus-27; an invalid spec loads ajv, a synth with tarballs tar, an lvs-dr synth cdk8s-plus-27', async () => {
  const { haSpec, render } = await import('./util');
  const { HaControlPlane, StaticPodApp } = await import('../lib');
  const { validateSpec } = await import('../lib/plan/validate');
  expect(render(haSpec()).size).toBe(3);
  expect(render(haSpec({ security: { profile: 'hardened' } })).size).toBe(3);
  expect(libraryLoads()).toEqual(['pki/prepare']); // the library's index exports preparePki
  loads.length = 0;

  expect(validateSpec({ ...haSpec(), mastrs: [] }).errors.map((e) => e.path)).toEqual(['mastrs']);
  expect(libraryLoads()).toEqual(['ajv', 'ajv-formats']);

  const dir = mkdtempSync(join(tmpdir(), 'hacp-lazy-loads-'));
  try {
    const app = new StaticPodApp({ reporter: false, outdir: dir, tarballs: true });
    new HaControlPlane(app, 'example', { spec: haSpec() });
    app.synth();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(libraryLoads()).toEqual(['ajv', 'ajv-formats', 'ansible/files', 'bundle/tarball', 'tar']);

  const hosts = [{ name: 'lb-1', address: '192.168.10.5' }, { name: 'lb-2', address: '192.168.10.6' }];
  const vip = render(haSpec({ loadBalancers: hosts, loadBalancer: { type: 'lvs-dr' }, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } })).get('master-1')!.get('etc/kubernetes/manifests/lvs-dr-vip.yaml')!.content;
  expect(vip).toMatch(/  initContainers:\n  - command:\n    - sh\n/);
  expect(libraryLoads()).toEqual(['ajv', 'ajv-formats', 'ansible/files', 'bundle/tarball', 'cdk8s-plus-27', 'tar']);
});
