/**
 * The spec is validated and planned once per synth: readSpec plans it, and the PKI step and the
 * HaControlPlane construct take that plan (a generate-mode CLI synth validated it four times before).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { HaControlPlane, planCluster, preparePki, preparePkiForPlan, readSpecFile, StaticPodApp } from '../lib';
import { CliIo, runCli } from '../lib/cli';
import * as validate from '../lib/plan/validate';

const EXAMPLE = join(__dirname, '..', 'examples', 'generated-pki.yaml');

let tmp = '';
let validateSpy: jest.SpyInstance;
let semanticSpy: jest.SpyInstance;
/** Validations run: validateSpec (schema + semantic rules), or the semantic rules after readSpec's own schema check. */
const spy = { calls: () => validateSpy.mock.calls.length + semanticSpy.mock.calls.length, mockClear: () => { validateSpy.mockClear(); semanticSpy.mockClear(); } };
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hacp-plan-once-'));
  validateSpy = jest.spyOn(validate, 'validateSpec');
  semanticSpy = jest.spyOn(validate, 'checkSemantics');
});
afterEach(() => {
  validateSpy.mockRestore();
  semanticSpy.mockRestore();
  rmSync(tmp, { recursive: true, force: true });
});

test('a generate-mode CLI synth runs validateSpec once', async () => {
  copyFileSync(EXAMPLE, join(tmp, 'cluster.yaml'));
  const io: CliIo & { err: string } = { err: '', cwd: tmp, env: {}, stdout: () => {}, stderr: (t) => { io.err += t; } };
  expect(await runCli(['synth', '--spec', 'cluster.yaml', '--out', 'dist'], io)).toBe(0);
  expect(io.err).toContain('now holds private keys'); // the PKI was prepared and shipped
  expect(spy.calls()).toBe(1);
});

test('the library path: readSpecFile\'s plan goes to preparePkiForPlan and HaControlPlane without a second validation', async () => {
  const loaded = readSpecFile(EXAMPLE);
  expect(spy.calls()).toBe(1);
  const pki = await preparePkiForPlan(loaded.plan, { baseDir: tmp, write: false });
  const app = new StaticPodApp({ reporter: false, outdir: join(tmp, 'dist') });
  const cp = new HaControlPlane(app, loaded.plan.name, { plan: loaded.plan, pki });
  expect(cp.plan).toBe(loaded.plan);
  expect(app.renderBundles().get(loaded.plan.name)!.size).toBe(3);
  expect(spy.calls()).toBe(1);
});

test('the spec-taking entry points still plan the spec themselves, and agree with the plan-taking ones', async () => {
  const { spec, plan } = readSpecFile(EXAMPLE);
  spy.mockClear();
  const fromSpec = await preparePki(spec, { baseDir: tmp, write: false });
  expect(spy.calls()).toBe(1);
  expect(fromSpec.cluster).toBe(plan.name);
  expect(planCluster(spec)).toEqual(plan);
  const app = new StaticPodApp({ reporter: false, outdir: join(tmp, 'dist') });
  expect(new HaControlPlane(app, 'a', { spec, pki: fromSpec }).plan).toEqual(plan);
});

test('HaControlPlane takes a spec or a plan: neither or both is an error that says so', () => {
  const { spec, plan } = readSpecFile(EXAMPLE);
  expect(() => new HaControlPlane(new StaticPodApp({ reporter: false }), 'x', {})).toThrow(/needs a spec or a plan \(fix: /);
  expect(() => new HaControlPlane(new StaticPodApp({ reporter: false }), 'x', { spec, plan })).toThrow(/a spec or its plan, not both \(fix: /);
});
