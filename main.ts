// The app `cdk8s synth` runs: the cluster spec file named by HA_CLUSTER_SPEC (YAML or JSON), or else the
// embedded example (lib/spec/example.ts), written as one bundle per node under dist/<cluster>/<node>/.
// With --bundle (`npm run bundle`) it also writes the installable tarballs, dist/<cluster>/bundles/.
import { EXAMPLE_SPEC, formatIssue, HaControlPlane, readSpecFile, SpecError, SpecIssue, StaticPodApp, TARBALLS_DIR } from './lib';

function main(): void {
  const file = process.env.HA_CLUSTER_SPEC;
  const loaded = file ? readSpecFile(file) : undefined;
  const spec = loaded?.spec ?? EXAMPLE_SPEC;
  const tarballs = process.argv.slice(2).includes('--bundle');
  const app = new StaticPodApp({ tarballs });
  const cp = new HaControlPlane(app, spec.name, { spec });
  const warnings: readonly SpecIssue[] = loaded?.warnings ?? cp.plan.warnings;
  for (const w of warnings) console.error(`warning: ${formatIssue(w)}`);
  app.synth();
  for (const chart of app.nodeCharts()) {
    console.log(`${app.outdir}/${chart.bundleDir}: ${chart.staticPods.map((p) => p.podName).join(', ')}`);
  }
  if (tarballs) console.log(`${app.outdir}/${spec.name}/${TARBALLS_DIR}/: ${app.nodeCharts().map((c) => `${c.nodeName}.tar.gz`).join(', ')}, SHA256SUMS`);
}

try {
  main();
} catch (e) {
  if (e instanceof SpecError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
