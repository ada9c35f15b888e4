/**
 * Every generated haproxy.cfg, nginx.conf and keepalived.conf passes the daemon's own checker —
 * `haproxy -c`, `nginx -t` (with the stream module) and `keepalived -t` — on two lines of daemons
 * (test/harness/lb-daemons.ts): the host's Debian 12 packages (haproxy 2.6, nginx 1.22 with
 * libnginx-mod-stream, keepalived 2.2.7) and Debian unstable's, pinned in scripts/lb-daemons.txt on the
 * same major.minor as the default images (haproxy 3.2, nginx 1.30, keepalived 2.3), over a matrix of
 * specs (3 and 5 masters, haproxy / nginx / lvs-dr / vip-only, masters or dedicated LB hosts, unicast / multicast,
 * VRRPv2 with and without a password, VRRPv3, IPv4 and IPv6, worker local proxies, a custom interface
 * name). Negative controls show that each checker, run exactly this way, does reject a broken config.
 *
 * Needs root, iproute2, util-linux (unshare), the three daemons and the unpacked unstable line — `npm
 * test` installs and unpacks them first (scripts/test-deps.sh, scripts/fetch-lb-daemons.sh). A missing
 * binary fails the test; nothing is skipped. Each line's daemons report the versions the line names.
 *
 * How each checker is run:
 * - haproxy and nginx run inside one private network namespace holding only `lo` (up, so 127.0.0.1
 *   and ::1 exist): no name lookup or packet can leave the machine. nginx gets a private prefix (-p)
 *   whose `modules` links to Debian's module directory, because Debian's
 *   /etc/nginx/modules-enabled/50-mod-stream.conf (which our `include` loads) says
 *   `load_module modules/ngx_stream_module.so;`, a path relative to the prefix.
 * - On the unstable line every daemon runs in a further private mount namespace in which the unpacked
 *   packages' /usr and /etc lie over the host's (read-only overlayfs): its own loader, libraries,
 *   module directory and /etc/nginx/modules-enabled, as in its image. That line needs overlayfs.
 * - keepalived runs in a fresh network namespace per check whose only NIC (a veth) has the
 *   configured interface name and the node's address, and in a private mount namespace in which the
 *   node's own bundle appears at /etc/keepalived, so `enable_script_security` checks the generated
 *   check script (path, owner root, mode) exactly where the config names it. The bundle is laid over
 *   the host's /etc with a read-only overlayfs (lowerdir=<bundle>/etc:/etc) mounted only inside that
 *   mount namespace: nothing on the host changes, /etc/passwd (script_user root) stays visible, and
 *   it works whether or not the host has an /etc/keepalived (overlayfs is needed: without it the
 *   run fails, saying so). On the unstable line the bundle's etc lies above the unpacked packages' etc.
 *   `keepalived -t` exits 0 for a missing config file and for soft problems (an ignored keyword), so
 *   the file's presence is asserted and its output must have no warning or error line.
 *
 * Every command is bounded (spawnSync timeout, SIGKILL); namespaces have names unique to the run and
 * are deleted by exact name; the temp dir is removed.
 */
import { spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join } from 'path';
import { ClusterSpec, MasterSpec } from '../lib';
import { PROXY_TYPE_NAMES, PROXY_TYPES, ProxyType } from '../lib/proxies/registry';
import { assertUnstableLineReady, DAEMON_PATH, LB_DAEMONS, LB_LINES, LbDaemon, LbLine, lineCommand, mountScript, pinnedDaemonVersions, reportedVersion, UNSTABLE_LINE, upstreamVersion } from './harness/lb-daemons';
import { haSpec, render, spec } from './util';

const IP = ['/usr/sbin/ip', '/sbin/ip'].find((p) => existsSync(p)) ?? 'ip';
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p)) ?? 'unshare';
const NGINX_MODULES = ['/usr/share/nginx/modules', '/usr/lib/nginx/modules'].find((p) => existsSync(p));
const CMD_TIMEOUT_MS = 10_000;

