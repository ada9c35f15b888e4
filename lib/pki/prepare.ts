/**
 * The async step before construction for pki.mode=generate: load (or, when absent, create) the CAs and
 * the service-account key in the state directory, issue or reuse every node's certificates, render the
 * kubeconfigs, and hand back each node's files for HaControlPlane. Cryptography is loaded only here.
 */
import { planCluster } from '../plan/plan';
import { SpecError } from '../spec/errors';
import { ipFamily, ipToBigInt } from '../plan/net';
import { ClusterSpec, KeyAlgorithm } from '../spec/types';
import type { Ca, Validity } from './issue';
import { renderKubeconfig } from './kubeconfig';
import { CaId, CERT_MODE, LeafSpec, PkiProfile, pkiProfile, SECRET_MODE } from './profile';
import { RBAC_APPLY_COMMAND, RBAC_MANIFEST_PATH, renderRbacManifest } from './rbac';
import { PkiState, resolveStateDir, stateError } from './state';

/** Options of preparePki. */
export interface PreparePkiOptions {
  /**
   * The state directory, overriding the spec's `pki.dir`.
   * @default the spec's pki.dir, else "ha-control-plane-state/<name>/pki"
   */
  readonly dir?: string;
  /**
   * Directory a relative state directory is resolved against (the CLI passes the spec file's directory).
   * @default process.cwd()
   */
  readonly baseDir?: string;
  /**
   * The bundle output directory; the state directory must not be inside it.
   * @default no check
   */
  readonly outdir?: string;
  /**
   * Write created CAs and issued certificates to the state directory. `false` computes everything in
   * memory and writes nothing (what `validate` does).
   * @default true
   */
  readonly write?: boolean;
  /**
   * The time certificates are issued at and expiry is judged against.
   * @default new Date()
   */
  readonly now?: Date;
}

/** A file of one node's bundle from the PKI: absolute path on the node, content, mode. */
export interface PkiFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** A certificate that was (re)issued on this run, and why. */
export interface IssuedCert {
  readonly node: string;
  readonly id: string;
  /** `new`, or why the stored one was replaced (e.g. `SANs changed (+10.0.0.5 -10.0.0.4)`). */
  readonly reason: string;
  /** Pods (or `kubelet`) that read it. */
  readonly restarts: readonly string[];
}

/** What preparing the PKI did. */
export interface PkiReport {
  /** CAs (and `sa`) created in the state directory on this run. */
  readonly created: readonly string[];
  /** CAs (and `sa`) loaded from the state directory. */
  readonly loaded: readonly string[];
  /** Certificates issued on this run (new or replaced). */
  readonly issued: readonly IssuedCert[];
  /** Certificates reused unchanged. */
  readonly reused: number;
  /** Per node, what must restart because a certificate it had was replaced. */
  readonly restarts: ReadonlyMap<string, readonly string[]>;
  /** Files of the state directory this run creates or replaces (relative paths; written unless `write: false`). */
  readonly pending: readonly string[];
}

/** The generated PKI: every node's files, ready for HaControlPlane's `pki` prop. */
export interface PreparedPki {
  /** Cluster name (spec.name) it was made for. */
  readonly cluster: string;
  /** Absolute state directory. */
  readonly dir: string;
  /** Node name → files for that node's bundle. */
  readonly files: ReadonlyMap<string, readonly PkiFile[]>;
  /** The command that applies the RBAC manifest on the first master. */
  readonly rbacApplyCommand: string;
  readonly report: PkiReport;
  /**
   * Writes what this run created or issued to the state directory (already done unless `write: false`;
   * calling it again writes nothing). Lets a caller write the state only once the bundle built.
   */
  readonly commit: () => void;
}

const DAY_MS = 86_400_000;

/**
 * Loads or creates the PKI for a spec with `pki.mode: generate` and issues what each node needs.
 * Throws SpecError for an invalid spec or an unusable state directory (field `pki.dir`); nothing is
 * written then. Never replaces a CA: a CA that cannot be used is an error, not a reason to make a new one.
 */
