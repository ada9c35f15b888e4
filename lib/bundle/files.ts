import * as fs from 'node:fs';
import * as path from 'node:path';
import { BundleFile, directoryMode, installOrder } from './layout';
import type * as Tarball from './tarball';
import { writeNewFile } from '../util/files';

export { BundleFile, DIRECTORY_MODES } from './layout';

/**
 * Creates a directory chain under root with explicit modes (umask-independent); `made` holds the
 * directories already made this way, which are left as they are.
 */
function ensureDir(root: string, rel: string, made: Set<string>): void {
  let current = root;
  let relSoFar = '';
  for (const part of rel.split('/').filter(Boolean)) {
    current = path.join(current, part);
    relSoFar = relSoFar ? `${relSoFar}/${part}` : part;
    if (made.has(current)) continue;
    if (!fs.existsSync(current)) fs.mkdirSync(current);
    fs.chmodSync(current, directoryMode(relSoFar));
    made.add(current);
  }
}

/** Options of {@link writeBundles}. */
export interface WriteBundlesOptions {
  /**
   * Also write an installable tarball per node, `<cluster>/bundles/<node>.tar.gz` (with its installer
   * and SHA256SUMS inside), and `<cluster>/bundles/SHA256SUMS` over the tarballs.
   * @default false
   */
  readonly tarballs?: boolean;
  /**
   * Files of a whole cluster by cluster name, relative to `<cluster>/` (e.g. `ansible/inventory.yml`).
   * @default none
   */
  readonly clusterFiles?: ReadonlyMap<string, readonly BundleFile[]>;
}

/**
 * Writes node bundles so that a reader never sees a half-written one: everything goes into a staging
 * directory beside the target; then each cluster directory is swapped in with a rename. Host files are
 * written before manifests, mirroring the install order on a node. The files are not flushed to disk
 * one by one (as cdk8s and kubeadm write theirs): the output is made again by a synth, the tarballs
 * carry checksums that install.sh and the playbooks verify, and install.sh flushes what it installs on
 * the node. The state a synth stores (keys, certificates) is written and flushed file by file
 * (writeFileAtomic).
 *
 * @param outdir the output directory (created if missing)
 * @param bundles cluster name → node name → files
 * @param options what else to write
 */
export function writeBundles(outdir: string, bundles: ReadonlyMap<string, ReadonlyMap<string, readonly BundleFile[]>>, options: WriteBundlesOptions = {}): void {
  fs.mkdirSync(outdir, { recursive: true });
  for (const [cluster, nodes] of bundles) {
    const staging = fs.mkdtempSync(path.join(outdir, `.${cluster}.staging-`));
    const made = new Set<string>();
    try {
      fs.chmodSync(staging, 0o755);
      for (const [node, files] of nodes) {
        const nodeRoot = path.join(staging, node);
        fs.mkdirSync(nodeRoot, { mode: 0o755 });
        for (const f of installOrder(files)) {
          ensureDir(nodeRoot, path.posix.dirname(f.path), made);
          writeNewFile(path.join(nodeRoot, f.path), f.content, f.mode);
        }
      }
      // Loaded only by a synth that makes tarballs (it loads the tar package and the installer).
      if (options.tarballs) (require('./tarball') as typeof Tarball).writeTarballs(staging, cluster, nodes);
      for (const f of options.clusterFiles?.get(cluster) ?? []) {
        ensureDir(staging, path.posix.dirname(f.path), made);
        writeNewFile(path.join(staging, f.path), f.content, f.mode);
      }
      const target = path.join(outdir, cluster);
      const old = `${staging}.old`;
      if (fs.existsSync(target)) fs.renameSync(target, old);
      fs.renameSync(staging, target);
      fs.rmSync(old, { recursive: true, force: true });
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
}
