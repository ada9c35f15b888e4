/**
 * Runs the real kubeadm (built by scripts/k8s-binaries.sh) on a throw-away root filesystem: a private
 * mount namespace, `chroot` into a temp directory holding only the kubeadm binary (bind-mounted),
 * /proc, /dev, an empty /tmp, the CA directories of a Debian/Ubuntu host (kubeadm mounts those that
 * exist on the node) and the files given. Nothing on this machine outside the temp directory is read
 * or written, and the environment is empty (kubeadm copies proxy variables into the pods).
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { k8sBinary } from './binaries';

/** The CA directories kubeadm finds on a Debian/Ubuntu node (the library's default caCertificatePaths). */
export const DEBIAN_CA_DIRS = ['/etc/ssl/certs', '/etc/ca-certificates', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates'];

/** What one kubeadm run returned, and the files it left under /etc/kubernetes. */
export interface KubeadmRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Path below /etc/kubernetes (e.g. "manifests/etcd.yaml") → content, after the run. */
  readonly files: ReadonlyMap<string, string>;
}

/**
 * Runs `kubeadm <args>` of a release ("v1.37.2") in a scratch root. `files` maps absolute paths in that
 * root to content (e.g. "/etc/kubernetes/kubeadm-config.yaml"). Several commands may be chained: each
 * runs in the same root, one after the other, and the first that fails stops the chain.
 */
export function runKubeadm(version: string, commands: readonly (readonly string[])[], files: Readonly<Record<string, string>> = {}, where: KubeadmWhere = {}): KubeadmRun {
  const bin = k8sBinary('kubeadm', version);
  const root = where.root ?? mkdtempSync(join(tmpdir(), 'hacp-kubeadm-'));
  try {
    for (const d of ['proc', 'dev', 'tmp', 'etc/kubernetes', ...DEBIAN_CA_DIRS.map((p) => p.slice(1))]) mkdirSync(join(root, d), { recursive: true });
    if (!existsSync(join(root, 'kubeadm'))) writeFileSync(join(root, 'kubeadm'), '');
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content, { mode: 0o600 });
    }
    const chain = commands.map((_, i) => `chroot "$1" /kubeadm "\${@:${argIndex(commands, i)}:${commands[i].length}}"`).join(' && ');
    const script = `set -e; mount --bind "$2" "$1/kubeadm"; mount --rbind /dev "$1/dev"; mount -t proc proc "$1/proc"; ${chain}`;
    const argv = ['unshare', '--mount', '--propagation', 'private', 'bash', '-c', script, 'bash', root, bin, ...commands.flat()];
    const r = spawnSync(where.netns ? 'ip' : argv[0], where.netns ? ['netns', 'exec', where.netns, ...argv] : argv.slice(1), {
      encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    if (r.error) throw new Error(`kubeadm ${version}: ${r.error.message}`);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, files: readTree(join(root, 'etc/kubernetes')) };
  } finally {
    if (!where.root) rmSync(root, { recursive: true, force: true });
  }
}

/** Where kubeadm runs: a node's installed root (kept) instead of a scratch one, inside its network namespace. */
export interface KubeadmWhere {
  /** An existing root directory to chroot into; it is kept. @default a scratch directory, removed after */
  readonly root?: string;
  /** The network namespace to run in. @default this process's */
  readonly netns?: string;
}

/** 1-based position of command i's first argument among bash's positional parameters ($1 root, $2 binary). */
function argIndex(commands: readonly (readonly string[])[], i: number): number {
  return 3 + commands.slice(0, i).reduce((n, c) => n + c.length, 0);
}

function readTree(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of readTree(join(dir, e.name), rel)) out.set(k, v);
    else if (e.isFile()) out.set(rel, readFileSync(join(dir, e.name), 'utf8'));
  }
  return out;
}

/** Throws with kubeadm's own output unless the run succeeded. */
export function expectOk(run: KubeadmRun, what: string): KubeadmRun {
  if (run.code !== 0) throw new Error(`${what}: kubeadm exited ${run.code}\n${run.stderr}\n${run.stdout}`);
  return run;
}

/** `kubeadm config images list` of a release: image name → tag. */
export function kubeadmImages(version: string): Map<string, string> {
  const run = expectOk(runKubeadm(version, [['config', 'images', 'list', '--kubernetes-version', version]]), `kubeadm ${version} config images list`);
  const out = new Map<string, string>();
  for (const line of run.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const at = line.lastIndexOf(':');
    out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

/**
 * What the real kubeadm writes for a kubeadm config: `config validate`, then the control-plane phase
 * and, with local etcd, the etcd phase, as `kubeadm init` runs them. Returns manifest name → content.
 */
export function kubeadmManifests(version: string, config: string, localEtcd: boolean): { validate: KubeadmRun; manifests: Map<string, string> } {
  const cfg = '/etc/kubernetes/kubeadm-config.yaml';
  const validate = expectOk(runKubeadm(version, [['config', 'validate', '--config', cfg]], { [cfg]: config }), `kubeadm ${version} config validate`);
  const phases: string[][] = [['init', 'phase', 'control-plane', 'all', '--config', cfg]];
  if (localEtcd) phases.push(['init', 'phase', 'etcd', 'local', '--config', cfg]);
  const run = expectOk(runKubeadm(version, phases, { [cfg]: config }), `kubeadm ${version} init phases`);
  const manifests = new Map<string, string>();
  for (const [path, content] of run.files) if (path.startsWith('manifests/')) manifests.set(path.slice('manifests/'.length), content);
  return { validate, manifests };
}
