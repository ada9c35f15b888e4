/**
 * A fail-over lab: a synthesized 3-master cluster whose generated LB/VIP tier runs as real daemons in
 * network namespaces, with a client that measures what it sees while faults are injected.
 *
 * Three kinds of VIP tier (LbKind): haproxy or nginx behind the VIP, or `vip-only` (keepalived alone on
 * the masters, clients reach the VIP holder's API server stand-in directly on the bind port, 6443).
 *
 * Two layouts (Layout): `masters` (the LB/VIP tier on the masters) and `lb-hosts` (the spec sets
 * `loadBalancers`: two dedicated hosts lb1, lb2 carry keepalived and the proxy, fed from their own
 * generated bundles; the masters run only etcd and the API server stand-in). Both go through the same
 * code: the "LB nodes" are the masters in one layout and the LB hosts in the other.
 *
 * Namespaces (createLab): m1, m2, m3 (the masters), lb1, lb2 (lb-hosts layout only) and a client, on one
 * bridge in a namespace of its own; the LB nodes' NIC carries the configured keepalived interface name
 * (eth0 by default, renamed here if the spec says otherwise); the addresses (10.234.x.0/24, VIP .100)
 * exist only inside them. Per master:
 * - an HTTPS stand-in for kube-apiserver on the bind port (a tiny Node server, certificate made by
 *   openssl) answering 200 on every path;
 * - optionally the etcd member (Debian's etcd 3.4, the generated command, certificates via certs.ts,
 *   its pki and data dirs bind-mounted as in etcd-real.test.ts).
 * Per LB node (a master, or an LB host):
 * - the load balancer, run with the command of the node's generated static pod: Debian's haproxy
 *   2.6 with the bundle's etc/haproxy bind-mounted over /etc/haproxy, or nginx 1.22 with the bundle's
 *   nginx.conf over /etc/nginx/nginx.conf (the host's modules-enabled stays visible for the stream
 *   module) and a private /tmp (the generated `pid /tmp/nginx.pid`);
 * - keepalived 2.2.7, run with the command of the generated static pod, the bundle's etc/keepalived
 *   (keepalived.conf and the check script) bind-mounted over /etc/keepalived, so enable_script_security
 *   checks the generated script at its absolute path, and a private /run (pid files: several keepalived
 *   share this host). It starts once the local LB answers, as the design asks.
 * All bind mounts live in private mount namespaces (withBindMounts); the host's mount table is untouched.
 * The client requests https://VIP:<port>/readyz every 50 ms on a fresh TLS connection with a 500 ms
 * deadline and logs every outcome with timestamps.
 *
 * EMULATION (stated in every output): keepalived's `track_process` listens on the kernel's proc
 * connector, which only the initial network namespace has, so inside a test namespace it never sees the
 * load balancer die. The harness rewrites the generated `vrrp_track_process` block (and its reference
 * in the instance) into a `track_file` with the same name and weight 0, and runs a watcher per LB node
 * that polls the tracked processes (the load balancer's; with vip-only the API server stand-in's) every
 * WATCH_INTERVAL_MS and writes 1 to that file once they are all gone (0 while any is alive). vip-only's
 * `fork_delay` has no counterpart: no scenario here restarts the tracked process. Everything else in keepalived.conf is exactly as generated
 * (except in the "kubeadm-guide" profile, whose edits are listed at PROFILES).
 * Other edits: haproxy.cfg gets `no strict-limits` when this process's hard fd limit is below what its
 * `maxconn` needs (see HAPROXY_FD_NOTE). Experiments may pass their own `edit`.
 *
 * Every process is started through createLab (tracked by PID, own process group, pdeathsig) and every
 * wait is bounded; `destroy()` stops the processes and deletes exactly the lab's namespaces, also when
 * a start fails half-way.
 */
import { render } from '../util';
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { parse } from 'yaml';
import { ClusterSpec } from '../../lib';
import { EtcdCa, makeCa, makeEtcdCa, makeEtcdMemberPki, makeLeaf } from './certs';
import { createLab, ExecResult, Lab, LabProcess, withBindMounts } from './netns';

export const BINARIES = {
  keepalived: '/usr/sbin/keepalived',
  haproxy: '/usr/sbin/haproxy',
  nginx: '/usr/sbin/nginx',
  etcd: '/usr/bin/etcd',
  etcdctl: '/usr/bin/etcdctl',
  curl: '/usr/bin/curl',
} as const;

const IP = ['/usr/sbin/ip', '/sbin/ip'].find((p) => existsSync(p)) ?? 'ip';

/** How often the track_process stand-in looks at the load balancer's processes. */
export const WATCH_INTERVAL_MS = 25;

/** The line every report prints about the track_process emulation. */
export const TRACK_PROCESS_NOTE = 'track_process is EMULATED: the kernel proc connector keepalived uses exists only in the initial network '
  + `namespace, so the generated vrrp_track_process block is rewritten into a weight-0 track_file written by a watcher that polls the LB's PIDs `
  + `(vip-only: the API server stand-in's) every ${WATCH_INTERVAL_MS} ms`;

/** The VIP tier: a proxy (haproxy, nginx) behind the VIP, or none (vip-only: the VIP on the API servers). */
export type LbKind = 'haproxy' | 'nginx' | 'vip-only';

/** The proxy a VIP tier runs (none for vip-only). */
export const proxyOfKind = (lb: LbKind): 'haproxy' | 'nginx' | undefined => (lb === 'vip-only' ? undefined : lb);

/** Whether a scenario applies to a VIP tier and layout (no proxy to kill with vip-only, which has no LB hosts). */
export function scenarioApplies(lb: LbKind, layout: Layout, scenario: Scenario): boolean {
  if (lb !== 'vip-only') return true;
  return layout === 'masters' && scenario !== 'lb-death';
}

/**
 * - default: the project's defaults (VRRPv3, 100 ms adverts, script every 1 s fall 2, track_process).
 * - kubeadm-guide: mimics the kubeadm HA guide. By spec: `keepalived: { vrrpVersion: 2, advertIntervalMs:
 *   1000 }`; then edited in the harness: vrrp_script `interval 3` and `fall 10` (the guide's values) and
 *   no track_process (the guide has none). Priorities, script weight and the haproxy/nginx config stay
 *   the project's.
 */
export type Profile = 'default' | 'kubeadm-guide';

export const PROFILES: Record<Profile, string> = {
  'default': 'project defaults: VRRPv3 advert 0.1 s, script interval 1 s fall 2, track_process (emulated)',
  'kubeadm-guide': 'spec keepalived {vrrpVersion: 2, advertIntervalMs: 1000}; harness edits: script interval 3 s, fall 10, track_process removed (the guide has none)',
};

