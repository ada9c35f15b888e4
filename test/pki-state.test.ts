/**
 * The PKI is state: CAs are created once and reused byte for byte; leaves are reused while their inputs
 * hold and reissued (with the reason and the pods to restart) when they change or near expiry; a CA
 * brought from elsewhere is used as is; an unusable state directory is an error naming pki.dir, never a
 * new CA, and never a message with key material in it.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { ClusterSpec, PreparedPki, preparePki, SpecError } from '../lib';
import { nodeFile, openssl } from './harness/pki';
import { haSpec } from './util';

const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;
let root = '';
let n = 0;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'hacp-pki-state-')); });
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fresh = () => join(root, `s${n++}`);
const gen = (over: Partial<ClusterSpec> = {}, pki: object = {}): ClusterSpec => haSpec({ ...over, pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256', ...pki } });
const prep = (s: ClusterSpec, dir: string, now = NOW, more: object = {}) => preparePki(s, { dir, now, ...more });

/** Every file under dir: relative path → content (to show a directory unchanged). */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p); else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

const issued = (p: PreparedPki) => p.report.issued.map((i) => `${i.node} ${i.id}`);

/** Expects a SpecError on pki.dir whose message contains `problem` and no PEM body. */
async function expectStateError(run: Promise<unknown>, problem: RegExp): Promise<SpecError> {
  const e = await run.then(() => undefined, (x) => x);
  expect(e).toBeInstanceOf(SpecError);
  const err = e as SpecError;
  expect(err.issues.map((i) => i.path)).toEqual(['pki.dir']);
  expect(err.message).toMatch(problem);
  expect(err.message).toMatch(/\(fix: .+\)/);
  expect(err.message).not.toMatch(/BEGIN|[A-Za-z0-9+/]{40}/);
  return err;
}

/**
 * A CA made by openssl as kubeadm (Go) makes one: PKCS#1 RSA key, CN as a PrintableString (Go's choice for
 * printable text; OpenSSL's default would be UTF8String).
 */
function opensslCa(dir: string, name: string, cn: string, days = 30): void {
  mkdirSync(dir, { recursive: true });
  const cnf = join(dir, `${name}.cnf`);
  writeFileSync(cnf, ['[req]', 'distinguished_name = dn', 'prompt = no', 'string_mask = default', '[dn]', `CN = ${cn}`, ''].join('\n'));
  execFileSync('openssl', ['genrsa', '-traditional', '-out', join(dir, `${name}.key`), '2048'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-new', '-config', cnf, '-key', join(dir, `${name}.key`), '-days', String(days),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign', '-out', join(dir, `${name}.crt`)], { stdio: 'ignore' });
  rmSync(cnf);
}

/** The ASN.1 string type and value of the first commonName in a certificate (the issuer's). */
const issuerCn = (pem: string) => /:commonName\n.*prim: (\w+)\s+:(.*)/.exec(openssl(['asn1parse'], pem))?.slice(1, 3);

