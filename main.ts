// The app `cdk8s synth` runs: the cluster spec file named by HA_CLUSTER_SPEC (YAML or JSON), or else the
// embedded example (lib/spec/example.ts), written as one bundle per node under dist/<cluster>/<node>/.
// With --bundle (`npm run bundle`) it also writes the installable tarballs, dist/<cluster>/bundles/.
// State (the PKI of pki.mode generate, the encryption key of the hardened profile) lives under
// ha-control-plane-state/<name>/ beside the spec file (the working directory for the embedded example);
// HA_PKI_DIR overrides the PKI directory. The same steps as `ha-control-plane synth` (lib/cli.ts),
// reported the cdk8s way: every file written, on standard error; errors as the CLI reports them.
import { runApp } from './lib/cli';

void runApp(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Done: exit once standard output and error are flushed, without waiting for work V8 still does in the
  // background (optimizing code that will not run again: ~10 ms of every run).
  let open = 2;
  const flushed = () => { if (--open === 0) process.exit(code); };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
});