export async function preparePki(spec: ClusterSpec, options: PreparePkiOptions = {}): Promise<PreparedPki> {
  const plan = planCluster(spec);
  if (plan.pki.mode !== 'generate') {
    throw new SpecError([{ path: 'pki.mode', value: plan.pki.mode, problem: 'is not "generate", so there is no PKI to prepare', fix: 'set pki.mode: generate, or build HaControlPlane without a pki prop' }]);
  }
  const dir = resolveStateDir(options.dir ?? plan.pki.dir, options.baseDir ?? process.cwd(), options.outdir);
  const state = new PkiState(dir);
  const now = options.now ?? new Date();
  const crypto = await import('./issue');
  const profile = pkiProfile(plan);
  const alg = plan.pki.keyAlgorithm;
  const created: string[] = [];
  const loaded: string[] = [];

  // The CAs: loaded when present, created when absent, an error when half there or unusable.
  const caValidity: Validity = { now, days: plan.pki.caCertificateValidityDays, backdateMinutes: plan.pki.backdateMinutes };
  const cas = new Map<CaId, Ca>();
  await Promise.all(profile.cas.map(async (spec) => {
    const crtPem = state.read(`${spec.id}.crt`);
    const keyPem = state.read(`${spec.id}.key`);
    if (crtPem === undefined && keyPem === undefined) {
      const ca = await crypto.createCa(spec, alg, caValidity);
      state.write(`${spec.id}.crt`, ca.cert.toString('pem') + '\n', CERT_MODE);
      state.write(`${spec.id}.key`, ca.key.pem, SECRET_MODE);
      cas.set(spec.id, ca);
      created.push(spec.id);
      return;
    }
    if (crtPem === undefined || keyPem === undefined) {
      const [has, lacks] = crtPem === undefined ? [`${spec.id}.key`, `${spec.id}.crt`] : [`${spec.id}.crt`, `${spec.id}.key`];
      throw stateError(dir, `has ${has} but no ${lacks}`, `put the matching ${lacks} beside it (a CA brought from an existing cluster needs both files), or remove ${has} to have a new CA made`);
    }
    cas.set(spec.id, await loadCa(crypto, dir, spec.id, crtPem, keyPem, now));
    loaded.push(spec.id);
  }));

  // The service-account key pair.
  const saKey = state.read('sa.key');
  const saPub = state.read('sa.pub');
  if (saKey === undefined) {
    if (saPub !== undefined) throw stateError(dir, 'has sa.pub but no sa.key', 'put the matching sa.key beside it, or remove sa.pub to have a new pair made');
    const key = await crypto.generateKey(alg);
    state.write('sa.key', key.pem, SECRET_MODE);
    state.write('sa.pub', crypto.publicKeyPem(key.pem), SECRET_MODE);
    created.push('sa');
  } else {
    let pub: string;
    try {
      await crypto.importKey(saKey);
      pub = crypto.publicKeyPem(saKey);
    } catch (e) {
      throw stateError(dir, `sa.key ${(e as Error).message}`, 'replace sa.key with the cluster\'s service-account signing key (PEM)');
    }
    if (saPub !== undefined && saPub.trim() !== pub.trim()) throw stateError(dir, 'sa.pub is not the public key of sa.key', 'remove sa.pub: it is derived from sa.key');
    if (saPub === undefined) state.write('sa.pub', pub, SECRET_MODE);
    loaded.push('sa');
  }

  // Every node's certificates: reused while their inputs hold, else (re)issued.
  const leafValidity: Validity = { now, days: plan.pki.certificateValidityDays, backdateMinutes: plan.pki.backdateMinutes };
  const issued: IssuedCert[] = [];
  let reused = 0;
  const files = new Map<string, PkiFile[]>();
  const caPem = (id: CaId) => cas.get(id)!.cert.toString('pem') + '\n';
  await Promise.all(profile.nodes.map(async (node) => {
    const out: PkiFile[] = node.shared.map((s) => ({ path: s.path, content: state.read(s.source)!, mode: s.mode }));
    const leaves = await Promise.all(node.leaves.map(async (leaf) => {
      const base = `nodes/${node.node}/${leaf.id}`;
      const ca = cas.get(leaf.ca)!;
      let crt = state.read(`${base}.crt`);
      let key = state.read(`${base}.key`);
      const reason = await reissueReason(crypto, leaf, crt, key, ca, alg, now, plan.pki.renewBeforeDays);
      if (reason !== undefined) {
        const fresh = await crypto.issueLeaf(leaf, ca, alg, leafValidity);
        crt = fresh.cert.toString('pem') + '\n';
        key = fresh.key.pem;
        state.write(`${base}.crt`, crt, CERT_MODE);
        state.write(`${base}.key`, key, SECRET_MODE);
        issued.push({ node: node.node, id: leaf.id, reason, restarts: leaf.restarts });
      } else {
        reused++;
      }
      return { leaf, crt: crt!, key: key! };
    }));
    for (const { leaf, crt, key } of leaves) {
      if (leaf.output.kind === 'files') {
        out.push({ path: `${leaf.output.base}.crt`, content: crt, mode: CERT_MODE }, { path: `${leaf.output.base}.key`, content: key, mode: SECRET_MODE });
      } else {
        out.push({
          path: leaf.output.path,
          content: renderKubeconfig({ clusterName: plan.clusterName, server: leaf.output.server, user: leaf.commonName, caPem: caPem(leaf.ca), certPem: crt, keyPem: key }),
          mode: SECRET_MODE,
        });
      }
    }
    files.set(node.node, out);
  }));
  const first = plan.masters[0].name;
  files.get(first)!.push({ path: RBAC_MANIFEST_PATH, content: renderRbacManifest(plan), mode: 0o644 });

  const pending = state.changes;
  if (options.write !== false) state.commit();
  return {
    cluster: plan.name,
    dir,
    files: sortedFiles(profile, files),
    rbacApplyCommand: RBAC_APPLY_COMMAND,
    report: { created: created.sort(), loaded: loaded.sort(), issued: sortIssued(issued), reused, restarts: restartsOf(issued), pending },
    commit: () => state.commit(),
  };
}

