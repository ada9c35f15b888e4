/** The CLI with pki.mode generate: state beside the spec file, reuse on the next synth, warnings, errors. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CliIo, runCli } from '../lib/cli';

let tmp = '';
beforeEach(() => { tmp = mkdtempSync(join(tmpdir(), 'hacp-pki-cli-')); });
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const SPEC = `name: prod
controlPlaneEndpoint: { host: 10.0.0.100, port: 6443 }
masters:
  - { name: master-1, address: 10.0.0.11 }
  - { name: master-2, address: 10.0.0.12 }
  - { name: master-3, address: 10.0.0.13 }
pki:
  mode: generate
  keyAlgorithm: ECDSA-P256
`;

function io(cwd = tmp): CliIo & { out: string; err: string } {
  const x = { out: '', err: '', cwd, env: {}, stdout: (t: string) => { x.out += t; }, stderr: (t: string) => { x.err += t; } };
  return x;
}

function specFile(text = SPEC): string {
  const dir = join(tmp, 'cluster');
  require('fs').mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cluster.yaml'), text);
  return join(dir, 'cluster.yaml');
}

test('synth creates the state beside the spec file, ships the certificates, warns about secrets; a second synth reuses everything', async () => {
  const file = specFile();
  const a = io();
  expect(await runCli(['synth', '--spec', file, '--out', 'dist'], a)).toBe(0);
  const state = join(tmp, 'cluster', 'ha-control-plane-state', 'prod', 'pki');
  expect(a.out).toContain(`pki: ${state}: created ca, etcd/ca, front-proxy-ca, sa; issued 34 certificates, reused 0\n`);
  expect(a.out).toContain('rbac: once the API answers, on master-1: kubectl --kubeconfig /etc/kubernetes/super-admin.conf apply -f /etc/kubernetes/ha-control-plane-rbac.yaml\n');
  expect(a.err).toMatch(/^warning: dist\/prod\/ now holds private keys and kubeconfigs: keep it out of version control/m);
  expect(existsSync(join(tmp, 'dist', 'prod', 'master-2', 'etc', 'kubernetes', 'pki', 'apiserver.key'))).toBe(true);
  const ca = readFileSync(join(state, 'ca.crt'), 'utf8');
  expect(readFileSync(join(tmp, 'dist', 'prod', 'master-2', 'etc', 'kubernetes', 'pki', 'ca.crt'), 'utf8')).toBe(ca);
  // Nothing secret on the terminal.
  expect(`${a.out}${a.err}`).not.toMatch(/BEGIN|PRIVATE/);

  const b = io();
  expect(await runCli(['synth', '--spec', file, '--out', 'dist'], b)).toBe(0);
  expect(b.out).toContain(`pki: ${state}: no new CA; loaded ca, etcd/ca, front-proxy-ca, sa; issued 0 certificates, reused 34\n`);
  expect(readFileSync(join(state, 'ca.crt'), 'utf8')).toBe(ca);

  const c = io();
  expect(await runCli(['synth', '--spec', file.replace('cluster.yaml', 'moved.yaml'), '--out', 'dist'], c)).toBe(1);
  writeFileSync(file.replace('cluster.yaml', 'moved.yaml'), SPEC.replace('host: 10.0.0.100', 'host: 10.0.0.200'));
  const d = io();
  expect(await runCli(['synth', '--spec', file.replace('cluster.yaml', 'moved.yaml'), '--out', 'dist'], d)).toBe(0);
  expect(d.out).toContain('issued 3 certificates, reused 31');
  expect(d.out).toContain('  reissued master-1 apiserver: SANs changed (+10.0.0.200 -10.0.0.100)\n');
  expect(d.out).toContain('  restart on master-3: kube-apiserver\n');
});

test('validate reports what synth would create and writes nothing', async () => {
  const file = specFile();
  const a = io();
  expect(await runCli(['validate', '--spec', file], a)).toBe(0);
  expect(a.out).toMatch(/pki: .*: would create ca, etcd\/ca, front-proxy-ca, sa; would issue 34 certificates, reused 0/);
  expect(existsSync(join(tmp, 'cluster', 'ha-control-plane-state'))).toBe(false);
});

test('--pki-dir (relative to the working directory) overrides pki.dir; inside --out it is an error and nothing is written', async () => {
  const file = specFile();
  const a = io();
  expect(await runCli(['synth', '--spec', file, '--out', 'dist', '--pki-dir', 'secrets/pki'], a)).toBe(0);
  expect(existsSync(join(tmp, 'secrets', 'pki', 'ca.key'))).toBe(true);
  const b = io();
  expect(await runCli(['synth', '--spec', file, '--out', 'out2', '--pki-dir', 'out2/pki'], b)).toBe(1);
  expect(b.err).toMatch(/^error: pki\.dir: ".*out2\/pki" is inside the output directory .* \(fix: keep the PKI state outside it/m);
  expect(existsSync(join(tmp, 'out2'))).toBe(false);
});

test('--pki-dir with pki.mode kubeadm is a usage error; an invalid pki setting is a located spec error', async () => {
  const file = specFile(SPEC.replace('mode: generate', 'mode: kubeadm'));
  const a = io();
  expect(await runCli(['synth', '--spec', file, '--pki-dir', 'x'], a)).toBe(2);
  expect(a.err).toContain('error: --pki-dir needs pki.mode: generate in the spec');
  const b = io();
  expect(await runCli(['synth', '--spec', specFile(SPEC.replace('ECDSA-P256', 'DSA-1024')), '--out', 'dist'], b)).toBe(1);
  expect(b.err).toMatch(/^error: \S*cluster\.yaml:9:17 pki\.keyAlgorithm: "DSA-1024" /m);
  expect(existsSync(join(tmp, 'dist'))).toBe(false);
});