/** Lines of `keepalived -t` output that mean a problem even when it exits 0. */
const KEEPALIVED_BAD_LINE = /unknown|warning|error|invalid|ignor|disabl|not support|doesn't exist|does not exist|non-existent|missing|insecure|not found|fail|deprecated/i;
/** Lines of each proxy's config check (`haproxy -c`, `nginx -t`) that mean a problem even when it exits 0. */
const PROXY_BAD_LINE: Readonly<Record<ProxyType, RegExp>> = {
  haproxy: /\[(WARNING|ALERT|NOTICE)\]/,
  nginx: /\[(warn|error|crit|alert|emerg)\]/,
};

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout followed by stderr. */
  readonly output: string;
}

/**
 * Runs a command bounded in time; never throws for a non-zero exit. Its stdout and stderr go to one
 * temp file (not to Node's pipes, which are sockets: nginx cannot open() /dev/stdout on a socket and
 * fails with ENXIO, which the kubelet's container runtime, a pipe, never shows).
 */
function run(cmd: string, args: readonly string[]): Outcome {
  const outFile = join(tmp || tmpdir(), `out-${process.pid}-${++outCounter}`);
  const fd = openSync(outFile, 'wx', 0o600);
  let r;
  try {
    r = spawnSync(cmd, args, { stdio: ['ignore', fd, fd], timeout: CMD_TIMEOUT_MS, killSignal: 'SIGKILL' });
  } finally {
    closeSync(fd);
  }
  const output = readFileSync(outFile, 'utf8');
  rmSync(outFile, { force: true });
  const extra = r.error ? `\n(spawn: ${r.error.message})` : '';
  return { code: r.status, signal: r.signal, output: `${output}${extra}`.trim() };
}
let outCounter = 0;

