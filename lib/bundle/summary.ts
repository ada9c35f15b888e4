import * as path from 'node:path';
import { BundleFile, installOrder, TARBALLS_DIR } from './layout';

/**
 * What a synth wrote, per node: a heading `<outdir>/<cluster>/<node>/ (<what>)` and one line per file,
 * `  /<path> <mode>`, host files first (the install order); with tarballs, one line per cluster for them.
 *
 * @param outdir the output directory as it should be shown
 * @param bundles cluster → node → files
 * @param describe a short description of a node (its role and pods), or '' for none
 * @param tarballs whether the installable tarballs were written too
 */
export function bundleSummary(outdir: string, bundles: ReadonlyMap<string, ReadonlyMap<string, readonly BundleFile[]>>,
  describe: (cluster: string, node: string) => string = () => '', tarballs = false): string[] {
  const lines: string[] = [];
  for (const [cluster, nodes] of bundles) {
    for (const [node, files] of nodes) {
      const what = describe(cluster, node);
      lines.push(`${path.posix.join(outdir, cluster, node)}/ (${what ? `${what}; ` : ''}${files.length} files)`);
      for (const f of installOrder(files)) lines.push(`  /${f.path} 0${f.mode.toString(8).padStart(3, '0')}`);
    }
    if (tarballs) lines.push(`${path.posix.join(outdir, cluster, TARBALLS_DIR)}/: ${[...nodes.keys()].map((n) => `${n}.tar.gz`).join(', ')}, SHA256SUMS`);
  }
  return lines;
}
