/**
 * The cryptography: key generation, CA and leaf issuing, key import — all on @peculiar/x509 over Node's
 * WebCrypto, with Node's KeyObject only to convert key encodings. Loaded lazily (lib/pki/prepare.ts
 * requires it only for pki.mode=generate), so synths without generated PKI never load it.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { KeyAlgorithm } from '../spec/types';
import { CaSpec, LeafSpec } from './profile';

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type EcKeyAlgorithm = webcrypto.EcKeyAlgorithm;

const subtle = webcrypto.subtle;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A key pair usable for signing and as a certificate's public key, plus its PEM (kubeadm's encoding). */
export interface KeyPair {
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`), as kubeadm writes keys. */
  readonly pem: string;
}

/** A loaded or new CA. */
export interface Ca {
  readonly cert: x509.X509Certificate;
  readonly key: KeyPair;
}

/** WebCrypto parameters of a key algorithm: key generation/import, and signing with such a key. */
function params(alg: KeyAlgorithm): { gen: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams; sign: Algorithm | EcdsaParams } {
  switch (alg) {
    case 'RSA-2048': case 'RSA-3072': case 'RSA-4096': {
      const gen = { name: 'RSASSA-PKCS1-v1_5', modulusLength: Number(alg.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
      return { gen, sign: { name: 'RSASSA-PKCS1-v1_5' } };
    }
    case 'ECDSA-P256': return { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
    case 'ECDSA-P384': return { gen: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams };
  }
}

/** The algorithm of an existing key, or undefined for one kubeadm would not make (Ed25519, P-521, ...). */
export function keyAlgorithmOf(key: KeyObject): KeyAlgorithm | undefined {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && [2048, 3072, 4096].includes(d.modulusLength ?? 0)) return `RSA-${d.modulusLength}` as KeyAlgorithm;
  if (key.asymmetricKeyType === 'ec' && d.namedCurve === 'prime256v1') return 'ECDSA-P256';
  if (key.asymmetricKeyType === 'ec' && d.namedCurve === 'secp384r1') return 'ECDSA-P384';
  return undefined;
}

/** kubeadm's PEM encoding of a private key (PKCS#1 for RSA, SEC1 for EC). */
function kubeadmPem(key: KeyObject): string {
  return key.export({ type: key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' }) as string;
}

/** Generates a key pair. */
export async function generateKey(alg: KeyAlgorithm): Promise<KeyPair> {
  const pair = await subtle.generateKey(params(alg).gen, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', pair.privateKey));
  const pem = kubeadmPem(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, pem };
}

/**
 * Imports a PEM private key in any encoding Go reads (PKCS#1, SEC1, PKCS#8). Throws a message without
 * the key's content when it is not a key of a supported algorithm.
 */
export async function importKey(pem: string): Promise<KeyPair & { algorithm: KeyAlgorithm }> {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error('is not a PEM private key');
  }
  const algorithm = keyAlgorithmOf(key);
  if (!algorithm) throw new Error(`holds a ${key.asymmetricKeyType} key, not one of RSA-2048/3072/4096, ECDSA-P256/P384`);
  const gen = params(algorithm).gen;
  const privateKey = await subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), gen, true, ['sign']);
  const publicKey = await subtle.importKey('spki', createPublicKey(key).export({ type: 'spki', format: 'der' }), gen, true, ['verify']);
  return { privateKey, publicKey, pem: kubeadmPem(key), algorithm };
}

/** The DER SubjectPublicKeyInfo of a PEM private key (to check that a key belongs to a certificate). */
export function publicKeyDer(pem: string): Buffer {
  return createPublicKey(createPrivateKey(pem)).export({ type: 'spki', format: 'der' });
}

/** A random positive 128-bit serial number, as hex. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}

/** Subject in Go's pkix order: O before CN. */
function subject(commonName: string, organizations: readonly string[]): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

/** Validity window: now minus the backdate, plus the validity. */
export interface Validity {
  readonly now: Date;
  readonly days: number;
  readonly backdateMinutes: number;
}

function window(v: Validity): { notBefore: Date; notAfter: Date } {
  // X.509 times have whole seconds.
  const now = Math.floor(v.now.getTime() / 1000) * 1000;
  return { notBefore: new Date(now - v.backdateMinutes * 60_000), notAfter: new Date(now + v.days * 86_400_000) };
}

const usage = { serverAuth: x509.ExtendedKeyUsage.serverAuth, clientAuth: x509.ExtendedKeyUsage.clientAuth } as const;

/** A self-signed CA as kubeadm makes it: CN = DNS SAN, CA:TRUE (critical), digitalSignature+keyEncipherment+keyCertSign. */
export async function createCa(spec: CaSpec, alg: KeyAlgorithm, validity: Validity): Promise<Ca> {
  const key = await generateKey(alg);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(spec.commonName, []),
    issuer: subject(spec.commonName, []),
    ...window(validity),
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    signingAlgorithm: params(alg).sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: spec.commonName }]),
    ],
  });
  return { cert, key };
}

/** The signing parameters for a CA's key. */
function caSigning(ca: Ca): Algorithm | EcdsaParams {
  const alg = ca.key.privateKey.algorithm as webcrypto.RsaHashedKeyAlgorithm | EcKeyAlgorithm;
  if (alg.name === 'ECDSA') return { name: 'ECDSA', hash: (alg as EcKeyAlgorithm).namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' } as EcdsaParams;
  return { name: 'RSASSA-PKCS1-v1_5' };
}

/** The CA's subject key identifier (to name it in the leaf's authority key identifier). */
async function caKeyId(ca: Ca): Promise<string> {
  const ski = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? ski.keyId : (await x509.SubjectKeyIdentifierExtension.create(ca.key.publicKey)).keyId;
}

/** A leaf as kubeadm issues it: CA:FALSE, digitalSignature+keyEncipherment (critical), the usages, the SANs. */
export async function issueLeaf(spec: LeafSpec, ca: Ca, alg: KeyAlgorithm, validity: Validity): Promise<{ cert: x509.X509Certificate; key: KeyPair }> {
  const key = await generateKey(alg);
  const names: x509.JsonGeneralNames = [
    ...spec.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...spec.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(spec.commonName, spec.organizations),
    issuer: ca.cert.subjectName,
    ...window(validity),
    publicKey: key.publicKey,
    signingKey: ca.key.privateKey,
    signingAlgorithm: caSigning(ca),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(spec.usages.map((u) => usage[u])),
      new x509.AuthorityKeyIdentifierExtension(await caKeyId(ca)),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  return { cert, key };
}

/** What a stored certificate says, in the terms of a LeafSpec (to decide whether to reissue it). */
export interface CertFacts {
  readonly commonName: string;
  readonly organizations: string[];
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  readonly usages: string[];
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly notAfter: Date;
  /** Issued (and signed) by this CA. */
  readonly signedBy: boolean;
}

/** Reads a PEM certificate; `ca` is the CA it should be signed by. */
export async function certFacts(pem: string, ca: Ca): Promise<CertFacts> {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const spki = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  const signedBy = cert.issuer === ca.cert.subject && await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }).catch(() => false);
  const names = san?.names.items ?? [];
  const byOid = new Map(Object.entries(usage).map(([k, v]) => [v as string, k]));
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organizations: cert.subjectName.getField('O'),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    usages: (eku?.usages ?? []).map((u) => byOid.get(u as string) ?? String(u)),
    keyAlgorithm: keyAlgorithmOf(spki),
    notAfter: cert.notAfter,
    signedBy,
  };
}

/** Parses a CA certificate (throws a message without content when it is none). */
export function parseCaCert(pem: string): x509.X509Certificate {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem);
  } catch {
    throw new Error('is not a PEM certificate');
  }
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) throw new Error('is not a CA certificate (no basicConstraints CA:TRUE)');
  return cert;
}

/** The DER SubjectPublicKeyInfo of a certificate. */
export function certPublicKeyDer(cert: x509.X509Certificate): Buffer {
  return Buffer.from(cert.publicKey.rawData);
}

/** sa.pub: the PEM public key (PKIX), as kubeadm writes it. */
export function publicKeyPem(privatePem: string): string {
  return createPublicKey(createPrivateKey(privatePem)).export({ type: 'spki', format: 'pem' }) as string;
}

/** True when a PEM private key belongs to a PEM certificate. */
export function keyMatchesCert(keyPem: string, certPem: string): boolean {
  return publicKeyDer(keyPem).equals(certPublicKeyDer(new x509.X509Certificate(certPem)));
}