/** Runs a command that must succeed (namespace plumbing). */
function must(cmd: string, args: readonly string[]): void {
  const r = run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.output}`);
}

// ---------------------------------------------------------------------------------------------------
// Run-wide state: temp dir, namespaces (tracked by exact name), nginx prefix, keepalived mount mode.

const RUN_ID = `hacp-chk-${process.pid}-${randomBytes(3).toString('hex')}`;
const liveNamespaces = new Set<string>();
let nsCounter = 0;
let tmp = '';
/** nginx's prefix per line: its `modules` links to that line's module directory. */
const nginxPrefix: Record<string, string> = {};
let proxyNs = '';

function addNamespace(): string {
  const ns = `${RUN_ID}-${++nsCounter}`;
  must(IP, ['netns', 'add', ns]);
  liveNamespaces.add(ns);
  return ns;
}

function deleteNamespace(ns: string): void {
  if (!liveNamespaces.has(ns)) return;
  liveNamespaces.delete(ns);
  must(IP, ['netns', 'del', ns]);
}

process.once('exit', () => {
  // Last resort should afterAll not run (a crash): the exact names this run created.
  for (const ns of liveNamespaces) spawnSync(IP, ['netns', 'del', ns], { timeout: 5000, killSignal: 'SIGKILL' });
});

/** mkdir -p with 0755 on every directory it creates under `root` (keepalived checks the script's directories). */
function mkdirs(root: string, rel: string): void {
  mkdirSync(root, { recursive: true });
  let p = root;
  for (const part of rel.split('/').filter(Boolean)) {
    p = join(p, part);
    if (!existsSync(p)) {
      mkdirSync(p);
      chmodSync(p, 0o755);
    }
  }
}

/** Writes one node's bundle under `dir`, each file with its exact mode. */
function stageBundle(dir: string, files: Map<string, { content: string; mode: number }>): void {
  for (const [rel, f] of files) {
    mkdirs(dir, dirname(rel));
    const p = join(dir, rel);
    writeFileSync(p, f.content);
    chmodSync(p, f.mode);
  }
}

// ---------------------------------------------------------------------------------------------------
// The three checkers. Each returns its outcome and the problems found (empty = accepted).

interface Check extends Outcome {
  readonly problems: string[];
}

function verdict(o: Outcome, bad: RegExp): Check {
  const problems: string[] = [];
  if (o.signal) problems.push(`killed by ${o.signal} (timeout ${CMD_TIMEOUT_MS} ms?)`);
  else if (o.code !== 0) problems.push(`exit code ${o.code}`);
  for (const line of o.output.split('\n')) if (bad.test(line)) problems.push(line);
  return { ...o, problems };
}

/** What a proxy's config check needs besides its record's argv on this machine. */
const PROXY_CHECK_EXTRA_ARGS: Readonly<Record<ProxyType, (line: LbLine) => string[]>> = {
  haproxy: () => [],
  // A private prefix whose `modules` links to the line's module directory, and an error log in it.
  nginx: (line) => ['-p', `${nginxPrefix[line.name]}/`, '-e', join(nginxPrefix[line.name], 'err.log')],
};

/** A proxy type's config check (its record's configCheck, with the line's daemon) in the proxy namespace. */
function checkProxy(line: LbLine, type: ProxyType, file: string): Check {
  if (!existsSync(file)) return { code: null, signal: null, output: '', problems: [`${file} does not exist`] };
  const [, ...args] = PROXY_TYPES[type].configCheck(file);
  const argv = [DAEMON_PATH[type], ...args, ...PROXY_CHECK_EXTRA_ARGS[type](line)];
  return verdict(run(IP, ['netns', 'exec', proxyNs, ...lineCommand(line, argv)]), PROXY_BAD_LINE[type]);
}

interface KeepalivedTarget {
  /** The node's staged bundle root (holds etc/keepalived/keepalived.conf). */
  readonly bundle: string;
  /** Name of the NIC to create in the check namespace. */
  readonly iface: string;
  /** Address (with prefix length) to put on it, if any. */
  readonly address?: string;
}

function checkKeepalived(line: LbLine, t: KeepalivedTarget): Check {
  const conf = join(t.bundle, 'etc/keepalived/keepalived.conf');
  // keepalived -t exits 0 when the file is missing.
  if (!existsSync(conf)) return { code: null, signal: null, output: '', problems: [`${conf} does not exist`] };
  const ns = addNamespace();
  try {
    must(IP, ['-n', ns, 'link', 'set', 'lo', 'up']);
    const peer = t.iface === 'hacpchkpeer' ? 'hacpchkpeer2' : 'hacpchkpeer';
    must(IP, ['-n', ns, 'link', 'add', t.iface, 'type', 'veth', 'peer', 'name', peer]);
    if (t.address) must(IP, ['-n', ns, 'addr', 'add', t.address, 'dev', t.iface, ...(t.address.includes(':') ? ['nodad'] : [])]);
    must(IP, ['-n', ns, 'link', 'set', peer, 'up']);
    must(IP, ['-n', ns, 'link', 'set', t.iface, 'up']);
    const script = `${mountScript(line, ['$BUNDLE/etc'])} && exec "$@"`;
    const env = [`BUNDLE=${t.bundle}`, ...(line.root ? [`LINE_ROOT=${line.root}`] : [])];
    return verdict(run(IP, ['netns', 'exec', ns, UNSHARE, '--mount', '--propagation', 'private', 'env', ...env, 'sh', '-c', script, 'sh',
      DAEMON_PATH.keepalived, '-t', '-f', '/etc/keepalived/keepalived.conf']), KEEPALIVED_BAD_LINE);
  } finally {
    deleteNamespace(ns);
  }
}

// ---------------------------------------------------------------------------------------------------

beforeAll(() => {
  for (const bin of [IP, UNSHARE, ...LB_DAEMONS.map((d) => DAEMON_PATH[d])]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`bash scripts/test-deps.sh\` (npm test's pretest does)`);
  }
  if (!NGINX_MODULES || !existsSync(join(NGINX_MODULES, 'ngx_stream_module.so'))) {
    throw new Error('nginx\'s stream module is missing: install libnginx-mod-stream (scripts/test-deps.sh does)');
  }
  assertUnstableLineReady();
  tmp = mkdtempSync(join(tmpdir(), 'hacp-lb-checkers-'));
  for (const line of LB_LINES) {
    nginxPrefix[line.name] = join(tmp, `nginx-prefix-${line.name}`);
    mkdirSync(nginxPrefix[line.name]);
    // The unstable line's module directory exists only inside its namespace, at the compiled-in path.
    symlinkSync(line.root ? '/usr/lib/nginx/modules' : realpathSync(NGINX_MODULES), join(nginxPrefix[line.name], 'modules'));
  }

  proxyNs = addNamespace();
  must(IP, ['-n', proxyNs, 'link', 'set', 'lo', 'up']);

  // Can overlayfs lay a bundle over /etc inside a private mount namespace here?
  const probe = join(tmp, 'overlay-probe');
  mkdirs(probe, 'etc/hacp-overlay-probe');
  writeFileSync(join(probe, 'etc/hacp-overlay-probe/ok'), 'ok\n');
  const r = run(UNSHARE, ['--mount', '--propagation', 'private', 'sh', '-c',
    'mount -t overlay hacp-chk -o "ro,lowerdir=$1/etc:/etc" /etc && test -f /etc/hacp-overlay-probe/ok && test -f /etc/passwd', 'sh', probe]);
  if (r.code !== 0) {
    throw new Error(`overlayfs in a private mount namespace does not work here; the keepalived checks and the Debian unstable line need it: ${r.output}`);
  }
});

