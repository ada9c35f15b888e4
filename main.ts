// The app `cdk8s synth` runs: the cluster spec file named by HA_CLUSTER_SPEC (YAML or JSON), or else the
// embedded example (lib/spec/example.ts), written as one bundle per node under dist/<cluster>/<node>/.
// With --bundle (`npm run bundle`) it also writes the installable tarballs, dist/<cluster>/bundles/.
// State (the PKI of pki.mode generate, the encryption key of the hardened profile) lives under
// ha-control-plane-state/<name>/ beside the spec file (the working directory for the embedded example);
// HA_PKI_DIR overrides the PKI directory.
import * as path from 'node:path';
import { EXAMPLE_SPEC, HaControlPlane, InputError, preparePki, readSpecFile, SpecError, StaticPodApp } from './lib';

async function main(): Promise<void> {
  const file = process.env.HA_CLUSTER_SPEC;
  const loaded = file ? readSpecFile(file) : undefined;
  const spec = loaded?.spec ?? EXAMPLE_SPEC;
  const tarballs = process.argv.slice(2).includes('--bundle');
  const baseDir = file ? path.dirname(path.resolve(file)) : process.cwd();
  // The app's reporter (stderr) prints the warnings, the state it stored and every file it wrote.
  const app = new StaticPodApp({ tarballs });
  const pki = spec.pki?.mode === 'generate'
    ? await preparePki(spec, { dir: process.env.HA_PKI_DIR ? path.resolve(process.env.HA_PKI_DIR) : undefined, baseDir, outdir: app.outdir, write: false })
    : undefined;
  new HaControlPlane(app, spec.name, { spec, pki, baseDir, warnings: loaded?.warnings });
  app.synth(); // stores new state (PKI, encryption key) first, then writes the bundles, then reports
}

main().catch((e) => {
  if (SpecError.isSpecError(e)) {
    console.error(e.message);
    process.exit(1);
  }
  // Errors the user can fix (InputError): their message is the whole story; anything else is a bug.
  if (InputError.isInputError(e) && !process.env.HA_CONTROL_PLANE_DEBUG) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  console.error(e);
  process.exit(70);
});
