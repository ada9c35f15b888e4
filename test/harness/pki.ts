/** Helpers for tests of the generated PKI: write a node's files to disk, run openssl on them. */
import { execFileSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { parse } from 'yaml';
import { PreparedPki } from '../../lib';

/** Writes one node's PKI files under `root` at their absolute paths (root/etc/kubernetes/...); returns root. */
export function writeNodePki(pki: PreparedPki, node: string, root: string): string {
  for (const f of pki.files.get(node) ?? []) {
    const file = join(root, f.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.content, { mode: f.mode });
  }
  return root;
}

/** One node's file content by absolute path (throws when absent). */
export function nodeFile(pki: PreparedPki, node: string, path: string): string {
  const f = pki.files.get(node)?.find((x) => x.path === path);
  if (!f) throw new Error(`${node} has no ${path}`);
  return f.content;
}

/** The parts of a kubeconfig: server URL, user, and the embedded PEMs. */
export function kubeconfigParts(text: string): { server: string; user: string; context: string; ca: string; cert: string; key: string } {
  const k = parse(text);
  const d = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    server: k.clusters[0].cluster.server,
    user: k.users[0].name,
    context: k['current-context'],
    ca: d(k.clusters[0].cluster['certificate-authority-data']),
    cert: d(k.users[0].user['client-certificate-data']),
    key: d(k.users[0].user['client-key-data']),
  };
}

/** Runs openssl with stdin; returns stdout, throws with stderr. */
export function openssl(args: readonly string[], input?: string): string {
  try {
    return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000, killSignal: 'SIGKILL' });
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${(err.stdout ?? '').trim()} ${(err.stderr ?? '').trim() || err.message}`);
  }
}

/** What openssl says about a certificate (never our own parser). */
export interface OpensslCert {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly sans: string[];
  readonly keyUsage: string;
  readonly extendedKeyUsage: string;
  readonly basicConstraints: string;
  readonly publicKey: string;
  readonly signature: string;
}

/** Reads a PEM certificate with `openssl x509 -text`. */
export function opensslCert(pem: string): OpensslCert {
  const out = openssl(['x509', '-noout', '-subject', '-issuer', '-startdate', '-enddate', '-nameopt', 'RFC2253', '-text', '-certopt', 'no_header,no_version,no_serial,no_signame,no_validity,no_subject,no_issuer,no_pubkey,no_sigdump,no_aux'], pem);
  const line = (re: RegExp) => re.exec(out)?.[1]?.trim() ?? '';
  const ext = (name: string) => { const m = new RegExp(`X509v3 ${name}:( critical)?[ \\t]*\\n\\s+(.*)`).exec(out); return m ? `${m[1] ? 'critical ' : ''}${m[2].trim()}` : ''; };
  const text = openssl(['x509', '-noout', '-text'], pem);
  return {
    subject: line(/^subject=(.*)$/m),
    issuer: line(/^issuer=(.*)$/m),
    notBefore: new Date(line(/^notBefore=(.*)$/m)),
    notAfter: new Date(line(/^notAfter=(.*)$/m)),
    sans: ext('Subject Alternative Name').split(', ').filter(Boolean),
    keyUsage: ext('Key Usage'),
    extendedKeyUsage: ext('Extended Key Usage'),
    basicConstraints: ext('Basic Constraints'),
    publicKey: [/Public Key Algorithm: (\S+)/, /Public-Key: \((\d+) bit\)/, /NIST CURVE: (\S+)/].map((re) => re.exec(text)?.[1]).filter(Boolean).join(' '),
    signature: /Signature Algorithm: (\S+)/.exec(text)?.[1] ?? '',
  };
}