afterAll(() => {
  const problems: string[] = [];
  for (const ns of [...liveNamespaces]) {
    try { deleteNamespace(ns); } catch (e) { problems.push((e as Error).message); }
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  if (problems.length > 0) throw new Error(`cleanup: ${problems.join('; ')}`);
});

// ---------------------------------------------------------------------------------------------------
// The matrix.

const v4Masters = (n: number): MasterSpec[] => Array.from({ length: n }, (_, i) => ({ name: `master-${i + 1}`, address: `192.168.10.${11 + i}` }));
const v6Masters = (n: number): MasterSpec[] => Array.from({ length: n }, (_, i) => ({ name: `master-${i + 1}`, address: `fd00:10::${11 + i}` }));
const v4LbHosts = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `lb-${i + 1}`, address: `192.168.10.${21 + i}` }));
const v6LbHosts = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `lb-${i + 1}`, address: `fd00:10::${21 + i}` }));
const v4Workers = [{ name: 'worker-1', address: '192.168.10.31' }, { name: 'worker-2', address: '192.168.10.32' }];
const v6Workers = [{ name: 'worker-1', address: 'fd00:10::31' }, { name: 'worker-2', address: 'fd00:10::32' }];
const v6Net = { serviceSubnet: 'fd00:96::/108', podSubnet: 'fd00:244::/56', dnsDomain: 'cluster.local' };
const v6Endpoint = (port: number) => ({ host: 'fd00:10::100', port });

interface Case {
  readonly title: string;
  readonly spec: ClusterSpec;
  /** How many files of each kind the bundles must hold (all of them are checked); a kind left out: none. */
  readonly expect: Partial<Record<Kind, number>>;
}

type Kind = LbDaemon;

