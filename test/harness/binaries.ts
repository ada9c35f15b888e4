/**
 * Where the tests find the real Kubernetes and etcd binaries that scripts/k8s-binaries.sh builds from
 * the Go module proxy: `.cache/bin/k8s/<version>/<command>` and `.cache/bin/etcd/<version>/<command>`,
 * one folder per `tools/<kind>/<version>/` module. A missing binary is an error that says how to build
 * it, never a skip.
 */
import { existsSync, readdirSync } from 'fs';
import { dirname, join, resolve } from 'path';

/** The repository root: the first directory up from here with package.json and tools/ (also when compiled into build/). */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(from: string): string {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'tools'))) return d;
    if (dirname(d) === d) throw new Error(`no repository root (package.json and tools/) above ${from}`);
  }
}

/** Where the built binaries live (HACP_BIN_DIR overrides, e.g. for a git worktree sharing a cache). */
export const BIN_DIR = process.env.HACP_BIN_DIR ? resolve(process.env.HACP_BIN_DIR) : join(REPO_ROOT, '.cache', 'bin');

/** The versions that have a tools/<kind>/<version> module, oldest first ("v1.33.13", …). */
export function toolVersions(kind: 'k8s' | 'etcd'): string[] {
  const dir = join(REPO_ROOT, 'tools', kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((v) => /^v\d+\.\d+\.\d+$/.test(v)).sort(compareVersions);
}

/** Orders "v1.33.13" < "v1.37.2" numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The path of a built Kubernetes command of a release ("v1.37.2"); throws with the build command when absent. */
export function k8sBinary(command: string, version: string): string {
  return builtBinary('k8s', command, version);
}

/** The path of a built etcd command ("etcd", "etcdctl") of a release ("v3.6.8"); throws when absent. */
export function etcdBinary(command: 'etcd' | 'etcdctl', version: string): string {
  return builtBinary('etcd', command, version);
}

/** The release of `kind` built for a minor or line ("1.37" → "v1.37.2", "3.6" → "v3.6.8"), or undefined. */
export function builtVersionOf(kind: 'k8s' | 'etcd', minor: string): string | undefined {
  return toolVersions(kind).filter((v) => v.startsWith(`v${minor}.`)).pop();
}

/**
 * The kubectl for a cluster of `version` ("v1.36.3"): that release's own when it is built, else the built
 * kubectl of the next minor (kubectl supports one minor of skew with the API server, and only the default
 * minor's module builds kubectl; a 1.36 cluster upgraded to 1.37 is then talked to by one kubectl).
 */
export function kubectlFor(version: string): string {
  if (existsSync(join(BIN_DIR, 'k8s', version, 'kubectl'))) return k8sBinary('kubectl', version);
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  const next = builtVersionOf('k8s', `${major}.${minor + 1}`);
  return k8sBinary('kubectl', next && existsSync(join(BIN_DIR, 'k8s', next, 'kubectl')) ? next : version);
}

function builtBinary(kind: 'k8s' | 'etcd', command: string, version: string): string {
  const path = join(BIN_DIR, kind, version, command);
  if (!existsSync(path)) {
    const known = existsSync(join(REPO_ROOT, 'tools', kind, version, 'go.mod'));
    throw new Error(known
      ? `${command} ${version} is not built (${path} is missing): run \`bash scripts/k8s-binaries.sh ${kind}/${version}\` (npm test's pretest does)`
      : `no tools/${kind}/${version}/go.mod: ${command} ${version} is not a release this project builds (known: ${toolVersions(kind).join(', ')})`);
  }
  return path;
}
