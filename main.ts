// The app `cdk8s synth` runs: the embedded example cluster (lib/spec/example.ts), written as one
// bundle per node under dist/<cluster>/<node>/.
import { EXAMPLE_SPEC, HaControlPlane, SpecError, StaticPodApp } from './lib';

function main(): void {
  const app = new StaticPodApp();
  const cp = new HaControlPlane(app, EXAMPLE_SPEC.name, { spec: EXAMPLE_SPEC });
  for (const w of cp.plan.warnings) console.error(`warning: ${w.path}: ${JSON.stringify(w.value)} ${w.problem} (fix: ${w.fix})`);
  app.synth();
  for (const [name, chart] of cp.masters) {
    console.log(`${app.outdir}/${chart.bundleDir}: ${chart.staticPods.map((p) => p.podName).join(', ')}`);
    void name;
  }
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