const CASES: readonly Case[] = [
  {
    title: '3 masters, haproxy, unicast, VRRPv3 100 ms (the example)',
    spec: haSpec(),
    expect: { haproxy: 3, nginx: 0, keepalived: 3 },
  },
  {
    title: '5 masters, haproxy, unicast, VRRPv3',
    spec: haSpec({ masters: v4Masters(5) }),
    expect: { haproxy: 5, nginx: 0, keepalived: 5 },
  },
  {
    title: '3 masters, nginx, unicast, VRRPv3',
    spec: haSpec({ loadBalancer: { type: 'nginx' } }),
    expect: { haproxy: 0, nginx: 3, keepalived: 3 },
  },
  {
    title: '5 masters, nginx, multicast, VRRPv3',
    spec: haSpec({ masters: v4Masters(5), loadBalancer: { type: 'nginx' }, keepalived: { peering: 'multicast' } }),
    expect: { haproxy: 0, nginx: 5, keepalived: 5 },
  },
  {
    title: '3 masters, haproxy, multicast, VRRPv2 1 s, no password',
    spec: haSpec({ keepalived: { vrrpVersion: 2, advertIntervalMs: 1000, peering: 'multicast' } }),
    expect: { haproxy: 3, nginx: 0, keepalived: 3 },
  },
  {
    title: '5 masters, haproxy, unicast, VRRPv2 1 s, authPass',
    spec: haSpec({ masters: v4Masters(5), keepalived: { vrrpVersion: 2, advertIntervalMs: 1000, authPass: 'k8sVIP1' } }),
    expect: { haproxy: 5, nginx: 0, keepalived: 5 },
  },
  {
    title: '3 masters, nginx, multicast, VRRPv2 2 s, authPass',
    spec: haSpec({ loadBalancer: { type: 'nginx' }, keepalived: { vrrpVersion: 2, advertIntervalMs: 2000, peering: 'multicast', authPass: 'secret' } }),
    expect: { haproxy: 0, nginx: 3, keepalived: 3 },
  },
  {
    title: 'IPv6: 3 masters, haproxy, unicast, VRRPv3, /64',
    spec: haSpec({ masters: v6Masters(3), controlPlaneEndpoint: v6Endpoint(8443), networking: v6Net, keepalived: { vrrpVersion: 3, vipPrefixLength: 64 } }),
    expect: { haproxy: 3, nginx: 0, keepalived: 3 },
  },
  {
    title: 'IPv6: 5 masters, nginx, multicast, VRRPv3 200 ms, workers with a haproxy proxy',
    spec: haSpec({
      masters: v6Masters(5), controlPlaneEndpoint: v6Endpoint(8443), networking: v6Net,
      loadBalancer: { type: 'nginx' }, keepalived: { vrrpVersion: 3, advertIntervalMs: 200, vipPrefixLength: 64, peering: 'multicast' },
      workers: v6Workers, workerProxy: { type: 'haproxy' },
    }),
    expect: { haproxy: 2, nginx: 5, keepalived: 5 },
  },
  {
    title: '2 dedicated LB hosts, haproxy',
    spec: haSpec({ loadBalancers: v4LbHosts(2) }),
    expect: { haproxy: 2, nginx: 0, keepalived: 2 },
  },
  {
    title: '3 dedicated LB hosts, nginx, multicast, 5 masters',
    spec: haSpec({ masters: v4Masters(5), loadBalancers: v4LbHosts(3), loadBalancer: { type: 'nginx' }, keepalived: { peering: 'multicast' } }),
    expect: { haproxy: 0, nginx: 3, keepalived: 3 },
  },
  {
    title: '2 dedicated LB hosts, lvs-dr',
    spec: haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancers: v4LbHosts(2), loadBalancer: { type: 'lvs-dr' } }),
    expect: { haproxy: 0, nginx: 0, keepalived: 2 },
  },
  {
    title: '3 dedicated LB hosts, lvs-dr, 5 masters, VRRPv2 authPass, interface ens192, /livez every 2 s',
    spec: haSpec({
      masters: v4Masters(5), controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancers: v4LbHosts(3),
      loadBalancer: { type: 'lvs-dr', healthCheckPath: '/livez', checkIntervalMs: 2000, fall: 3 },
      keepalived: { interface: 'ens192', vrrpVersion: 2, advertIntervalMs: 1000, authPass: 'lvsPass' },
    }),
    expect: { haproxy: 0, nginx: 0, keepalived: 3 },
  },
  {
    title: 'IPv6: 2 dedicated LB hosts, lvs-dr',
    spec: haSpec({
      masters: v6Masters(3), controlPlaneEndpoint: v6Endpoint(6443), networking: v6Net, loadBalancers: v6LbHosts(2),
      loadBalancer: { type: 'lvs-dr' }, keepalived: { vrrpVersion: 3, vipPrefixLength: 64 },
    }),
    expect: { haproxy: 0, nginx: 0, keepalived: 2 },
  },
  {
    title: '3 masters, vip-only (no proxy), unicast, VRRPv3 100 ms',
    spec: haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancer: { type: 'vip-only' } }),
    expect: { haproxy: 0, nginx: 0, keepalived: 3 },
  },
  {
    title: '5 masters, vip-only, multicast, VRRPv2 1 s, authPass, interface ens192, /livez every 2 s, bindPort 7443',
    spec: haSpec({
      masters: v4Masters(5), controlPlaneEndpoint: { host: '192.168.10.100', port: 7443 }, apiServer: { bindPort: 7443 },
      loadBalancer: { type: 'vip-only', healthCheckPath: '/livez', checkIntervalMs: 2000, fall: 3 },
      keepalived: { interface: 'ens192', vrrpVersion: 2, advertIntervalMs: 1000, peering: 'multicast', authPass: 'vipOnly1' },
    }),
    expect: { haproxy: 0, nginx: 0, keepalived: 5 },
  },
  {
    title: 'IPv6: 3 masters, vip-only, unicast, VRRPv3, /64, workers with an nginx proxy',
    spec: haSpec({
      masters: v6Masters(3), controlPlaneEndpoint: v6Endpoint(6443), networking: v6Net,
      loadBalancer: { type: 'vip-only' }, keepalived: { vrrpVersion: 3, vipPrefixLength: 64 },
      workers: v6Workers, workerProxy: { type: 'nginx' },
    }),
    expect: { haproxy: 0, nginx: 2, keepalived: 3 },
  },
  {
    title: '3 masters, haproxy, workers with an nginx proxy',
    spec: haSpec({ workers: v4Workers, workerProxy: { type: 'nginx' } }),
    expect: { haproxy: 3, nginx: 2, keepalived: 3 },
  },
  {
    title: 'no LB tier, workers with a haproxy proxy on port 7443',
    spec: spec({ workers: v4Workers, workerProxy: { type: 'haproxy', port: 7443 } }),
    expect: { haproxy: 2, nginx: 0, keepalived: 0 },
  },
  {
    title: 'no LB tier, workers with a haproxy proxy (the default type)',
    spec: spec({ workers: v4Workers, workerProxy: {} }),
    expect: { haproxy: 2, nginx: 0, keepalived: 0 },
  },
  {
    title: 'no LB tier, workers with an nginx proxy',
    spec: spec({ workers: v4Workers, workerProxy: { type: 'nginx' } }),
    expect: { haproxy: 0, nginx: 2, keepalived: 0 },
  },
  {
    title: '3 masters, nginx, interface ens192, custom router id and priorities',
    spec: haSpec({ loadBalancer: { type: 'nginx' }, keepalived: { interface: 'ens192', virtualRouterId: 200, priorities: [200, 150, 100] } }),
    expect: { haproxy: 0, nginx: 3, keepalived: 3 },
  },
];