describe('reuse', () => {
  test('a second synth with the same directory keeps the CA bytes and every certificate', async () => {
    const dir = fresh();
    const first = await prep(gen(), dir);
    expect(first.report.created).toEqual(['ca', 'etcd/ca', 'front-proxy-ca', 'sa']);
    expect(first.report.issued.every((i) => i.reason === 'new')).toBe(true);
    const before = tree(dir);
    const second = await prep(gen(), dir, new Date(NOW.getTime() + 10 * DAY));
    expect(second.report).toMatchObject({ created: [], loaded: ['ca', 'etcd/ca', 'front-proxy-ca', 'sa'], issued: [], pending: [] });
    expect(second.report.reused).toBe(first.report.issued.length);
    expect(tree(dir)).toEqual(before);
    expect(second.files).toEqual(first.files);
  });

  test('a changed VIP reissues the API server certificates only, and says kube-apiserver must restart', async () => {
    const dir = fresh();
    const first = await prep(gen(), dir);
    const before = tree(dir);
    const moved = gen({ controlPlaneEndpoint: { host: '192.168.10.200', port: 8443 } });
    const second = await prep(moved, dir);
    expect(issued(second)).toEqual(['master-1 apiserver', 'master-2 apiserver', 'master-3 apiserver']);
    expect(second.report.issued.map((i) => i.reason)).toEqual(Array(3).fill('SANs changed (+192.168.10.200 -192.168.10.100)'));
    expect([...second.report.restarts]).toEqual([['master-1', ['kube-apiserver']], ['master-2', ['kube-apiserver']], ['master-3', ['kube-apiserver']]]);
    expect(second.report.created).toEqual([]);
    const after = tree(dir);
    for (const f of ['ca.crt', 'ca.key', 'etcd/ca.crt', 'etcd/ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']) expect({ f, same: after[f] === before[f] }).toEqual({ f, same: true });
    expect(Object.keys(after).filter((f) => after[f] !== before[f]).sort()).toEqual(['master-1', 'master-2', 'master-3'].flatMap((m) => [`nodes/${m}/apiserver.crt`, `nodes/${m}/apiserver.key`]));
    expect(nodeFile(second, 'master-1', '/etc/kubernetes/pki/etcd/server.crt')).toBe(nodeFile(first, 'master-1', '/etc/kubernetes/pki/etcd/server.crt'));
    expect(nodeFile(second, 'master-1', '/etc/kubernetes/pki/apiserver.crt')).not.toBe(nodeFile(first, 'master-1', '/etc/kubernetes/pki/apiserver.crt'));
    // admin.conf now names the new endpoint, with the same client certificate.
    expect(nodeFile(second, 'master-1', '/etc/kubernetes/admin.conf')).toContain('server: https://192.168.10.200:8443');
    const cert = (p: PreparedPki) => /client-certificate-data: (\S+)/.exec(nodeFile(p, 'master-1', '/etc/kubernetes/admin.conf'))![1];
    expect(cert(second)).toBe(cert(first));
  });

  test('a changed master address reissues its etcd certificates and every API server certificate (they list all masters)', async () => {
    const dir = fresh();
    const s = gen();
    await prep(s, dir);
    const moved = gen({ masters: s.masters.map((m) => (m.name === 'master-3' ? { ...m, address: '192.168.10.33' } : m)) });
    const second = await prep(moved, dir);
    expect(issued(second)).toEqual(['master-1 apiserver', 'master-2 apiserver', 'master-3 apiserver', 'master-3 etcd/peer', 'master-3 etcd/server']);
    expect(second.report.restarts.get('master-3')).toEqual(['etcd', 'kube-apiserver']);
  });

  test('near expiry (within renewBeforeDays) every leaf is reissued; the CAs are kept', async () => {
    const dir = fresh();
    const first = await prep(gen(), dir);
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const later = await prep(gen(), dir, new Date(NOW.getTime() + 340 * DAY));
    expect(later.report.issued).toHaveLength(first.report.issued.length);
    expect(later.report.issued[0].reason).toBe('expires 2027-06-01 (within 30 days)');
    expect(later.report.created).toEqual([]);
    expect(readFileSync(join(dir, 'ca.crt'), 'utf8')).toBe(ca);
  });

  test('a changed key algorithm reissues the leaves with the new algorithm and keeps the CAs', async () => {
    const dir = fresh();
    await prep(gen(), dir);
    const before = tree(dir);
    const second = await prep(gen({}, { keyAlgorithm: 'ECDSA-P384' }), dir);
    expect(second.report.issued.every((i) => i.reason === 'key algorithm changed (ECDSA-P256 → ECDSA-P384)')).toBe(true);
    expect(tree(dir)['ca.crt']).toBe(before['ca.crt']);
    expect(openssl(['x509', '-noout', '-text'], nodeFile(second, 'master-1', '/etc/kubernetes/pki/apiserver.crt'))).toContain('NIST CURVE: P-384');
  });

  test('a CA replaced on purpose reissues what it signed and nothing else', async () => {
    const dir = fresh();
    await prep(gen(), dir);
    opensslCa(dir, 'front-proxy-ca', 'front-proxy-ca');
    const second = await prep(gen(), dir);
    expect(issued(second)).toEqual(['master-1 front-proxy-client', 'master-2 front-proxy-client', 'master-3 front-proxy-client']);
    expect(second.report.issued[0].reason).toBe('not issued by the current front-proxy-ca');
  });

  test('removing a master from the spec leaves the others untouched', async () => {
    const dir = fresh();
    await prep(gen(), dir);
    const s = gen();
    const second = await prep(gen({ masters: s.masters.slice(0, 2) }), dir);
    // Only the SAN lists that named master-3 change.
    expect(issued(second)).toEqual(['master-1 apiserver', 'master-2 apiserver']);
  });
});