/** Loads a CA pair and checks it can sign: a CA certificate, its own key, not expired. */
async function loadCa(crypto: typeof import('./issue'), dir: string, id: CaId, crtPem: string, keyPem: string, now: Date): Promise<Ca> {
  let cert;
  try {
    cert = crypto.parseCaCert(crtPem);
  } catch (e) {
    throw stateError(dir, `${id}.crt ${(e as Error).message}`, `replace ${id}.crt with the cluster's CA certificate (PEM)`);
  }
  let key;
  try {
    key = await crypto.importKey(keyPem);
  } catch (e) {
    throw stateError(dir, `${id}.key ${(e as Error).message}`, `replace ${id}.key with the CA's private key (PEM: PKCS#1, SEC1 or PKCS#8)`);
  }
  if (!crypto.publicKeyDer(keyPem).equals(crypto.certPublicKeyDer(cert))) {
    throw stateError(dir, `${id}.key is not the key of ${id}.crt`, `put the key that belongs to ${id}.crt beside it`);
  }
  if (cert.notAfter.getTime() <= now.getTime()) {
    throw stateError(dir, `${id}.crt expired on ${cert.notAfter.toISOString()}`, 'a new CA means a new cluster trust root: rotate the CA deliberately (see README, PKI), then point pki.dir at the new one');
  }
  return { cert, key };
}

/** Why a stored certificate must be replaced, or undefined when it can be reused. */
async function reissueReason(
  crypto: typeof import('./issue'), leaf: LeafSpec, crt: string | undefined, key: string | undefined, ca: Ca,
  alg: KeyAlgorithm, now: Date, renewBeforeDays: number,
): Promise<string | undefined> {
  if (crt === undefined || key === undefined) return 'new';
  let facts;
  try {
    facts = await crypto.certFacts(crt, ca);
    if (!crypto.keyMatchesCert(key, crt)) return 'stored key does not match the certificate';
  } catch {
    return 'stored certificate or key unreadable';
  }
  if (!facts.signedBy) return `not issued by the current ${leaf.ca}`;
  if (facts.commonName !== leaf.commonName || !sameSet(facts.organizations, leaf.organizations)) {
    return `subject changed (CN=${facts.commonName} O=${facts.organizations.join('+') || '-'} → CN=${leaf.commonName} O=${leaf.organizations.join('+') || '-'})`;
  }
  const sans = sanDiff([...facts.dnsNames, ...facts.ipAddresses.map(normIp)], [...leaf.dnsNames, ...leaf.ipAddresses.map(normIp)]);
  if (sans) return `SANs changed (${sans})`;
  if (!sameSet(facts.usages, leaf.usages)) return `usages changed (${facts.usages.join(',')} → ${leaf.usages.join(',')})`;
  if (facts.keyAlgorithm !== alg) return `key algorithm changed (${facts.keyAlgorithm ?? 'other'} → ${alg})`;
  if (facts.notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS) return `expires ${facts.notAfter.toISOString().slice(0, 10)} (within ${renewBeforeDays} days)`;
  return undefined;
}

/** One spelling per IP address (IPv6 in full form), so a stored SAN compares equal to the spec's. */
function normIp(ip: string): string {
  const f = ipFamily(ip);
  if (f === 6) return ipToBigInt(ip).toString(16).padStart(32, '0').replace(/(.{4})(?!$)/g, '$1:');
  return ip;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** "+added -removed", or '' when equal. */
function sanDiff(stored: readonly string[], wanted: readonly string[]): string {
  const added = wanted.filter((s) => !stored.includes(s));
  const removed = stored.filter((s) => !wanted.includes(s));
  return [...added.map((s) => `+${s}`), ...removed.map((s) => `-${s}`)].join(' ');
}

function sortIssued(issued: IssuedCert[]): IssuedCert[] {
  return issued.sort((a, b) => a.node.localeCompare(b.node) || a.id.localeCompare(b.id));
}

/** Per node, the pods (and kubelet) reading a certificate that replaced an existing one. */
function restartsOf(issued: readonly IssuedCert[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const i of issued) {
    if (i.reason === 'new') continue;
    const list = out.get(i.node) ?? [];
    for (const r of i.restarts) if (!list.includes(r)) list.push(r);
    if (list.length > 0) out.set(i.node, list.sort());
  }
  return out;
}

/** Files per node in the profile's node order, each node's sorted by path (stable bundles). */
function sortedFiles(profile: PkiProfile, files: Map<string, PkiFile[]>): Map<string, PkiFile[]> {
  return new Map(profile.nodes.map((n) => [n.node, [...files.get(n.node)!].sort((a, b) => a.path.localeCompare(b.path))]));
}