/** Which checker a bundle file needs, by path (from the proxy types' records); null for files that are not LB configs. */
function kindOf(rel: string): Kind | 'unknown' | null {
  if (rel === 'etc/keepalived/keepalived.conf') return 'keepalived';
  if (rel === 'etc/keepalived/check_apiserver.sh') return null;
  for (const t of PROXY_TYPE_NAMES) {
    const { configPath } = PROXY_TYPES[t];
    if (rel === configPath.slice(1) || rel === `etc/kubernetes/kube-apiserver-proxy/${basename(configPath)}`) return t;
  }
  // Anything else in the daemons' directories would escape the checks.
  const dirs = ['etc/kubernetes/kube-apiserver-proxy', 'etc/keepalived', ...PROXY_TYPE_NAMES.map((t) => dirname(PROXY_TYPES[t].configPath).slice(1))];
  if (dirs.some((d) => rel.startsWith(`${d}/`))) return 'unknown';
  return null;
}

/** The address (with prefix) a VRRP node has on its NIC, from the spec. */
function nodeAddress(s: ClusterSpec, node: string): string | undefined {
  const host = [...s.masters, ...(s.loadBalancers ?? [])].find((h) => h.name === node);
  if (!host) return undefined;
  const v6 = host.address.includes(':');
  return `${host.address}/${s.keepalived?.vipPrefixLength ?? (v6 ? 64 : 24)}`;
}

