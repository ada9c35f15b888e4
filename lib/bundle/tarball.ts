import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Tar from 'tar';
import { BundleFile, TARBALLS_DIR } from './layout';
import { installerScript, nodePackage, PackageEntry, sha256 } from './package';
import { InputError } from '../spec/errors';

export { TARBALLS_DIR } from './layout';

/**
 * The modification time of every entry: fixed, so the same input gives byte-identical tarballs
 * (2000-01-01T00:00:00Z; GNU tar warns about time stamps at the epoch).
 */
export const TARBALL_MTIME = new Date(Date.UTC(2000, 0, 1));

/**
 * Writes a deterministic gzipped tarball of a bundle: entries under `<top>/`, sorted, with their
 * modes, a fixed mtime and no owner (uid/gid 0, no user or group names), via the `tar` package.
 * The entries are staged in a temporary directory beside the tarball, removed afterwards.
 *
 * @param file the tarball to write (0600: it may hold keys, kubeconfigs or the encryption key)
 * @param top the top directory inside the tarball (the node name)
 * @param entries the bundle's files and directories
 */
export function writeTarball(file: string, top: string, entries: readonly PackageEntry[]): void {
  const stage = fs.mkdtempSync(path.join(path.dirname(file), '.pack-'));
  try {
    fs.mkdirSync(path.join(stage, top));
    fs.chmodSync(path.join(stage, top), 0o755);
    const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const e of sorted) {
      const p = path.join(stage, top, e.path);
      if (e.content === undefined) fs.mkdirSync(p);
      else fs.writeFileSync(p, e.content, { mode: e.mode });
      fs.chmodSync(p, e.mode); // the umask must not change what the tarball records
    }
    // Loaded here, not with this module: only a synth with tarballs needs the tar package.
    const tar = require('tar') as typeof Tar;
    tar.create({
      sync: true,
      file,
      cwd: stage,
      gzip: true,
      portable: true, // no uid/gid/uname/atime/ctime, and the gzip header's OS byte fixed
      mtime: TARBALL_MTIME,
      noDirRecurse: true,
    }, [top, ...sorted.map((e) => `${top}/${e.path}`)]);
    fs.chmodSync(file, 0o600);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Writes `<clusterDir>/bundles/<node>.tar.gz` for every node, and `<clusterDir>/bundles/SHA256SUMS`
 * over the tarballs.
 *
 * @returns node name → SHA-256 of its tarball
 * @throws Error when a node is named like the tarball directory, or a file cannot be bundled
 */
export function writeTarballs(clusterDir: string, cluster: string, nodes: ReadonlyMap<string, readonly BundleFile[]>): Map<string, string> {
  const packages = nodePackages(cluster, nodes);
  const dir = path.join(clusterDir, TARBALLS_DIR);
  fs.mkdirSync(dir);
  fs.chmodSync(dir, 0o755);
  const sums = new Map<string, string>();
  for (const [node, entries] of packages) {
    const file = path.join(dir, `${node}.tar.gz`);
    writeTarball(file, node, entries);
    sums.set(node, sha256(fs.readFileSync(file)));
  }
  const lines = [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([node, sum]) => `${sum}  ${node}.tar.gz\n`);
  fs.writeFileSync(path.join(dir, 'SHA256SUMS'), lines.join(''));
  fs.chmodSync(path.join(dir, 'SHA256SUMS'), 0o644);
  return sums;
}

/**
 * Lays out every node's installable bundle in memory (what {@link writeTarballs} packs), checking
 * that each can be made.
 *
 * @throws Error when a node is named like the tarball directory, or a file cannot be bundled
 */
export function nodePackages(cluster: string, nodes: ReadonlyMap<string, readonly BundleFile[]>): Map<string, PackageEntry[]> {
  if (nodes.has(TARBALLS_DIR)) {
    throw new InputError(`cluster ${cluster}: a node named "${TARBALLS_DIR}" would share its directory with the installable bundles (fix: rename the node)`);
  }
  const installer = installerScript();
  return new Map([...nodes].map(([node, files]) => [node, nodePackage(cluster, node, files, installer)]));
}
