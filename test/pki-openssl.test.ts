/**
 * Every generated certificate, read by openssl (not by this project's parser): it verifies against its
 * CA for its purpose, and shows kubeadm's subject, SANs, key usages, validity and key algorithm — for
 * RSA and ECDSA keys, IPv4 and IPv6 masters. Keys are checked to belong to their certificates.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ClusterSpec, KeyAlgorithm, planCluster, PreparedPki, preparePki } from '../lib';
import { pkiProfile } from '../lib/pki/profile';
import { ipFamily, ipToBigInt } from '../lib/util/net';
import { kubeconfigParts, nodeFile, openssl, opensslCert } from './harness/pki';
import { haSpec, spec } from './util';

const NOW = new Date('2026-06-01T12:00:00Z');

interface Case {
  readonly name: string;
  readonly spec: ClusterSpec;
  readonly alg: KeyAlgorithm;
  /** What openssl prints for such a key. */
  readonly publicKey: string;
  readonly signature: string;
}

const ipv6 = spec({
  name: 'v6',
  kubernetesVersion: '1.36.0',
  controlPlaneEndpoint: { host: 'fd00::100', port: 6443 },
  masters: [{ name: 'm1', address: 'fd00::11' }, { name: 'm2', address: 'fd00::12' }, { name: 'm3', address: 'fd00::13' }],
  networking: { serviceSubnet: 'fd00:96::/112', podSubnet: 'fd00:244::/56' },
});
const single = (name: string) => spec({ name, masters: [{ name: 'solo', address: '10.1.0.5' }], controlPlaneEndpoint: { host: 'api.lab.example', port: 6443 } });

const CASES: Case[] = [
  { name: 'RSA-2048, IPv4, 3 masters behind a VIP', spec: haSpec({ name: 'v4rsa' }), alg: 'RSA-2048', publicKey: 'rsaEncryption 2048', signature: 'sha256WithRSAEncryption' },
  { name: 'ECDSA-P256, IPv6, 3 masters, 1.36.0', spec: ipv6, alg: 'ECDSA-P256', publicKey: 'id-ecPublicKey 256 P-256', signature: 'ecdsa-with-SHA256' },
  { name: 'ECDSA-P384, one master with a DNS endpoint', spec: single('p384'), alg: 'ECDSA-P384', publicKey: 'id-ecPublicKey 384 P-384', signature: 'ecdsa-with-SHA384' },
  { name: 'RSA-3072, one master', spec: single('rsa3072'), alg: 'RSA-3072', publicKey: 'rsaEncryption 3072', signature: 'sha256WithRSAEncryption' },
];

/** openssl's spelling of an IP SAN (IPv6 uncompressed, upper case, no leading zeros). */
function opensslIp(ip: string): string {
  if (ipFamily(ip) !== 6) return `IP Address:${ip}`;
  const n = ipToBigInt(ip);
  return `IP Address:${Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16).toUpperCase()).join(':')}`;
}

const EKU: Record<string, string> = { serverAuth: 'TLS Web Server Authentication', clientAuth: 'TLS Web Client Authentication' };
const CA_CN: Record<string, string> = { 'ca': 'kubernetes', 'front-proxy-ca': 'front-proxy-ca', 'etcd/ca': 'etcd-ca' };

