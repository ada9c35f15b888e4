/**
 * The async step before construction for pki.mode=generate: load (or, when absent, create) the CAs and
 * the service-account key in the state directory, issue or reuse every node's certificates, render the
 * kubeconfigs, and hand back each node's files for HaControlPlane. Cryptography is loaded only here.
 */
import { ClusterPlan, planCluster } from '../plan/plan';
import { SpecError, SpecIssue } from '../spec/errors';
import { ClusterSpec } from '../spec/types';
import type { Validity } from './issue';
import { loadOrCreateRoots } from './roots';
import { renderKubeconfig } from './kubeconfig';
import { CaId, CERT_MODE, PkiProfile, pkiProfile, SECRET_MODE } from './profile';
import { reissueReason } from './reissue';
import { RBAC_APPLY_COMMAND, RBAC_MANIFEST_PATH, renderRbacManifest } from './rbac';
import { PkiState, resolveStateDir, stateWarnings } from './state';

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
  /** Advice about the state directory (e.g. readable by others), in the spec-issue form. */
  readonly warnings: readonly SpecIssue[];
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

/**
 * Loads or creates the PKI for a spec with `pki.mode: generate` and issues what each node needs.
 * Throws SpecError for an invalid spec or an unusable state directory (field `pki.dir`); nothing is
 * written then. Never replaces a CA: a CA that cannot be used is an error, not a reason to make a new one.
 */
export async function preparePki(spec: ClusterSpec, options: PreparePkiOptions = {}): Promise<PreparedPki> {
  return preparePkiForPlan(planCluster(spec), options);
}

/**
 * preparePki for a spec already planned (`planCluster(spec)`, or `readSpecFile(file).plan`): the spec is
 * not validated or planned again.
 */
export async function preparePkiForPlan(plan: ClusterPlan, options: PreparePkiOptions = {}): Promise<PreparedPki> {
  if (plan.pki.mode !== 'generate') {
    throw new SpecError([{ path: 'pki.mode', value: plan.pki.mode, problem: 'is not "generate", so there is no PKI to prepare', fix: 'set pki.mode: generate, or build HaControlPlane without a pki prop' }]);
  }
  const dir = resolveStateDir(options.dir ?? plan.pki.dir, options.baseDir ?? process.cwd(), options.outdir);
  const state = new PkiState(dir);
  const now = options.now ?? new Date();
  const crypto = await import('./issue');
  const profile = pkiProfile(plan);
  const alg = plan.pki.keyAlgorithm;
  const { cas, created, loaded } = await loadOrCreateRoots(crypto, state, profile.cas, alg, { now, days: plan.pki.caCertificateValidityDays, backdateMinutes: plan.pki.backdateMinutes });

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
    report: { created: created.sort(), loaded: loaded.sort(), issued: sortIssued(issued), reused, restarts: restartsOf(issued), pending, warnings: stateWarnings(dir) },
    commit: () => state.commit(),
  };
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