describe('state directory', () => {
  test('created 0700 with keys 0600; write:false writes nothing; commit() writes it later', async () => {
    const dir = fresh();
    const dry = await prep(gen(), dir, NOW, { write: false });
    expect(existsSync(dir)).toBe(false);
    expect(dry.report.pending).toEqual(expect.arrayContaining(['ca.crt', 'ca.key', 'sa.key', 'nodes/master-1/apiserver.key']));
    dry.commit();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'nodes', 'master-1')).mode & 0o777).toBe(0o700);
    for (const f of Object.keys(tree(dir))) {
      expect({ f, mode: (statSync(join(dir, f)).mode & 0o777).toString(8) }).toEqual({ f, mode: f.endsWith('.crt') ? '644' : '600' });
    }
    const again = await prep(gen(), dir);
    expect(again.report.issued).toEqual([]);
  });

  test('bring your own CA: an existing cluster\'s ca.crt + PKCS#1 ca.key are used as is; missing CAs are created and reported', async () => {
    const dir = fresh();
    opensslCa(dir, 'ca', 'kubernetes', 3650);
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    const p = await prep(gen(), dir);
    expect(p.report.loaded).toEqual(['ca']);
    expect(p.report.created).toEqual(['etcd/ca', 'front-proxy-ca', 'sa']);
    expect(nodeFile(p, 'master-2', '/etc/kubernetes/pki/ca.crt')).toBe(ca);
    expect(nodeFile(p, 'master-2', '/etc/kubernetes/pki/ca.key')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const crt = join(root, `byo-${n}.crt`);
    writeFileSync(crt, nodeFile(p, 'master-2', '/etc/kubernetes/pki/apiserver.crt'));
    expect(openssl(['verify', '-CAfile', join(dir, 'ca.crt'), crt]).trim()).toBe(`${crt}: OK`);
    // Go chains by comparing the issuer's bytes with the CA's subject: the encoding is kept.
    expect(issuerCn(ca)).toEqual(['PRINTABLESTRING', 'kubernetes']);
    expect(issuerCn(nodeFile(p, 'master-2', '/etc/kubernetes/pki/apiserver.crt'))).toEqual(['PRINTABLESTRING', 'kubernetes']);
  });

  test('fails, naming pki.dir, for a CA certificate without its key, and writes nothing', async () => {
    const dir = fresh();
    opensslCa(dir, 'ca', 'kubernetes');
    rmSync(join(dir, 'ca.key'));
    const before = tree(dir);
    await expectStateError(prep(gen(), dir), /has ca\.crt but no ca\.key/);
    expect(tree(dir)).toEqual(before);
  });

  test('fails for a CA key that is not the certificate\'s', async () => {
    const dir = fresh();
    opensslCa(dir, 'ca', 'kubernetes');
    opensslCa(join(dir, 'other'), 'ca', 'kubernetes');
    writeFileSync(join(dir, 'ca.key'), readFileSync(join(dir, 'other', 'ca.key')));
    await expectStateError(prep(gen(), dir), /ca\.key is not the key of ca\.crt/);
  });

  test('fails for an expired CA instead of making a new one', async () => {
    const dir = fresh();
    opensslCa(dir, 'ca', 'kubernetes', 1);
    await expectStateError(prep(gen(), dir, new Date(Date.now() + 3 * DAY)), /ca\.crt expired on/);
    expect(existsSync(join(dir, 'front-proxy-ca.crt'))).toBe(false);
  });

  test('fails for a damaged key without printing any of it', async () => {
    const dir = fresh();
    await prep(gen(), dir);
    const key = readFileSync(join(dir, 'etcd', 'ca.key'), 'utf8');
    writeFileSync(join(dir, 'etcd', 'ca.key'), key.replace(/[A-Za-z]{20}/, 'AAAAAAAAAAAAAAAAAAAA').slice(0, -40));
    const err = await expectStateError(prep(gen(), dir), /etcd\/ca\.key is not a PEM private key/);
    for (const line of key.split('\n').filter((l) => l.length > 20)) expect(err.message).not.toContain(line);
  });

  test('fails for sa.pub without sa.key, and for a state directory inside the output directory', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, 'sa.pub'), 'x');
    await expectStateError(prep(gen(), dir), /has sa\.pub but no sa\.key/);
    const out = join(root, `out-${n++}`);
    await expectStateError(preparePki(gen(), { dir: join(out, 'pki'), outdir: out }), /is inside the output directory/);
    await expectStateError(preparePki(gen(), { dir: out, outdir: out }), /is inside the output directory/);
    expect(existsSync(out)).toBe(false);
  });

  test('the default directory is ha-control-plane-state/<name>/pki under baseDir', async () => {
    const base = fresh();
    const p = await preparePki(gen(), { baseDir: base, now: NOW });
    expect(p.dir).toBe(join(base, 'ha-control-plane-state', 'example', 'pki'));
    expect(existsSync(join(p.dir, 'ca.key'))).toBe(true);
  });

  test('a state directory others can read is reported', async () => {
    const dir = fresh();
    const p = await prep(gen(), dir);
    expect(p.report.warnings).toEqual([]);
    require('fs').chmodSync(dir, 0o755);
    const again = await prep(gen(), dir);
    expect(again.report.warnings).toEqual([{ path: 'pki.dir', value: dir, problem: 'has mode 0755: other users of this machine can reach the CA keys', fix: `chmod 700 ${dir}` }]);
  });

  test('pki.mode kubeadm has nothing to prepare', async () => {
    await expect(preparePki(haSpec(), { dir: fresh() })).rejects.toThrow(/pki\.mode: "kubeadm" is not "generate"/);
  });
});