/**
 * Where the LB/VIP tier runs:
 * - masters: keepalived and the proxy on the three masters (the spec has no `loadBalancers`);
 * - lb-hosts: the spec lists two dedicated LB hosts (lb1, lb2, in the masters' subnet); keepalived and the
 *   proxy run only there, from those hosts' bundles, in front of the three masters.
 */
export type Layout = 'masters' | 'lb-hosts';

export const LAYOUTS: Record<Layout, string> = {
  'masters': 'keepalived + LB on the 3 masters',
  'lb-hosts': 'keepalived + LB on 2 dedicated LB hosts (spec loadBalancers) in front of the 3 masters',
};

/** The dedicated LB hosts of the lb-hosts layout, highest VRRP priority first. */
export const LB_HOSTS = ['lb1', 'lb2'] as const;

export interface ClusterOptions {
  readonly lb?: LbKind;
  readonly profile?: Profile;
  /** Where the LB/VIP tier runs. Default `masters`. */
  readonly layout?: Layout;
  /** Also run the etcd members (Debian's etcd 3.4). */
  readonly etcd?: boolean;
  /** Extra spec settings merged over the harness's (e.g. loadBalancer tuning). */
  readonly specOverrides?: Partial<ClusterSpec>;
  /** Edits applied to each generated file after the profile's (experiments only). */
  readonly edit?: (node: string, rel: string, content: string) => string;
  /** Client request period and deadline. */
  readonly clientIntervalMs?: number;
  readonly clientTimeoutMs?: number;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /**
   * Which paths the API server stand-ins answer for an anonymous client (every client here is one: probes,
   * haproxy checks, keepalived's script, the test client): `open` answers 200 everywhere (kube-apiserver
   * with --anonymous-auth=true and RBAC's public-info-viewer, for the health paths); `bundle` applies the
   * generated AuthenticationConfiguration's anonymous conditions (exact path matches answer 200, every
   * other path 401 as the API server does); a list applies that list ([] = --anonymous-auth=false).
   */
  readonly anonymous?: 'open' | 'bundle' | readonly string[];
}

/** One client request. */
export interface Request {
  /** Start and end, ms since the epoch. */
  readonly s: number;
  readonly e: number;
  readonly ok: boolean;
  readonly err?: string;
}

/** How the client's view of one fault is cut up and how long it is watched. */
export interface ObserveOptions {
  /** Failures less than this apart (by start time) belong to one outage episode. Default 1000 ms. */
  readonly episodeGapMs?: number;
  /** Watch at least this long after the fault (late failures, e.g. nginx re-probing a dead server). Default 8000 ms. */
  readonly windowMs?: number;
  /** ... and until this long has passed without a failure. Default 3000 ms. */
  readonly stableMs?: number;
  /** ... but never longer than this after the fault. Default 20000 ms. */
  readonly maxMs?: number;
}

/** What the client saw around one fault. */
export interface Observation {
  /** When the fault was injected (ms since the epoch). */
  readonly faultAt: number;
  /**
   * The outage: ms from the fault until the VIP answered again, i.e. the end of the first successful
   * request started after the last failure of the first outage episode (0 when no request failed).
   */
  readonly recoveryMs: number;
  /** Failed requests that ended after the fault, within the observation. */
  readonly failed: number;
  /** ... of which in the first episode (the outage). */
  readonly failedInOutage: number;
  /** ... of which had started before the fault (in flight when it hit). */
  readonly failedInFlight: number;
  /** Failures after the first episode (later episodes). */
  readonly lateFailures: number;
  /** ms from the fault to the end of the last failed request (0 when none). */
  readonly lastFailureMs: number;
  /** Requests that ended after the fault, within the observation. */
  readonly total: number;
  /** The slowest successful request after the fault. */
  readonly maxOkLatencyMs: number;
  /** ms from the fault to the end of the observation. */
  readonly observedMs: number;
  /** Error kinds of the failures, with counts. */
  readonly errors: Record<string, number>;
  /** Did the observation end with `stableMs` free of failures (else it hit maxMs). */
  readonly recovered: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Small helpers.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value, at most `timeoutMs`; throws `what` + `detail()` on timeout. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined | false> | T | undefined | false, detail?: () => string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(everyMs);
  }
}

const show = (r: ExecResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' TIMED OUT' : ''}; stdout: ${r.stdout.trim().slice(-1000)}; stderr: ${r.stderr.trim().slice(-1000)}`;

/** Synthesizes in memory: node name → relative path → file (test/util's render). */
export const renderBundles = render;

/** mkdir -p with mode 0755 on every directory it creates (keepalived checks the script's directories). */
function mkdirs(path: string): void {
  if (existsSync(path)) return;
  mkdirs(dirname(path));
  mkdirSync(path);
  chmodSync(path, 0o755);
}

function requireBinaries(names: readonly (keyof typeof BINARIES)[]): void {
  const missing = names.filter((n) => !existsSync(BINARIES[n])).map((n) => BINARIES[n]);
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`bash scripts/test-deps.sh\` (npm test's pretest does)`);
}

// ---------------------------------------------------------------------------------------------------
// The generated keepalived.conf, adapted for the lab.

/**
 * Rewrites the generated `vrrp_track_process` into a weight-0 `track_file` of the same name (see the
 * EMULATION note at the top). Throws when the generated config does not have the expected shape.
 */
export function emulateTrackProcess(conf: string, trackFile: string): { conf: string; process: string } {
  const block = /^vrrp_track_process (\S+) \{\n {2}process (\S+)\n((?: {2}.*\n)*?)\}\n/m.exec(conf);
  if (!block) throw new Error(`no vrrp_track_process block in the generated keepalived.conf:\n${conf}`);
  const [whole, name, proc, body] = block;
  if (!/^ {2}weight 0$/m.test(body)) throw new Error(`the generated vrrp_track_process ${name} is not weight 0:\n${whole}`);
  const settings = body.trim().split('\n').map((l) => l.trim()).join(' ');
  const ref = `  track_process {\n    ${name}\n  }\n`;
  if (!conf.includes(ref)) throw new Error(`the instance does not reference track_process ${name}:\n${conf}`);
  const replacement = [
    `# HARNESS EMULATION of "vrrp_track_process ${name} { process ${proc} ${settings} }": the proc connector`,
    '# is missing in test network namespaces; a watcher writes 1 here once the process is gone.',
    `track_file ${name} {`,
    `  file "${trackFile}"`,
    '  weight 0',
    '}',
    '',
  ].join('\n');
  return {
    conf: conf.replace(whole, replacement).replace(ref, `  track_file {\n    ${name}\n  }\n`),
    process: proc,
  };
}

