/**
 * The PKI state directory: kubeadm's layout for what the masters share (ca.crt/key, front-proxy-ca.*,
 * etcd/ca.*, sa.key/pub — so an existing cluster's /etc/kubernetes/pki can be brought as is) and
 * nodes/<node>/<id>.crt|key for the certificates issued per node. Directories 0700, keys 0600.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/files';
import { ensureStateGitignore, ensureStateGitignoreIfExists } from '../util/state-ignore';
import { SpecError, SpecIssue } from '../spec/errors';

/** Reads and writes files of one state directory. */
export class PkiState {
  /** Files to write, in order, when `commit()` is called (nothing touches the disk before). */
  private readonly pending = new Map<string, { content: string; mode: number }>();

  constructor(public readonly dir: string) {}

  /** A file's content, or undefined when it does not exist. */
  public read(rel: string): string | undefined {
    const pendingFile = this.pending.get(rel);
    if (pendingFile) return pendingFile.content;
    try {
      return fs.readFileSync(path.join(this.dir, rel), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw stateError(this.dir, `cannot read ${rel}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'check the directory\'s owner and permissions (it is 0700 and its keys 0600)');
    }
  }

  /** Queues a file for `commit()`. */
  public write(rel: string, content: string, mode: number): void {
    this.pending.set(rel, { content, mode });
  }

  /** Paths queued for writing. */
  public get changes(): string[] {
    return [...this.pending.keys()];
  }

  /** Writes every queued file atomically, creating directories 0700 (and a `.gitignore` of everything). */
  public commit(): void {
    if (this.pending.size === 0) ensureStateGitignoreIfExists(this.dir); // a directory from an older version
    if (this.pending.size > 0) {
      try {
        mkdirPrivate(this.dir, '.');
        ensureStateGitignore(this.dir);
      } catch (e) {
        throw stateError(this.dir, `cannot write .gitignore: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'check the directory\'s owner, permissions and free space (it is 0700 and its keys 0600)');
      }
    }
    for (const [rel, f] of this.pending) {
      const file = path.join(this.dir, rel);
      try {
        mkdirPrivate(this.dir, path.dirname(rel));
        writeFileAtomic(file, f.content, f.mode);
      } catch (e) {
        throw stateError(this.dir, `cannot write ${rel}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 'check the directory\'s owner, permissions and free space (it is 0700 and its keys 0600)');
      }
    }
    this.pending.clear();
  }
}

function mkdirPrivate(root: string, rel: string): void {
  if (!fs.existsSync(root)) fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  fs.chmodSync(root, 0o700);
  let current = root;
  for (const part of rel.split(path.sep).filter((p) => p && p !== '.')) {
    current = path.join(current, part);
    if (!fs.existsSync(current)) fs.mkdirSync(current, { mode: 0o700 });
  }
}

/** A problem with the state directory, reported like any spec problem: field pki.dir, its value, the fix. */
export function stateError(dir: string, problem: string, fix: string): SpecError {
  return new SpecError([{ path: 'pki.dir', value: dir, problem, fix }]);
}

/**
 * Resolves the state directory and checks where it is: not inside the bundle output directory (whose
 * contents are copied to nodes and replaced by every synth), and not a file.
 */
export function resolveStateDir(dir: string, baseDir: string, outdir: string | undefined): string {
  const abs = path.resolve(baseDir, dir);
  if (outdir !== undefined) {
    const out = path.resolve(outdir);
    const rel = path.relative(out, abs);
    if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
      throw stateError(abs, `is inside the output directory ${out}, which every synth replaces and which is copied to the nodes`, 'keep the PKI state outside it, e.g. pki.dir: "ha-control-plane-state/<name>/pki" (the default)');
    }
  }
  if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) {
    throw stateError(abs, 'exists and is not a directory', 'point pki.dir at a directory (it is created when missing)');
  }
  return abs;
}

/** Warnings about an existing state directory: readable or writable by group or others. */
export function stateWarnings(dir: string): SpecIssue[] {
  if (!fs.existsSync(dir)) return [];
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return [];
  return [{
    path: 'pki.dir', value: dir,
    problem: `has mode 0${mode.toString(8)}: other users of this machine can reach the CA keys`,
    fix: `chmod 700 ${dir}`,
  }];
}