describe.each(LB_LINES.map((l) => [l.name, l] as const))('%s', (_name, line) => {
  test('runs the daemons the line names', () => {
    const reported = Object.fromEntries(LB_DAEMONS.map((d) => [d, reportedVersion(line, d)]));
    if (line === UNSTABLE_LINE) {
      expect(reported).toEqual(pinnedDaemonVersions());
    } else {
      // The host's packages, as dpkg has them installed.
      const pkg = (p: string) => upstreamVersion(spawnSync('dpkg-query', ['-W', '-f', '${Version}', p], { encoding: 'utf8' }).stdout);
      expect(reported).toEqual(Object.fromEntries(LB_DAEMONS.map((d) => [d, pkg(d)])));
      // ... and not the unstable line's: the two lines really are two.
      for (const d of LB_DAEMONS) expect(reported[d]).not.toBe(pinnedDaemonVersions()[d]);
    }
  });

  describe.each(CASES.map((c, i) => [c.title, c, i] as const))('%s', (_title, c, index) => {
    test('every LB config in every bundle passes the real checker', () => {
      const bundles = render(c.spec);
      const none = Object.fromEntries(LB_DAEMONS.map((d) => [d, 0])) as Record<Kind, number>;
      const counts = { ...none };
      const rejected: { node: string; file: string; problems: string[]; output: string }[] = [];
      const unknown: string[] = [];
      for (const [node, files] of bundles) {
        const dir = join(tmp, line.name, `case-${index}`, node);
        stageBundle(dir, files);
        for (const rel of [...files.keys()].sort()) {
          const kind = kindOf(rel);
          if (kind === null) continue;
          if (kind === 'unknown') {
            unknown.push(`${node}/${rel}`);
            continue;
          }
          counts[kind]++;
          const r = kind === 'keepalived'
            ? checkKeepalived(line, { bundle: dir, iface: c.spec.keepalived?.interface ?? 'eth0', address: nodeAddress(c.spec, node) })
            : checkProxy(line, kind, join(dir, rel));
          if (r.problems.length > 0) rejected.push({ node, file: rel, problems: r.problems, output: r.output });
        }
      }
      expect(unknown).toEqual([]);
      expect(rejected).toEqual([]);
      expect(counts).toEqual({ ...none, ...c.expect });
    });
  });

  // ---------------------------------------------------------------------------------------------------
  // Negative controls: each checker, run exactly as above, rejects a broken config.

  describe('negative controls', () => {
    const master = 'master-1';
    /** A staged copy of one node's bundle with one file replaced. */
    function variant(name: string, s: ClusterSpec, node: string, rel: string, edit: (content: string) => string): string {
      const files = new Map(render(s).get(node)!);
      const f = files.get(rel);
      if (!f) throw new Error(`no ${rel} on ${node}`);
      const edited = edit(f.content);
      if (edited === f.content) throw new Error(`the edit of ${rel} for ${name} changed nothing`);
      files.set(rel, { ...f, content: edited });
      const dir = join(tmp, line.name, 'negative', name);
      stageBundle(dir, files);
      return dir;
    }
    const ka = (dir: string, iface = 'eth0') => checkKeepalived(line, { bundle: dir, iface, address: '192.168.10.11/24' });

    test('haproxy -c rejects a misspelt keyword', () => {
      const dir = variant('haproxy-typo', haSpec(), master, 'etc/haproxy/haproxy.cfg', (t) => t.replace('  balance roundrobin', '  balanse roundrobin'));
      const r = checkProxy(line, 'haproxy', join(dir, 'etc/haproxy/haproxy.cfg'));
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/unknown keyword 'balanse'/);
    });

    test('nginx -t rejects an unknown directive', () => {
      const dir = variant('nginx-directive', haSpec({ loadBalancer: { type: 'nginx' } }), master, 'etc/nginx/nginx.conf', (t) => t.replace('    proxy_pass kube_apiserver;', '    proxy_pass kube_apiserver;\n    proxy_pass_typo on;'));
      const r = checkProxy(line, 'nginx', join(dir, 'etc/nginx/nginx.conf'));
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/unknown directive "proxy_pass_typo"/);
    });

    test('nginx -t rejects the config with its `stream {` line removed', () => {
      const dir = variant('nginx-stream', haSpec({ loadBalancer: { type: 'nginx' } }), master, 'etc/nginx/nginx.conf', (t) => t.replace('stream {\n', ''));
      const r = checkProxy(line, 'nginx', join(dir, 'etc/nginx/nginx.conf'));
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/\[emerg\]/);
    });

    test('nginx -t rejects `stream` when the module include is gone (the module really is loaded from Debian\'s dir)', () => {
      const dir = variant('nginx-module', haSpec({ loadBalancer: { type: 'nginx' } }), master, 'etc/nginx/nginx.conf', (t) => t.replace('include /etc/nginx/modules-enabled/*.conf;\n', ''));
      const r = checkProxy(line, 'nginx', join(dir, 'etc/nginx/nginx.conf'));
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/unknown directive "stream"/);
    });

    test('keepalived -t reports an unknown keyword', () => {
      const dir = variant('ka-typo', haSpec(), master, 'etc/keepalived/keepalived.conf', (t) => t.replace('  vrrp_garp_master_refresh 60', '  vrrp_garp_master_refreshx 60'));
      const r = ka(dir);
      expect(r.problems.length).toBeGreaterThan(0);
      expect(r.output).toMatch(/Unknown keyword 'vrrp_garp_master_refreshx'/);
    });

    test('keepalived -t reports authentication with VRRPv3', () => {
      const dir = variant('ka-v3-auth', haSpec(), master, 'etc/keepalived/keepalived.conf', (t) => t.replace('  virtual_ipaddress {', '  authentication {\n    auth_type PASS\n    auth_pass abc\n  }\n  virtual_ipaddress {'));
      const r = ka(dir);
      expect(r.problems.length).toBeGreaterThan(0);
      expect(r.output).toMatch(/VRRP version 3 does not support authentication/);
    });

    test('keepalived -t reports an interface the namespace does not have', () => {
      const dir = join(tmp, line.name, 'negative', 'ka-iface');
      stageBundle(dir, render(haSpec({ keepalived: { interface: 'ens192' } })).get(master)!);
      const r = ka(dir, 'eth0');
      expect(r.problems.length).toBeGreaterThan(0);
      expect(r.output).toMatch(/interface ens192 for vrrp_instance VI_51 doesn't exist/);
      // ... and accepts the same config where ens192 exists.
      expect(ka(dir, 'ens192').problems).toEqual([]);
    });

    test('keepalived -t reports a misspelt keyword in vip-only\'s track_process block (it reads that block)', () => {
      const s = haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancer: { type: 'vip-only' } });
      const dir = variant('ka-vip-only-typo', s, master, 'etc/keepalived/keepalived.conf', (t) => t.replace('  fork_delay 3', '  fork_dealy 3'));
      const r = ka(dir);
      expect(r.problems.length).toBeGreaterThan(0);
      expect(r.output).toMatch(/Unknown keyword 'fork_dealy'/);
    });

    test('keepalived -t sees the bundle\'s own check script at /etc/keepalived (missing or insecure is reported)', () => {
      const files = new Map(render(haSpec()).get(master)!);
      const script = files.get('etc/keepalived/check_apiserver.sh')!;
      files.delete('etc/keepalived/check_apiserver.sh');
      const missing = join(tmp, line.name, 'negative', 'ka-no-script');
      stageBundle(missing, files);
      const r1 = ka(missing);
      expect(r1.problems.length).toBeGreaterThan(0);
      expect(r1.output).toMatch(/Disabling track script chk_load_balancer since not found/);

      files.set('etc/keepalived/check_apiserver.sh', { ...script, mode: 0o777 });
      const insecure = join(tmp, line.name, 'negative', 'ka-insecure-script');
      stageBundle(insecure, files);
      const r2 = ka(insecure);
      expect(r2.problems.length).toBeGreaterThan(0);
      expect(r2.output).toMatch(/Disabling track script chk_load_balancer due to insecure/);
    });

    test('a missing keepalived.conf is reported (keepalived -t itself exits 0 for it)', () => {
      const dir = join(tmp, line.name, 'negative', 'ka-no-conf');
      mkdirSync(dir, { recursive: true });
      const raw = run(IP, ['netns', 'exec', proxyNs, ...lineCommand(line, [DAEMON_PATH.keepalived, '-t', '-f', join(dir, 'etc/keepalived/keepalived.conf')])]);
      expect(raw.code).toBe(0);
      expect(ka(dir).problems).toEqual([`${join(dir, 'etc/keepalived/keepalived.conf')} does not exist`]);
    });
  });
});