/** The haproxy.cfg edit every run needs here (see HAPROXY_FD_NOTE). */
export function tolerateFdLimit(cfg: string): string {
  if (/^ {2}no strict-limits$/m.test(cfg)) return cfg;
  const m = /^ {2}maxconn (\d+)\n/m.exec(cfg);
  if (!m || Number(m[1]) * 2 + 100 < hardNofile()) return cfg;
  return cfg.replace(m[0], `${m[0]}  no strict-limits # HARNESS EDIT: ${HAPROXY_FD_NOTE}\n`);
}

/** This process's hard limit of open files (inherited by the daemons; root here cannot raise it). */
export function hardNofile(): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
  const hard = line?.trim().split(/\s+/)[4];
  return hard === undefined || hard === 'unlimited' ? Infinity : Number(hard);
}

export const HAPROXY_FD_NOTE = 'maxconn needs 2 fds per connection and haproxy 2.6 exits when it cannot raise its fd limit that far; '
  + 'the hard limit here is below that and cannot be raised (no CAP_SYS_RESOURCE), so the lab adds "no strict-limits" (haproxy then runs with the fds it has)';

/** The kubeadm-guide edits (see Profile): script interval 3, fall 10, no track_process. */
export function kubeadmGuideEdits(conf: string): string {
  const script = /^vrrp_script (\S+) \{\n((?: {2}.*\n)*?)\}\n/m.exec(conf);
  if (!script) throw new Error(`no vrrp_script block in the generated keepalived.conf:\n${conf}`);
  const body = script[2];
  if (!/^ {2}interval \d+$/m.test(body) || !/^ {2}fall \d+$/m.test(body)) throw new Error(`unexpected vrrp_script block:\n${script[0]}`);
  const newBody = body.replace(/^ {2}interval \d+$/m, '  interval 3').replace(/^ {2}fall \d+$/m, '  fall 10');
  let out = conf.replace(script[0], `vrrp_script ${script[1]} {\n${newBody}}\n`);
  const track = /^vrrp_track_process (\S+) \{\n(?: {2}.*\n)*?\}\n\n?/m.exec(out);
  if (track) {
    out = out.replace(track[0], '').replace(`  track_process {\n    ${track[1]}\n  }\n`, '');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Child programs (plain JavaScript, written into the work dir and run with this Node binary).

const STANDIN_JS = `// kube-apiserver stand-in over HTTPS: 200 on every path, or, given a JSON list of the paths anonymous
// requests may reach, 200 there and 401 Unauthorized elsewhere (its clients present no credentials).
const https = require('https');
const fs = require('fs');
const [cert, key, port, name, anonymous] = process.argv.slice(2);
const allowed = anonymous === undefined ? undefined : JSON.parse(anonymous);
const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const path = req.url.split('?')[0];
  if (allowed && !allowed.includes(path)) {
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end('Unauthorized\\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok ' + name + '\\n');
});
server.on('tlsClientError', () => {});
server.listen(Number(port), '0.0.0.0', () => console.log(Date.now(), 'listening on', port));
process.on('SIGTERM', () => process.exit(0));
`;

const CLIENT_JS = `// Fail-over client: a fresh HTTPS connection every interval, one JSON line per request.
const https = require('https');
const [url, intervalMs, timeoutMs] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
function once() {
  const s = Date.now();
  let done = false;
  const finish = (ok, err) => { if (done) return; done = true; clearTimeout(t); out(err ? { s, e: Date.now(), ok, err } : { s, e: Date.now(), ok }); };
  const req = https.get(url, { agent: false, rejectUnauthorized: false }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode === 200, res.statusCode === 200 ? undefined : 'HTTP' + res.statusCode));
    res.on('error', (e) => finish(false, e.code || e.message));
  });
  const t = setTimeout(() => { finish(false, 'TIMEOUT'); req.destroy(); }, Number(timeoutMs));
  req.on('error', (e) => finish(false, e.code || e.message));
}
setInterval(once, Number(intervalMs));
process.on('SIGTERM', () => process.exit(0));
`;

const WATCHER_JS = `// track_process stand-in (see the harness): writes 1 to the track file once every process of the
// tracked tree is gone (zombies count as gone), 0 while any lives.
const fs = require('fs');
const [file, rootPid, everyMs] = process.argv.slice(2);
const known = new Set([Number(rootPid)]);
function alive(pid) {
  try {
    const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch { return false; }
}
function children(pid) {
  try { return fs.readFileSync('/proc/' + pid + '/task/' + pid + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean).map(Number); } catch { return []; }
}
let last = -1;
function poll() {
  for (const p of [...known]) for (const c of children(p)) known.add(c);
  let any = false;
  for (const p of [...known]) { if (alive(p)) any = true; else known.delete(p); }
  const v = any ? 0 : 1;
  if (v !== last) {
    fs.writeFileSync(file, v + '\\n');
    console.log(Date.now(), 'wrote', v, 'tracked', [...known].join(','));
    last = v;
  }
}
poll();
setInterval(poll, Number(everyMs));
process.on('SIGTERM', () => process.exit(0));
`;

const ETCD_WRITER_JS = `// etcd writer: sequential puts of <prefix><seq>, one JSON line per put.
const { execFile } = require('child_process');
const [etcdctl, endpoints, cacert, cert, key, prefix] = process.argv.slice(2);
let i = 0;
function next() {
  const k = prefix + String(i).padStart(6, '0');
  const s = Date.now();
  const seq = i++;
  execFile(etcdctl, ['--endpoints=' + endpoints, '--cacert=' + cacert, '--cert=' + cert, '--key=' + key,
    '--dial-timeout=1s', '--command-timeout=2s', 'put', k, 'v' + seq],
    { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 5000, killSignal: 'SIGKILL' },
    (err, stdout, stderr) => {
      const ok = !err && stdout.trim() === 'OK';
      process.stdout.write(JSON.stringify(ok ? { k, s, e: Date.now(), ok } : { k, s, e: Date.now(), ok, err: (stderr || String(err)).trim().split('\\n').pop().slice(0, 200) }) + '\\n');
      setImmediate(next);
    });
}
next();
process.on('SIGTERM', () => process.exit(0));
`;

// ---------------------------------------------------------------------------------------------------
// The cluster.

/** What runs on one lab node (a master runs standin/etcd, an LB node lb/watcher/keepalived). */
interface NodeRuntime {
  readonly name: string;
  readonly address: string;
  readonly dir: string;
  readonly bundleDir: string;
  readonly trackFile: string;
  standin?: LabProcess;
  lb?: LabProcess;
  watcher?: LabProcess;
  keepalived?: LabProcess;
  etcd?: LabProcess;
}

/** A running fail-over lab. */
export interface FailoverCluster {
  readonly lab: Lab;
  readonly spec: ClusterSpec;
  readonly lb: LbKind;
  readonly profile: Profile;
  readonly layout: Layout;
  readonly masters: readonly string[];
  /** The nodes running keepalived and the LB, highest priority first: the masters, or the LB hosts. */
  readonly lbNodes: readonly string[];
  readonly client: string;
  readonly vip: string;
  readonly port: number;
  readonly root: string;
  /** The node's generated (and lab-adapted) file as run. */
  fileOf(node: string, rel: string): string;
  /** Nodes (masters and LB hosts) holding the VIP on an interface. */
  holders(): Promise<string[]>;
  /** The LB node whose MAC the client's neighbour entry for the VIP has (where its packets go). */
  clientTarget(): Promise<string | undefined>;
  /** The running processes of a node. */
  processOf(node: string, kind: 'standin' | 'lb' | 'watcher' | 'keepalived' | 'etcd'): LabProcess;
  /** Starts the client (one per cluster); resolves once it has seen `okMs` of successes only. */
  startClient(okMs?: number): Promise<Client>;
  // Faults. Each returns the time it was injected (ms since the epoch).
  /** Node loss: the bridge side of the node's link goes down (the node keeps running, cut off). */
  nodeLoss(node: string): number;
  /** SIGKILL to every process of the node's load balancer (as when its container is killed). */
  killLb(node: string): number;
  /** SIGTERM to keepalived (graceful: it hands the VIP over) or SIGKILL to all its processes. */
  stopKeepalived(node: string, signal: 'SIGTERM' | 'SIGKILL'): number;
  /** SIGKILL to the master's kube-apiserver stand-in. */
  killApiserver(node: string): number;
  /** SIGKILL to the master's etcd member. */
  killEtcd(node: string): number;
  /** etcdctl from the client namespace (etcd clusters only). */
  etcdctl(endpoints: readonly string[], args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  etcdEndpoint(node: string): string;
  etcdCa(): EtcdCa;
  /** Log tails of every process, for failure messages. */
  diagnostics(maxChars?: number): string;
  destroy(): Promise<void>;
}

/** The client process and its log. */
export interface Client {
  readonly proc: LabProcess;
  requests(): Request[];
  /** Waits until the VIP has answered steadily again after `faultAt` (bounded by maxMs) and summarizes. */
  observe(faultAt: number, o?: ObserveOptions): Promise<Observation>;
  stop(): Promise<void>;
}

/** Summarizes the requests around a fault (pure; exported for tests of the arithmetic). */
export function summarize(reqs: readonly Request[], faultAt: number, until: number, recovered: boolean, episodeGapMs = 1000): Observation {
  const after = reqs.filter((r) => r.e > faultAt && r.e <= until);
  const failures = after.filter((r) => !r.ok).sort((x, y) => x.s - y.s);
  const errors: Record<string, number> = {};
  for (const f of failures) errors[f.err ?? '?'] = (errors[f.err ?? '?'] ?? 0) + 1;
  let episode = 0;
  while (episode < failures.length && (episode === 0 || failures[episode].s - failures[episode - 1].s <= episodeGapMs)) episode++;
  let recoveryMs = 0;
  if (episode > 0) {
    const lastFailStart = failures[episode - 1].s;
    const firstOk = after.filter((r) => r.ok && r.s > lastFailStart).sort((a, b) => a.e - b.e)[0];
    recoveryMs = firstOk ? firstOk.e - faultAt : NaN;
  }
  const oks = after.filter((r) => r.ok);
  return {
    faultAt,
    recoveryMs,
    failed: failures.length,
    failedInOutage: episode,
    failedInFlight: failures.filter((f) => f.s < faultAt).length,
    lateFailures: failures.length - episode,
    lastFailureMs: failures.length > 0 ? Math.max(...failures.map((f) => f.e)) - faultAt : 0,
    total: after.length,
    maxOkLatencyMs: oks.length > 0 ? Math.max(...oks.map((r) => r.e - r.s)) : NaN,
    observedMs: until - faultAt,
    errors,
    recovered,
  };
}

function parseLines<T>(file: string): T[] {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { return []; }
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try { out.push(JSON.parse(line) as T); } catch { /* a line being written */ }
  }
  return out;
}

/** The paths the stand-in lets anonymous clients reach (undefined: all). */
function anonymousPaths(anonymous: NonNullable<ClusterOptions['anonymous']>, nodeFiles: ReadonlyMap<string, string>): readonly string[] | undefined {
  if (anonymous === 'open') return undefined;
  if (anonymous !== 'bundle') return anonymous;
  const text = nodeFiles.get('etc/kubernetes/security/authentication-config.yaml');
  if (!text) throw new Error('anonymous: "bundle" needs the hardened profile (no authentication-config.yaml in the bundle)');
  const cfg = parse(text) as { anonymous?: { enabled?: boolean; conditions?: { path: string }[] } };
  if (!cfg.anonymous?.enabled) return [];
  return (cfg.anonymous.conditions ?? []).map((c) => c.path);
}

/** Builds and starts the lab. On failure everything started so far is torn down before it throws. */
export async function startCluster(opts: ClusterOptions = {}): Promise<FailoverCluster> {
  const lbKind = opts.lb ?? 'haproxy';
  const profile = opts.profile ?? 'default';
  const layout = opts.layout ?? 'masters';
  const log = opts.log ?? (() => {});
  const proxy = proxyOfKind(lbKind);
  if (!proxy && layout === 'lb-hosts') throw new Error('vip-only runs on the masters only: the spec refuses loadBalancers with it (use layout "masters")');
  requireBinaries(['keepalived', ...(proxy ? [proxy] : []), 'curl', ...(opts.etcd ? ['etcd', 'etcdctl'] as const : [])]);
  for (const d of ['/etc/keepalived', ...(proxy === 'haproxy' ? ['/etc/haproxy'] : proxy === 'nginx' ? ['/etc/nginx/nginx.conf', '/etc/nginx/modules-enabled'] : [])]) {
    // These host paths are only mount points inside private mount namespaces (never written).
    if (!existsSync(d)) throw new Error(`${d} is missing (it comes with Debian's ${lbKind === 'haproxy' || d.includes('keepalived') ? d.split('/')[2] : 'nginx'} package): run \`bash scripts/test-deps.sh\``);
  }

  const masters = ['m1', 'm2', 'm3'];
  const lbHosts: string[] = layout === 'lb-hosts' ? [...LB_HOSTS] : [];
  /** Where keepalived and the LB run. */
  const lbNodes = lbHosts.length > 0 ? lbHosts : masters;
  const client = 'client';
  const root = mkdtempSync(join(tmpdir(), 'hacp-failover-'));
  chmodSync(root, 0o755);
  let lab: Lab | undefined;
  try {
    lab = createLab({ nodes: [...masters, ...lbHosts, client] });
    const L = lab;
    const vip = `${L.prefix}.100`;
    // vip-only: clients reach the API server itself, so the endpoint port is its bind port.
    const port = proxy ? 8443 : (opts.specOverrides?.apiServer?.bindPort ?? 6443);
    const base: ClusterSpec = {
      name: 'failover',
      kubernetesVersion: '1.33',
      controlPlaneEndpoint: { host: vip, port },
      masters: masters.map((n) => ({ name: n, address: L.addressOf(n) })),
      ...(lbHosts.length > 0 ? { loadBalancers: lbHosts.map((n) => ({ name: n, address: L.addressOf(n) })) } : {}),
      certificatesDir: join(root, 'pki'),
      etcd: { local: { imageTag: '3.4.23-0', dataDir: join(root, 'etcd-data') } },
      loadBalancer: { type: lbKind },
      keepalived: profile === 'kubeadm-guide' ? { interface: 'eth0', vrrpVersion: 2, advertIntervalMs: 1000 } : { interface: 'eth0' },
    };
    const o = opts.specOverrides ?? {};
    const spec: ClusterSpec = {
      ...base,
      ...o,
      loadBalancer: { ...base.loadBalancer, ...o.loadBalancer },
      keepalived: { ...base.keepalived, ...o.keepalived },
    };
    const iface = spec.keepalived?.interface ?? 'eth0';
    const bundles = renderBundles(spec);

    // The lab names each node's NIC eth0; give the LB nodes the configured name.
    if (iface !== 'eth0') {
      for (const m of lbNodes) {
        for (const args of [['link', 'set', 'eth0', 'down'], ['link', 'set', 'eth0', 'name', iface], ['link', 'set', iface, 'up']]) {
          const r = spawnSync(IP, ['-n', L.nsOf(m), ...args], { encoding: 'utf8', timeout: 10_000 });
          if (r.status !== 0) throw new Error(`ip -n ${L.nsOf(m)} ${args.join(' ')}: ${r.stderr}`);
        }
      }
    }

    // Stage each node's bundle, adapted: track_process emulation, profile edits, experiment edits.
    const rt = new Map<string, NodeRuntime>();
    const files = new Map<string, Map<string, string>>();
    for (const m of [...masters, ...lbHosts]) {
      if (!bundles.has(m)) throw new Error(`no bundle for ${m}: the generated nodes are ${[...bundles.keys()].join(', ')}`);
      const dir = join(root, m);
      const bundleDir = join(dir, 'bundle');
      for (const d of [bundleDir, join(dir, 'run'), join(dir, 'tmp'), join(dir, 'track')]) mkdirs(d);
      const trackFile = join(dir, 'track', proxy ? 'lb-process' : 'apiserver-process');
      const nodeFiles = new Map<string, string>();
      for (const [rel, f] of bundles.get(m)!) {
        let content = f.content;
        if (rel === 'etc/keepalived/keepalived.conf') {
          if (profile === 'kubeadm-guide') content = kubeadmGuideEdits(content);
          else content = emulateTrackProcess(content, trackFile).conf;
        }
        if (rel === 'etc/haproxy/haproxy.cfg') content = tolerateFdLimit(content);
        if (opts.edit) content = opts.edit(m, rel, content);
        const p = join(bundleDir, rel);
        mkdirs(dirname(p));
        writeFileSync(p, content);
        chmodSync(p, f.mode);
        nodeFiles.set(rel, content);
      }
      files.set(m, nodeFiles);
      rt.set(m, { name: m, address: L.addressOf(m), dir, bundleDir, trackFile });
    }
    const podCommand = (m: string, component: string): string[] => {
      const y = files.get(m)!.get(`etc/kubernetes/manifests/${component}.yaml`);
      if (!y) throw new Error(`no ${component}.yaml in ${m}'s bundle`);
      return parse(y).spec.containers[0].command as string[];
    };

    // Scripts and certificates.
    const scripts = join(root, 'scripts');
    mkdirs(scripts);
    for (const [name, text] of [['standin.js', STANDIN_JS], ['client.js', CLIENT_JS], ['watcher.js', WATCHER_JS], ['etcd-writer.js', ETCD_WRITER_JS]]) {
      writeFileSync(join(scripts, name), text);
    }
    const tls = join(root, 'tls');
    mkdirs(tls);
    const ca = makeCa(join(tls, 'ca'), 'failover-apiserver-ca');
    const serving = makeLeaf(join(tls, 'apiserver'), ca, {
      commonName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes'],
      ipAddresses: [vip, '127.0.0.1', ...masters.map((m) => L.addressOf(m))], usages: ['serverAuth'],
    });
    const bindPort = spec.apiServer?.bindPort ?? 6443;

    let etcdCa: EtcdCa | undefined;
    const etcdEndpoint = (m: string) => `https://${L.addressOf(m)}:2379`;
    const etcdctl = (endpoints: readonly string[], args: readonly string[], timeoutMs = 10_000) => {
      if (!etcdCa) throw new Error('this cluster runs no etcd');
      return L.exec(client, BINARIES.etcdctl, [
        `--endpoints=${endpoints.join(',')}`, `--cacert=${etcdCa.ca.crt}`, `--cert=${etcdCa.healthcheckClient.crt}`, `--key=${etcdCa.healthcheckClient.key}`,
        '--dial-timeout=1s', '--command-timeout=2s', ...args,
      ], { env: { ETCDCTL_API: '3' }, timeoutMs });
    };

    /** PIDs the faults killed on purpose (not "exited early"). */
    const killed = new Set<number>();
    const diagnostics = (maxChars = 1500) => L.processes().map((p) => `--- ${p.node} ${p.logFile} (${p.exitStatus() ? `exited ${JSON.stringify(p.exitStatus())}` : 'running'}):\n${p.logTail(maxChars)}`).join('\n');
    const assertRunning = () => {
      const dead = L.processes().filter((p) => p.exitStatus() !== null && !killed.has(p.pid));
      if (dead.length > 0) throw new Error(`processes exited early:\n${dead.map((p) => `${p.node} ${p.logFile} ${JSON.stringify(p.exitStatus())}:\n${p.logTail(2000)}`).join('\n')}`);
    };

    // 1. etcd (optional).
    if (opts.etcd) {
      const pkiDir = `${spec.certificatesDir}/etcd`;
      const dataDir = spec.etcd!.local!.dataDir!;
      etcdCa = makeEtcdCa(pkiDir);
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      for (const m of masters) {
        const r = rt.get(m)!;
        makeEtcdMemberPki(join(r.dir, 'pki-etcd'), etcdCa, { name: m, address: r.address });
        mkdirSync(join(r.dir, 'etcd-data'), { mode: 0o700 });
        const [argv0, ...args] = podCommand(m, 'etcd');
        if (argv0 !== 'etcd') throw new Error(`argv[0] of ${m}'s etcd command is ${argv0}`);
        const run = withBindMounts([
          { source: join(r.dir, 'pki-etcd'), target: pkiDir },
          { source: join(r.dir, 'etcd-data'), target: dataDir },
        ], BINARIES.etcd, args);
        r.etcd = L.spawn(m, run.cmd, run.args, { logFile: join(r.dir, 'etcd.log') });
      }
    }

    // 2. API server stand-ins.
    for (const m of masters) {
      const r = rt.get(m)!;
      const anonymous = anonymousPaths(opts.anonymous ?? 'open', files.get(m)!);
      const policy = anonymous === undefined ? [] : [JSON.stringify(anonymous)];
      r.standin = L.spawn(m, process.execPath, [join(scripts, 'standin.js'), serving.crt, serving.key, String(bindPort), m, ...policy], { logFile: join(r.dir, 'standin.log') });
    }
    for (const m of masters) {
      await waitFor(`the API server stand-in on ${m}`, 15_000, async () => {
        assertRunning();
        // Any HTTP answer: a stand-in enforcing an anonymous policy may answer 401 (without -f, curl exits 0).
        return (await L.exec(m, BINARIES.curl, ['-sk', '--max-time', '1', '-o', '/dev/null', `https://127.0.0.1:${bindPort}/readyz`], { timeoutMs: 3000 })).code === 0;
      }, diagnostics);
    }

    // 3. Load balancers, with the generated static pod's command, the bundle's config at its path
    //    (none with vip-only: its bundles have no proxy, which the test asserts).
    for (const m of proxy ? lbNodes : []) {
      const r = rt.get(m)!;
      const [argv0, ...args] = podCommand(m, proxy!);
      if (argv0 !== proxy) throw new Error(`argv[0] of ${m}'s ${proxy} command is ${argv0}`);
      const binds = proxy === 'haproxy'
        ? [{ source: join(r.bundleDir, 'etc/haproxy'), target: '/etc/haproxy' }]
        // nginx: only the config file (the host's modules-enabled stays visible: its stream module);
        // a private /tmp for the generated `pid /tmp/nginx.pid` (several nginx share this host).
        : [{ source: join(r.bundleDir, 'etc/nginx/nginx.conf'), target: '/etc/nginx/nginx.conf' }, { source: join(r.dir, 'tmp'), target: '/tmp' }];
      const run = withBindMounts(binds, BINARIES[proxy!], args);
      r.lb = L.spawn(m, run.cmd, run.args, { logFile: join(r.dir, `${proxy}.log`) });
    }
    for (const m of proxy ? lbNodes : []) {
      await waitFor(`${proxy} on ${m} to answer on 127.0.0.1:${port}`, 15_000, async () => {
        assertRunning();
        return (await L.exec(m, BINARIES.curl, ['-sfk', '--max-time', '1', '-o', '/dev/null', `https://127.0.0.1:${port}/healthz`], { timeoutMs: 3000 })).code === 0;
      }, diagnostics);
    }

    // 4. track_process stand-ins (default profile), then keepalived (after the local LB, or with vip-only
    //    the local API server stand-in, answers).
    for (const m of lbNodes) {
      const r = rt.get(m)!;
      if (files.get(m)!.get('etc/keepalived/keepalived.conf')!.includes(`file "${r.trackFile}"`)) {
        const tracked = proxy ? r.lb! : r.standin!;
        r.watcher = L.spawn(m, process.execPath, [join(scripts, 'watcher.js'), r.trackFile, String(tracked.pid), String(WATCH_INTERVAL_MS)], { logFile: join(r.dir, 'watcher.log') });
        await waitFor(`the track file of ${m}`, 10_000, () => existsSync(r.trackFile) && readFileSync(r.trackFile, 'utf8').trim() === '0', diagnostics, 20);
      }
    }
    for (const m of lbNodes) {
      const r = rt.get(m)!;
      const [argv0, ...args] = podCommand(m, 'keepalived');
      if (argv0 !== 'keepalived') throw new Error(`argv[0] of ${m}'s keepalived command is ${argv0}`);
      const run = withBindMounts([
        { source: join(r.bundleDir, 'etc/keepalived'), target: '/etc/keepalived' },
        { source: join(r.dir, 'run'), target: '/run' },
      ], BINARIES.keepalived, args);
      r.keepalived = L.spawn(m, run.cmd, run.args, { logFile: join(r.dir, 'keepalived.log') });
    }

    const vipCidr = new RegExp(`\\binet ${vip.replace(/\./g, '\\.')}/`);
    // Every node but the client is looked at (in the lb-hosts layout a master holding the VIP is a bug).
    const holders = async () => {
      const out: string[] = [];
      await Promise.all([...masters, ...lbHosts].map(async (m) => {
        const res = await L.exec(m, IP, ['-4', '-o', 'addr', 'show'], { timeoutMs: 5000 });
        if (vipCidr.test(res.stdout)) out.push(m);
      }));
      return out.sort();
    };
    const macs = new Map<string, string>();
    for (const m of lbNodes) {
      const res = await L.exec(m, IP, ['-o', 'link', 'show', 'dev', iface], { timeoutMs: 5000 });
      const mac = /link\/ether ([0-9a-f:]+)/.exec(res.stdout)?.[1];
      if (!mac) throw new Error(`no MAC for ${m}: ${show(res)}`);
      macs.set(mac, m);
    }
    const clientTarget = async () => {
      const res = await L.exec(client, IP, ['neigh', 'show', vip], { timeoutMs: 5000 });
      const mac = /lladdr ([0-9a-f:]+)/.exec(res.stdout)?.[1];
      return mac ? macs.get(mac) ?? `unknown ${mac}` : undefined;
    };

    // The highest priority LB node holds the VIP alone, every check script has succeeded, and the VIP
    // answers from the client namespace.
    const top = lbNodes[0];
    const scriptOk = (m: string) => /VRRP_Script\(\S+\) succeeded/.test(rt.get(m)!.keepalived!.logTail(200_000));
    await waitFor(`the VIP on ${top} only, every check script succeeded, the VIP answering`, profile === 'kubeadm-guide' ? 40_000 : 20_000, async () => {
      assertRunning();
      if (!lbNodes.every(scriptOk)) return false;
      const h = await holders();
      if (h.length !== 1 || h[0] !== top) return false;
      return (await L.exec(client, BINARIES.curl, ['-sfk', '--max-time', '1', '-o', '/dev/null', `https://${vip}:${port}/readyz`], { timeoutMs: 3000 })).code === 0;
    }, diagnostics, 200);
    log(`lab ${L.id}: ${layout}, ${lbKind}, ${profile}; VIP ${vip}:${port} on ${top}`);

    if (opts.etcd) {
      const eps = masters.map(etcdEndpoint);
      await waitFor('every etcd member healthy', 30_000, async () => {
        assertRunning();
        const res = await etcdctl(eps, ['endpoint', 'health']);
        return res.code === 0 && eps.every((e) => `${res.stdout}${res.stderr}`.includes(`${e} is healthy`));
      }, diagnostics, 300);
    }

    let theClient: Client | undefined;
    /** SIGKILL to a process's whole group (what killing its container does); returns when it was sent. */
    const killGroup = (node: string, kind: 'lb' | 'standin' | 'etcd'): number => {
      const p = cluster.processOf(node, kind);
      killed.add(p.pid);
      const t = Date.now();
      process.kill(-p.pid, 'SIGKILL');
      return t;
    };
    const cluster: FailoverCluster = {
      lab: L,
      spec,
      lb: lbKind,
      profile,
      layout,
      masters,
      lbNodes,
      client,
      vip,
      port,
      root,
      fileOf: (node, rel) => {
        const f = files.get(node)?.get(rel);
        if (f === undefined) throw new Error(`no ${rel} on ${node}`);
        return f;
      },
      holders,
      clientTarget,
      processOf(node, kind) {
        const p = rt.get(node)?.[kind];
        if (!p) throw new Error(`no ${kind} on ${node}`);
        return p;
      },
      async startClient(okMs = 1000) {
        if (theClient) throw new Error('the client is already running');
        const logFile = join(root, 'client.log');
        const interval = opts.clientIntervalMs ?? 50;
        const proc = L.spawn(client, process.execPath, [join(scripts, 'client.js'), `https://${vip}:${port}/readyz`, String(interval), String(opts.clientTimeoutMs ?? 500)], { logFile });
        const requests = () => parseLines<Request>(logFile);
        const c: Client = {
          proc,
          requests,
          async observe(faultAt, w = {}) {
            const stableMs = w.stableMs ?? 3000;
            const windowMs = w.windowMs ?? 8000;
            const maxMs = Math.max(w.maxMs ?? 20_000, windowMs);
            for (;;) {
              await sleep(200);
              const now = Date.now();
              const after = requests().filter((r) => r.e > faultAt);
              const fails = after.filter((r) => !r.ok);
              const lastFailEnd = fails.length > 0 ? Math.max(...fails.map((r) => r.e)) : faultAt;
              const oksSince = after.filter((r) => r.ok && r.s > lastFailEnd).length;
              if (now - faultAt >= windowMs && now - lastFailEnd >= stableMs && oksSince >= Math.floor(stableMs / interval / 2)) {
                return summarize(requests(), faultAt, now, true, w.episodeGapMs);
              }
              if (now - faultAt > maxMs) return summarize(requests(), faultAt, now, false, w.episodeGapMs);
              if (proc.exitStatus()) throw new Error(`the client exited: ${proc.logTail(2000)}`);
            }
          },
          stop: () => proc.stop(2000),
        };
        theClient = c;
        await waitFor(`${okMs} ms of successful client requests`, 15_000, () => {
          if (proc.exitStatus()) throw new Error(`the client exited: ${proc.logTail(2000)}`);
          const rs = requests();
          const fails = rs.filter((r) => !r.ok);
          const since = fails.length > 0 ? Math.max(...fails.map((r) => r.e)) : (rs[0]?.s ?? Infinity);
          return rs.length > 0 && Date.now() - since >= okMs && rs.filter((r) => r.ok && r.s > since).length > 0;
        }, () => `client log tail:\n${proc.logTail(3000)}\n${diagnostics()}`);
        return c;
      },
      nodeLoss(node) {
        const i = L.nodes.indexOf(node);
        // createLab names the bridge side of node i's veth v<i>, in the bridge namespace <id>-br.
        const t = Date.now();
        const res = spawnSync(IP, ['-n', `${L.id}-br`, 'link', 'set', `v${i}`, 'down'], { encoding: 'utf8', timeout: 10_000 });
        if (res.status !== 0) throw new Error(`node loss of ${node}: ${res.stderr}`);
        return t;
      },
      killLb: (node) => {
        if (!proxy) throw new Error('vip-only runs no load balancer to kill (kill the API server instead)');
        return killGroup(node, 'lb');
      },
      stopKeepalived(node, signal) {
        const p = cluster.processOf(node, 'keepalived');
        killed.add(p.pid);
        const t = Date.now();
        // SIGTERM to the parent only (what a container runtime's stop does to PID 1); SIGKILL to the whole
        // process group (what killing the container does: the VRRP child dies too, without cleanup).
        if (signal === 'SIGTERM') process.kill(p.pid, 'SIGTERM');
        else process.kill(-p.pid, 'SIGKILL');
        return t;
      },
      killApiserver: (node) => killGroup(node, 'standin'),
      killEtcd: (node) => killGroup(node, 'etcd'),
      etcdctl,
      etcdEndpoint,
      etcdCa: () => {
        if (!etcdCa) throw new Error('this cluster runs no etcd');
        return etcdCa;
      },
      diagnostics,
      async destroy() {
        try {
          await L.destroy({ graceMs: 1500 });
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      },
    };
    return cluster;
  } catch (e) {
    try {
      await lab?.destroy({ graceMs: 1000 });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------
// Scenarios.

export type Scenario = 'node-loss' | 'lb-death' | 'keepalived-term' | 'keepalived-kill' | 'apiserver-death';

/** What each scenario does; the node is the VIP holder (a master, or in the lb-hosts layout an LB host). */
export const SCENARIOS: Record<Scenario, string> = {
  'node-loss': 'loss of the VIP holder (its link down: a master, or with lb-hosts the active LB host)',
  'lb-death': 'LB process SIGKILL on the VIP holder (not with vip-only: no proxy)',
  'keepalived-term': 'keepalived SIGTERM on the VIP holder',
  'keepalived-kill': 'keepalived SIGKILL on the VIP holder',
  'apiserver-death': 'API server SIGKILL on the VIP holder (lb-hosts: on the first master, the LB hosts run none; vip-only: the VIP must move)',
};

/** The node a scenario hits: the VIP holder, except an API server death in the lb-hosts layout (first master). */
export function faultTarget(cluster: Pick<FailoverCluster, 'masters'>, scenario: Scenario, holder: string): string {
  return scenario === 'apiserver-death' && !cluster.masters.includes(holder) ? cluster.masters[0] : holder;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly lb: LbKind;
  readonly profile: Profile;
  readonly layout: Layout;
  readonly observation: Observation;
  /** The LB node that held the VIP when the fault hit. */
  readonly holderBefore: string;
  /** The node the fault hit (see faultTarget). */
  readonly faultOn: string;
  /** Nodes holding the VIP after recovery. */
  readonly holdersAfter: readonly string[];
  /** The LB node the client's packets for the VIP went to after recovery. */
  readonly clientTarget: string | undefined;
}

/** Runs one scenario on a fresh cluster's VIP holder (see faultTarget; the client is started here). */
export async function runScenario(cluster: FailoverCluster, scenario: Scenario, w: ObserveOptions = {}): Promise<ScenarioResult> {
  if (!scenarioApplies(cluster.lb, cluster.layout, scenario)) throw new Error(`${scenario} does not apply to ${cluster.lb} in the ${cluster.layout} layout`);
  const before = await cluster.holders();
  if (before.length !== 1) throw new Error(`expected one VIP holder before the fault, got ${JSON.stringify(before)}`);
  const holder = before[0];
  const target = faultTarget(cluster, scenario, holder);
  const client = await cluster.startClient();
  let t: number;
  switch (scenario) {
    case 'node-loss': t = cluster.nodeLoss(target); break;
    case 'lb-death': t = cluster.killLb(target); break;
    case 'keepalived-term': t = cluster.stopKeepalived(target, 'SIGTERM'); break;
    case 'keepalived-kill': t = cluster.stopKeepalived(target, 'SIGKILL'); break;
    case 'apiserver-death': t = cluster.killApiserver(target); break;
  }
  const observation = await client.observe(t, w);
  const holdersAfter = await cluster.holders();
  const clientTarget = await cluster.clientTarget();
  await client.stop();
  return { scenario, lb: cluster.lb, profile: cluster.profile, layout: cluster.layout, observation, holderBefore: holder, faultOn: target, holdersAfter, clientTarget };
}

// ---------------------------------------------------------------------------------------------------
// etcd leader loss.

export interface EtcdLeaderResult {
  readonly oldLeader: string;
  /** ms from the SIGKILL until a surviving member reported another leader (poll resolution ~100 ms). */
  readonly newLeaderMs: number;
  readonly newLeader: string;
  /** Puts acknowledged (etcdctl printed OK) before the check, in all. */
  readonly acked: number;
  /** ... of which after the kill. */
  readonly ackedAfterKill: number;
  /** Acknowledged keys missing when read back from the survivors. */
  readonly lost: readonly string[];
  /** Puts that failed (not acknowledged; may or may not have been applied). */
  readonly failedPuts: number;
  /** Longest gap between two acknowledgements from the kill on (the write stall the writer saw). */
  readonly writeStallMs: number;
}

interface EndpointStatus {
  Endpoint: string;
  Status: { header: { member_id: number | string }; leader: number | string; raftTerm: number };
}

/** Kills the etcd leader while a writer puts keys continuously; checks every acknowledged key survived. */
export async function etcdLeaderKill(cluster: FailoverCluster, o: { writeBeforeMs?: number; writeAfterMs?: number; maxMs?: number } = {}): Promise<EtcdLeaderResult> {
  const L = cluster.lab;
  const all = cluster.masters.map((m) => cluster.etcdEndpoint(m));
  const statusOf = async (eps: readonly string[]): Promise<EndpointStatus[]> => {
    const res = await cluster.etcdctl(eps, ['endpoint', 'status', '-w', 'json'], 5000);
    try { return JSON.parse(res.stdout) as EndpointStatus[]; } catch { return []; }
  };
  const nodeOfEndpoint = (ep: string) => cluster.masters.find((m) => cluster.etcdEndpoint(m) === ep)!;
  const st = await statusOf(all);
  const leaderSt = st.find((s) => String(s.Status.header.member_id) === String(s.Status.leader));
  if (!leaderSt) throw new Error(`no etcd leader: ${JSON.stringify(st)}`);
  const oldLeaderId = String(leaderSt.Status.leader);
  const oldLeader = nodeOfEndpoint(leaderSt.Endpoint);

  const ca = cluster.etcdCa();
  const prefix = `/failover/${Date.now()}/`;
  const logFile = join(cluster.root, 'etcd-writer.log');
  const writer = L.spawn(cluster.client, process.execPath, [join(cluster.root, 'scripts', 'etcd-writer.js'), BINARIES.etcdctl, all.join(','), ca.ca.crt, ca.healthcheckClient.crt, ca.healthcheckClient.key, prefix], { logFile });
  type Put = { k: string; s: number; e: number; ok: boolean; err?: string };
  const puts = () => parseLines<Put>(logFile);
  await waitFor('acknowledged puts before the kill', 15_000, () => puts().filter((p) => p.ok).length >= 5, () => writer.logTail(2000));
  await sleep(o.writeBeforeMs ?? 1000);

  const t = cluster.killEtcd(oldLeader);
  const survivors = cluster.masters.filter((m) => m !== oldLeader).map((m) => cluster.etcdEndpoint(m));
  let newLeaderMs = NaN;
  let newLeader = '';
  const deadline = t + (o.maxMs ?? 20_000);
  while (Date.now() < deadline) {
    const s = await statusOf(survivors);
    const done = Date.now();
    const other = s.find((x) => x.Status.leader && String(x.Status.leader) !== '0' && String(x.Status.leader) !== oldLeaderId && String(x.Status.header.member_id) === String(x.Status.leader));
    if (other) {
      newLeaderMs = done - t;
      newLeader = nodeOfEndpoint(other.Endpoint);
      break;
    }
    await sleep(50);
  }
  await sleep(o.writeAfterMs ?? 2000);
  await writer.stop(2000);

  const ps = puts();
  const acked = ps.filter((p) => p.ok);
  const read = await cluster.etcdctl(survivors, ['get', prefix, '--prefix', '--keys-only'], 15_000);
  if (read.code !== 0) throw new Error(`reading back the keys failed: ${show(read)}`);
  const present = new Set(read.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
  const lost = acked.filter((p) => !present.has(p.k)).map((p) => p.k);
  const ackTimes = acked.map((p) => p.e).sort((a, b) => a - b);
  // The longest wait between two acknowledgements from the kill on (the write stall a client saw).
  let writeStallMs = 0;
  let prev = ackTimes.filter((x) => x <= t).pop() ?? t;
  for (const x of ackTimes.filter((y) => y > t)) {
    writeStallMs = Math.max(writeStallMs, x - prev);
    prev = x;
  }
  return {
    oldLeader,
    newLeaderMs,
    newLeader,
    acked: acked.length,
    ackedAfterKill: acked.filter((p) => p.s > t).length,
    lost,
    failedPuts: ps.filter((p) => !p.ok).length,
    writeStallMs,
  };
}
