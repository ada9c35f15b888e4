/**
 * Test PKI made with the openssl CLI, laid out as kubeadm lays out etcd's: <dir>/ca.{crt,key},
 * server.*, peer.*, healthcheck-client.*. EC P-256 keys (fast), valid for two days.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';

/** A certificate and its key, as file paths. */
export interface CertFiles {
  readonly crt: string;
  readonly key: string;
}

/** What a leaf certificate says. */
export interface LeafOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usages: readonly ('serverAuth' | 'clientAuth')[];
}

function openssl(args: readonly string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, killSignal: 'SIGKILL' });
  } catch (e) {
    const err = e as Error & { stderr?: Buffer };
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
}

function newKey(path: string): void {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  chmodSync(path, 0o600);
}

/** Writes `<base>.crt` and `<base>.key`: a self-signed CA. */
export function makeCa(base: string, commonName: string): CertFiles {
  const files = { crt: `${base}.crt`, key: `${base}.key` };
  newKey(files.key);
  const cfg = `${base}.cnf`;
  writeFileSync(cfg, [
    '[req]', 'distinguished_name = dn', 'prompt = no', 'x509_extensions = v3',
    '[dn]', `CN = ${commonName}`,
    '[v3]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign',
    'subjectKeyIdentifier = hash', '',
  ].join('\n'));
  try {
    openssl(['req', '-x509', '-new', '-config', cfg, '-key', files.key, '-days', '2', '-set_serial', serial(), '-out', files.crt]);
  } finally {
    rmSync(cfg, { force: true });
  }
  return files;
}

/** Writes `<base>.crt` and `<base>.key`: a leaf signed by `ca`. */
export function makeLeaf(base: string, ca: CertFiles, o: LeafOptions): CertFiles {
  const files = { crt: `${base}.crt`, key: `${base}.key` };
  newKey(files.key);
  const work = mkdtempSync(`${base}.tmp-`);
  try {
    const reqCfg = join(work, 'req.cnf');
    writeFileSync(reqCfg, [
      '[req]', 'distinguished_name = dn', 'prompt = no',
      '[dn]', ...(o.organization ? [`O = ${o.organization}`] : []), `CN = ${o.commonName}`, '',
    ].join('\n'));
    const sans = [...(o.dnsNames ?? []).map((d) => `DNS:${d}`), ...(o.ipAddresses ?? []).map((a) => `IP:${a}`)];
    const ext = join(work, 'ext.cnf');
    writeFileSync(ext, [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage = ${o.usages.join(',')}`,
      'authorityKeyIdentifier = keyid',
      ...(sans.length > 0 ? [`subjectAltName = ${sans.join(',')}`] : []),
      '',
    ].join('\n'));
    const csr = join(work, 'req.csr');
    openssl(['req', '-new', '-config', reqCfg, '-key', files.key, '-out', csr]);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-set_serial', serial(), '-days', '2', '-extfile', ext, '-out', files.crt]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return files;
}

/** A positive random serial number. */
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01;
  return `0x${b.toString('hex')}`;
}

/** The cluster-wide half of an etcd PKI: the CA and the healthcheck client (kubeadm's names). */
export interface EtcdCa {
  readonly dir: string;
  readonly ca: CertFiles;
  readonly healthcheckClient: CertFiles;
}

/** Writes <dir>/ca.{crt,key} and <dir>/healthcheck-client.{crt,key}. */
export function makeEtcdCa(dir: string): EtcdCa {
  mkdirSync(dir, { recursive: true });
  const ca = makeCa(join(dir, 'ca'), 'etcd-ca');
  const healthcheckClient = makeLeaf(join(dir, 'healthcheck-client'), ca, { commonName: 'kube-etcd-healthcheck-client', usages: ['clientAuth'] });
  return { dir, ca, healthcheckClient };
}

/**
 * Writes one member's complete <dir> as kubeadm would on that master: copies of the CA and the
 * healthcheck client, and the member's own server and peer certificates (CN and DNS SAN = member name,
 * plus localhost, its address, 127.0.0.1 and ::1; serverAuth and clientAuth).
 */
export function makeEtcdMemberPki(dir: string, ca: EtcdCa, member: { name: string; address: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of ['ca.crt', 'ca.key', 'healthcheck-client.crt', 'healthcheck-client.key']) {
    copyFileSync(join(ca.dir, f), join(dir, f));
  }
  const leaf: LeafOptions = {
    commonName: member.name,
    dnsNames: [member.name, 'localhost'],
    ipAddresses: [member.address, '127.0.0.1', '::1'],
    usages: ['serverAuth', 'clientAuth'],
  };
  makeLeaf(join(dir, 'server'), ca.ca, leaf);
  makeLeaf(join(dir, 'peer'), ca.ca, leaf);
}