describe.each(CASES)('$name', (C) => {
  let dir = '';
  let pki: PreparedPki;
  const s = () => ({ ...C.spec, pki: { mode: 'generate' as const, keyAlgorithm: C.alg } });
  const file = (name: string, content: string) => { const f = join(dir, 'tmp', name.replace(/\//g, '_')); writeFileSync(f, content); return f; };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hacp-pki-openssl-'));
    pki = await preparePki(s(), { dir: join(dir, 'state'), now: NOW });
    require('fs').mkdirSync(join(dir, 'tmp'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the CAs: self-signed, CA:TRUE, certificate signing, CN as DNS SAN, 10 years from 5 minutes ago', () => {
    const state = join(dir, 'state');
    const ids = pkiProfile(planCluster(s())).cas.map((c) => c.id);
    for (const id of ids) {
      const crt = join(state, `${id}.crt`);
      expect(openssl(['verify', '-CAfile', crt, crt]).trim()).toBe(`${crt}: OK`);
      const c = opensslCert(require('fs').readFileSync(crt, 'utf8'));
      expect({ id, subject: c.subject, issuer: c.issuer, sans: c.sans, bc: c.basicConstraints, ku: c.keyUsage, eku: c.extendedKeyUsage, key: c.publicKey, sig: c.signature })
        .toEqual({ id, subject: `CN=${CA_CN[id]}`, issuer: `CN=${CA_CN[id]}`, sans: [`DNS:${CA_CN[id]}`], bc: 'critical CA:TRUE', ku: 'critical Digital Signature, Key Encipherment, Certificate Sign', eku: '', key: C.publicKey, sig: C.signature });
      expect(c.notBefore.toISOString()).toBe('2026-06-01T11:55:00.000Z');
      expect(c.notAfter.toISOString()).toBe(new Date(NOW.getTime() + 3650 * 86_400_000).toISOString());
    }
  });

  test('every leaf of every node verifies against its CA for its purpose and says what kubeadm\'s says', () => {
    const profile = pkiProfile(planCluster(s()));
    let checked = 0;
    for (const node of profile.nodes) {
      for (const leaf of node.leaves) {
        let certPem: string;
        let keyPem: string;
        if (leaf.output.kind === 'files') {
          certPem = nodeFile(pki, node.node, `${leaf.output.base}.crt`);
          keyPem = nodeFile(pki, node.node, `${leaf.output.base}.key`);
        } else {
          const k = kubeconfigParts(nodeFile(pki, node.node, leaf.output.path));
          expect({ user: k.user, context: k.context, server: k.server }).toEqual({ user: leaf.commonName, context: `${leaf.commonName}@kubernetes`, server: leaf.output.server });
          expect(k.ca).toBe(require('fs').readFileSync(join(dir, 'state', 'ca.crt'), 'utf8'));
          certPem = k.cert;
          keyPem = k.key;
        }
        const name = `${node.node}-${leaf.id}`;
        const crt = file(`${name}.crt`, certPem);
        const caFile = join(dir, 'state', `${leaf.ca}.crt`);
        for (const u of leaf.usages) {
          const purpose = u === 'serverAuth' ? 'sslserver' : 'sslclient';
          expect({ name, purpose, out: openssl(['verify', '-CAfile', caFile, '-purpose', purpose, crt]).trim() }).toEqual({ name, purpose, out: `${crt}: OK` });
        }
        const c = opensslCert(certPem);
        expect({ name, subject: c.subject, issuer: c.issuer, sans: c.sans, bc: c.basicConstraints, ku: c.keyUsage, eku: c.extendedKeyUsage, key: c.publicKey, sig: c.signature }).toEqual({
          name,
          subject: [`CN=${leaf.commonName}`, ...leaf.organizations.map((o) => `O=${o}`)].join(','),
          issuer: `CN=${CA_CN[leaf.ca]}`,
          sans: [...leaf.dnsNames.map((d) => `DNS:${d}`), ...leaf.ipAddresses.map(opensslIp)],
          bc: 'critical CA:FALSE',
          ku: 'critical Digital Signature, Key Encipherment',
          eku: leaf.usages.map((u) => EKU[u]).join(', '),
          key: C.publicKey,
          sig: C.signature,
        });
        expect({ name, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() })
          .toEqual({ name, notBefore: '2026-06-01T11:55:00.000Z', notAfter: '2027-06-01T12:00:00.000Z' });
        // The key belongs to the certificate.
        expect(openssl(['pkey', '-pubout'], keyPem)).toBe(openssl(['x509', '-noout', '-pubkey'], certPem));
        checked++;
      }
    }
    expect(checked).toBe(profile.nodes.reduce((n, x) => n + x.leaves.length, 0));
    expect(checked).toBeGreaterThanOrEqual(9);
  });

  test('the API server certificate answers to the endpoint host and every master address (openssl -checkhost/-checkip)', () => {
    const plan = planCluster(s());
    for (const m of plan.masters) {
      const crt = file(`${m.name}-apiserver-check.crt`, nodeFile(pki, m.name, '/etc/kubernetes/pki/apiserver.crt'));
      const targets = [plan.endpoint.host, ...plan.masters.map((x) => x.address)];
      for (const t of targets) {
        const flag = ipFamily(t) === 0 ? '-checkhost' : '-checkip';
        expect(openssl(['x509', '-noout', '-in', crt, flag, t]).trim()).toMatch(/does match certificate$/);
      }
      expect(openssl(['x509', '-noout', '-in', crt, '-checkip', '203.0.113.9']).trim()).toMatch(/does NOT match certificate$/);
    }
  });

  test('negative controls: a leaf does not verify against another CA, nor a client certificate as a server', () => {
    const m = planCluster(s()).masters[0].name;
    const apiserver = file(`${m}-neg-apiserver.crt`, nodeFile(pki, m, '/etc/kubernetes/pki/apiserver.crt'));
    const client = file(`${m}-neg-client.crt`, nodeFile(pki, m, '/etc/kubernetes/pki/front-proxy-client.crt'));
    expect(() => openssl(['verify', '-CAfile', join(dir, 'state', 'front-proxy-ca.crt'), apiserver])).toThrow(/unable to get local issuer certificate/);
    expect(() => openssl(['verify', '-CAfile', join(dir, 'state', 'front-proxy-ca.crt'), '-purpose', 'sslserver', client])).toThrow(/error 26 at 0 depth lookup: unsuitable certificate purpose/);
  });

  test('sa.pub is the public key of sa.key, and both are on every master with mode 0600', () => {
    const plan = planCluster(s());
    for (const m of plan.masters) {
      const files = pki.files.get(m.name)!;
      const sa = files.find((f) => f.path === '/etc/kubernetes/pki/sa.key')!;
      const pub = files.find((f) => f.path === '/etc/kubernetes/pki/sa.pub')!;
      expect([sa.mode, pub.mode]).toEqual([0o600, 0o600]);
      expect(openssl(['pkey', '-pubout'], sa.content)).toBe(pub.content);
    }
  });
});
