import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BundleFile, directoryMode, installOrder, isManifest } from './layout';
import { LIBRARY_VERSION, PACKAGE_NAME } from '../version';
import { InputError } from '../spec/errors';

/** A file or directory of a node's installable bundle, relative to the bundle's top directory. */
export interface PackageEntry {
  /** Path below the top directory (`<node>/`), e.g. `files/etc/kubernetes/manifests/etcd.yaml`. */
  readonly path: string;
  /**
   * File content.
   * @default undefined (a directory)
   */
  readonly content?: string;
  /** Mode (permission bits only). */
  readonly mode: number;
}

/** The directory of the node's root filesystem inside a bundle. */
export const PACKAGE_FILES_DIR = 'files';

/** The installer's name inside every bundle. */
export const INSTALLER_NAME = 'install.sh';

/** SHA-256 of a text, lower-case hex (what `sha256sum` prints). */
export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The installer script (lib/bundle/install.sh), the same for every node. */
export function installerScript(): string {
  // From lib/bundle (ts-jest, ts-node) or build/lib/bundle (compiled): the script stays in lib/bundle.
  const candidates = [path.join(__dirname, INSTALLER_NAME), path.resolve(__dirname, '..', '..', '..', 'lib', 'bundle', INSTALLER_NAME)];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`the installer script is missing (looked at ${candidates.join(', ')}); the package is incomplete`);
  return fs.readFileSync(found, 'utf8');
}

/**
 * Lays out one node's installable bundle (pure: nothing is written):
 *
 * - `install.sh`: the installer (0755);
 * - `NODE`, `CLUSTER`: whose bundle it is (the installer refuses another node);
 * - `VERSION`: the library that made it (`cdk8s-ha-control-plane <version>`), printed by the installer;
 * - `FILES`: what to install, one entry a line: `d <mode> - <path>` for each directory (parents
 *   first), then `f <mode> <sha256> <path>` for each file, host files before manifests;
 * - `SHA256SUMS`: `sha256sum -c` format, over every other file of the bundle;
 * - `files/`: the node's root filesystem (as `synth` writes `dist/<cluster>/<node>/`).
 *
 * @param cluster cluster name
 * @param node node name
 * @param files the node's files (relative to its root)
 * @param installer the installer script text
 * @throws Error for a path or mode the installer cannot carry safely (a newline, backslash or control
 * character, surrounding spaces, setuid bits, or writable by group/others)
 */
export function nodePackage(cluster: string, node: string, files: readonly BundleFile[], installer: string = installerScript()): PackageEntry[] {
  for (const f of files) checkFile(node, f);
  const dirs = new Map<string, number>();
  for (const f of files) {
    const parts = f.path.split('/').slice(0, -1);
    parts.forEach((_, i) => {
      const rel = parts.slice(0, i + 1).join('/');
      dirs.set(rel, directoryMode(rel));
    });
  }
  const dirList = [...dirs].sort(([a], [b]) => compare(a, b));
  const fileList = installOrder([...files].sort((a, b) => compare(a.path, b.path)));
  const octal = (m: number) => `0${m.toString(8).padStart(3, '0')}`;
  const filesIndex = [
    '# kind mode sha256 path: directories (parents first), then files (host files before manifests)',
    ...dirList.map(([d, m]) => `d ${octal(m)} - ${d}`),
    ...fileList.map((f) => `f ${octal(f.mode)} ${sha256(f.content)} ${f.path}`),
  ].join('\n') + '\n';

  const entries: PackageEntry[] = [
    { path: 'CLUSTER', content: `${cluster}\n`, mode: 0o644 },
    { path: 'FILES', content: filesIndex, mode: 0o644 },
    { path: INSTALLER_NAME, content: installer, mode: 0o755 },
    { path: 'NODE', content: `${node}\n`, mode: 0o644 },
    { path: 'VERSION', content: `${PACKAGE_NAME} ${LIBRARY_VERSION}\n`, mode: 0o644 },
    { path: PACKAGE_FILES_DIR, mode: 0o755 },
    ...dirList.map(([d, m]) => ({ path: `${PACKAGE_FILES_DIR}/${d}`, mode: m })),
    ...fileList.map((f) => ({ path: `${PACKAGE_FILES_DIR}/${f.path}`, content: f.content, mode: f.mode })),
  ];
  const sums = entries.filter((e) => e.content !== undefined).sort((a, b) => compare(a.path, b.path))
    .map((e) => `${sha256(e.content!)}  ${e.path}\n`).join('');
  entries.push({ path: 'SHA256SUMS', content: sums, mode: 0o644 });
  return entries.sort((a, b) => compare(a.path, b.path));
}

/** Byte order (as `LC_ALL=C sort`), independent of the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkFile(node: string, f: BundleFile): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(f.path) || f.path.trim() !== f.path || f.path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new InputError(`node ${node}: the file path ${JSON.stringify(`/${f.path}`)} cannot go into an installable bundle (fix: use a plain absolute path without control characters, backslashes, surrounding spaces, or empty, "." or ".." parts)`);
  }
  if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o777 || (f.mode & 0o022) !== 0) {
    throw new InputError(`node ${node}: /${f.path} has mode ${f.mode.toString(8)}, which the bundle installer does not write (fix: use a mode up to 0755 that is not writable by group or others, e.g. 0644, or 0600 for secrets)`);
  }
  if (isManifest(f.path) && path.posix.basename(f.path).startsWith('.')) {
    throw new InputError(`node ${node}: /${f.path} is a dot file in the manifests directory, which the kubelet ignores (fix: give the pod a name that does not start with ".")`);
  }
}
