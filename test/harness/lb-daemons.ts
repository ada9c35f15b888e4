/**
 * The two lines of real LB daemons the config tests run (test/lb-checkers.test.ts):
 *
 * - `debian-stable`: the host's Debian packages (Debian 12: haproxy 2.6, nginx 1.22 with
 *   libnginx-mod-stream, keepalived 2.2.7), which scripts/test-deps.sh installs;
 * - `debian-unstable`: Debian unstable's haproxy, nginx (+ stream module) and keepalived pinned in
 *   scripts/lb-daemons.txt with every library they load — the same major.minor as the default images
 *   (LB_IMAGES; test/lb-images.test.ts) — which scripts/fetch-lb-daemons.sh unpacks (never installs)
 *   into .cache/debs and merges into .cache/debs/root-unstable/{usr,etc}.
 *
 * A command of the unstable line runs in a private mount namespace in which that merged /usr and /etc
 * lie over the host's (read-only overlayfs; nothing on the host changes), so each daemon runs as its
 * image would: its own dynamic loader and libraries, nginx's module directory and keepalived's
 * /etc/keepalived/keepalived.config-opts at their compiled-in paths, /proc/self/exe the daemon.
 * Anything missing is an error that says how to get it, never a skip.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { PROXY_TYPE_NAMES, ProxyType } from '../../lib/proxies/registry';
import { REPO_ROOT } from './binaries';

/** The daemons the configs are checked with: every proxy type's (lib/proxies/registry.ts) and keepalived. */
export type LbDaemon = ProxyType | 'keepalived';
export const LB_DAEMONS: readonly LbDaemon[] = [...PROXY_TYPE_NAMES, 'keepalived'];

/** The pinned list of the unstable line. */
export const LB_DAEMONS_LIST = join(REPO_ROOT, 'scripts', 'lb-daemons.txt');
/** Where scripts/fetch-lb-daemons.sh unpacks (HACP_DEB_DIR overrides, as the script's). */
export const DEB_DIR = process.env.HACP_DEB_DIR ? resolve(process.env.HACP_DEB_DIR) : join(REPO_ROOT, '.cache', 'debs');

/** One pinned package: "package version filename sha256". */
export interface PinnedDeb {
  readonly name: string;
  /** The Debian version ("1:2.3.4-1+b2"). */
  readonly version: string;
  readonly filename: string;
  readonly sha256: string;
}

/** The packages scripts/lb-daemons.txt pins, in its order. */
export function pinnedDebs(): PinnedDeb[] {
  return readFileSync(LB_DAEMONS_LIST, 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))
    .map((l) => {
      const [name, version, filename, sha256, ...rest] = l.trim().split(/\s+/);
      if (!sha256 || rest.length > 0 || !/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${LB_DAEMONS_LIST}: malformed line "${l}" (want: package version filename sha256)`);
      return { name, version, filename, sha256 };
    });
}

/** The upstream version of a Debian version: "1:2.3.4-1+b2" → "2.3.4". */
export function upstreamVersion(debianVersion: string): string {
  return debianVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

/** The upstream versions of the three daemons the unstable line pins. */
export function pinnedDaemonVersions(): Record<LbDaemon, string> {
  const debs = pinnedDebs();
  const of = (d: LbDaemon) => {
    const deb = debs.find((p) => p.name === d);
    if (!deb) throw new Error(`${LB_DAEMONS_LIST} pins no ${d} package`);
    return upstreamVersion(deb.version);
  };
  return Object.fromEntries(LB_DAEMONS.map((d) => [d, of(d)])) as Record<LbDaemon, string>;
}

export interface LbLine {
  readonly name: 'debian-stable' | 'debian-unstable';
  /** For messages: where the daemons come from. */
  readonly description: string;
  /** The merged tree laid over /usr and /etc (unstable only). */
  readonly root?: string;
}

export const STABLE_LINE: LbLine = { name: 'debian-stable', description: 'the host\'s Debian packages (scripts/test-deps.sh)' };
export const UNSTABLE_LINE: LbLine = {
  name: 'debian-unstable',
  description: 'Debian unstable\'s packages pinned in scripts/lb-daemons.txt, unpacked into .cache/debs',
  root: join(DEB_DIR, 'root-unstable'),
};
export const LB_LINES: readonly LbLine[] = [STABLE_LINE, UNSTABLE_LINE];

/** Where the daemons are inside a line's namespace (the same paths on both lines). */
export const DAEMON_PATH: Readonly<Record<LbDaemon, string>> = { haproxy: '/usr/sbin/haproxy', nginx: '/usr/sbin/nginx', keepalived: '/usr/sbin/keepalived' };

/** What each daemon's `-v` prints: the version is the first group. */
const VERSION_PATTERN: Readonly<Record<LbDaemon, RegExp>> = {
  haproxy: /HAProxy version (\d+\.\d+\.\d+)/,
  nginx: /nginx version: nginx\/(\d+\.\d+\.\d+)/,
  keepalived: /Keepalived v(\d+\.\d+\.\d+)/,
};

const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p)) ?? 'unshare';

/**
 * Throws, saying how to get it, unless the unstable line's merged tree is there and was merged from
 * the list as it is now.
 */
export function assertUnstableLineReady(): void {
  const root = UNSTABLE_LINE.root!;
  const fix = 'run `bash scripts/fetch-lb-daemons.sh` (npm test\'s pretest, scripts/test-deps.sh, does)';
  if (!existsSync(join(root, '.list-sha256'))) throw new Error(`Debian unstable's LB daemons are not unpacked (${root} is missing): ${fix}`);
  const want = createHash('sha256').update(readFileSync(LB_DAEMONS_LIST)).digest('hex');
  const have = readFileSync(join(root, '.list-sha256'), 'utf8').trim();
  if (have !== want) throw new Error(`${root} was merged from another scripts/lb-daemons.txt: ${fix}`);
  for (const d of LB_DAEMONS) {
    if (!existsSync(join(root, DAEMON_PATH[d]))) throw new Error(`${join(root, DAEMON_PATH[d])} is missing: ${fix}`);
  }
}

/**
 * The shell commands that lay a line's merged tree over /usr and /etc; `etcLower` are more overlay
 * layers above it for /etc (a bundle's etc). For the stable line only the /etc layers, if any.
 * Meant for `sh -c` inside a private mount namespace; `$LINE_ROOT` must hold the line's root.
 */
export function mountScript(line: LbLine, etcLower: readonly string[] = []): string {
  const mounts: string[] = [];
  if (line.root) mounts.push('mount -t overlay hacp-usr -o "ro,lowerdir=$LINE_ROOT/usr:/usr" /usr');
  const etc = [...etcLower, ...(line.root ? ['$LINE_ROOT/etc'] : [])];
  if (etc.length > 0) mounts.push(`mount -t overlay hacp-etc -o "ro,lowerdir=${etc.join(':')}:/etc" /etc`);
  return mounts.join(' && ');
}

/**
 * argv that runs `argv` with the line's daemons: itself on the stable line, in a private mount
 * namespace with the merged tree laid over /usr and /etc on the unstable line.
 */
export function lineCommand(line: LbLine, argv: readonly string[]): string[] {
  if (!line.root) return [...argv];
  return [UNSHARE, '--mount', '--propagation', 'private', 'env', `LINE_ROOT=${line.root}`, 'sh', '-c', `${mountScript(line)} && exec "$@"`, 'sh', ...argv];
}

/** The version a line's daemon reports (`-v`), e.g. "3.2.26"; throws with its output when unreadable. */
export function reportedVersion(line: LbLine, daemon: LbDaemon): string {
  const argv = lineCommand(line, [DAEMON_PATH[daemon], '-v']);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = VERSION_PATTERN[daemon].exec(out);
  if (!m) throw new Error(`${line.name}: ${argv.join(' ')} printed no version (exit ${r.status ?? r.signal}): ${out.trim() || r.error?.message}`);
  return m[1];
}

/** "3.2.26" → "3.2". */
export function majorMinor(version: string): string {
  const m = /^(\d+)\.(\d+)(?:\.|$)/.exec(version);
  if (!m) throw new Error(`"${version}" is not a version`);
  return `${m[1]}.${m[2]}`;
}
