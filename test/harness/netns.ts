/**
 * A throw-away network lab for tests that run real daemons: one network namespace per node, all
 * joined by a bridge that lives in a namespace of its own. Node addresses exist only inside these
 * namespaces (nothing is added to the host's network), each node has its own loopback, and nodes
 * reach each other over the bridge only. Needs root and iproute2 (`ip netns`).
 *
 * Every process started through a lab is tracked by PID, runs in its own process group, gets
 * SIGKILL when the test process dies (setpriv --pdeathsig), and is stopped by `destroy()`, which also
 * deletes exactly the namespaces this lab created.
 */
import { ChildProcess, execFile, spawn as spawnChild, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'fs';

/** What to build. */
export interface LabOptions {
  /** Node names (short: they become part of namespace names). */
  readonly nodes: readonly string[];
  /** An IPv4 /24 such as "10.234.17.0/24"; default 10.234.<random>.0/24. Node i gets .(10 + i). */
  readonly subnet?: string;
  /**
   * Also give every node an IPv6 address, fd00:<random>::<10 + i>/64 (no duplicate-address detection, so
   * it is usable at once).
   * @default false
   */
  readonly ipv6?: boolean;
}

/** The outcome of a bounded command. */
export interface ExecResult {
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The command ran past its time limit and was killed. */
  readonly timedOut: boolean;
}

/** Options of a bounded command. */
export interface ExecOptions {
  /** Time limit; the command gets SIGKILL after it. Default 15 s. */
  readonly timeoutMs?: number;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
}

/** Options of a long-running process. */
export interface SpawnOptions {
  /** File that receives the process's stdout and stderr (appended). */
  readonly logFile: string;
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
}

/** A long-running process in a node's namespace. */
export interface LabProcess {
  readonly node: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** null while running. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** The last `maxChars` characters of the log. */
  logTail(maxChars?: number): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** A running lab. */
export interface Lab {
  /** Unique prefix of this lab's namespace names. */
  readonly id: string;
  readonly nodes: readonly string[];
  /** "10.234.17" for subnet 10.234.17.0/24. */
  readonly prefix: string;
  /** The network namespace of a node. */
  nsOf(node: string): string;
  /** The node's IPv4 address (only exists inside its namespace). */
  addressOf(node: string): string;
  /** The node's IPv6 address (labs made with `ipv6`). */
  address6Of(node: string): string;
  /** "fd00:1a2b:" for a lab with `ipv6` (addresses are prefix6 + ":" + host), else undefined. */
  readonly prefix6?: string;
  /** Runs a command inside the node's namespace, bounded in time; never throws for a non-zero exit. */
  exec(node: string, cmd: string, args: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Starts a long-running process inside the node's namespace. */
  spawn(node: string, cmd: string, args: readonly string[], opts: SpawnOptions): LabProcess;
  /** Every process this lab started, in start order. */
  processes(): readonly LabProcess[];
  /**
   * Stops every process (SIGTERM, SIGKILL after `graceMs`, default 5 s) and deletes the namespaces.
   * Idempotent: later calls return the first call's promise. Rejects (once done) if cleanup failed.
   */
  destroy(opts?: { graceMs?: number }): Promise<void>;
}

const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : existsSync('/sbin/ip') ? '/sbin/ip' : 'ip';
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Runs `ip <args>` on the host (namespace management only), throwing with stderr on failure. */
function ip(args: readonly string[]): void {
  const r = spawnSync(IP, args, { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
}

/**
 * Wraps a command so that it runs in a private mount namespace where each `source` directory is
 * bind-mounted over its `target` (the host's mount table is untouched; the mounts vanish with the
 * process). Lets several processes see different contents at the same path.
 */
export function withBindMounts(
  binds: readonly { readonly source: string; readonly target: string }[],
  cmd: string,
  args: readonly string[],
): { cmd: string; args: string[] } {
  const script = [...binds.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}"`), `shift ${2 * binds.length}`, 'exec "$@"'].join(' && ');
  return {
    cmd: 'unshare',
    args: ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...binds.flatMap((b) => [b.source, b.target]), cmd, ...args],
  };
}

// Last-resort cleanup should the test process exit without destroy() (a crash, a forced exit).
const liveLabs = new Set<{ kill(): void }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const l of liveLabs) l.kill();
  });
}

/** Builds a lab; on failure, removes whatever it created before throwing. */
export function createLab(opts: LabOptions): Lab {
  const nodes = [...opts.nodes];
  if (nodes.length === 0 || nodes.length > 200) throw new Error('createLab: give 1 to 200 nodes');
  if (new Set(nodes).size !== nodes.length) throw new Error('createLab: node names must be unique');
  for (const n of nodes) {
    if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(n)) throw new Error(`createLab: node name ${JSON.stringify(n)} must be a short lower-case label`);
  }
  const subnet = opts.subnet ?? `10.234.${randomBytes(1)[0]}.0/24`;
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.0\/24$/.exec(subnet);
  if (!m) throw new Error(`createLab: subnet ${subnet} must be an IPv4 /24 like 10.234.17.0/24`);
  const prefix = m[1];

  const id = `hacp-${process.pid}-${randomBytes(3).toString('hex')}`;
  const bridgeNs = `${id}-br`;
  const nsName = new Map(nodes.map((n) => [n, `${id}-${n}`]));
  const address = new Map(nodes.map((n, i) => [n, `${prefix}.${10 + i}`]));
  const prefix6 = opts.ipv6 ? `fd00:${randomBytes(2).toString('hex')}:` : undefined;
  const address6 = new Map(nodes.map((n, i) => [n, `${prefix6}:${(10 + i).toString(16)}`]));
  const created: string[] = [];
  const procs: (LabProcess & { killNow(): void })[] = [];

  const nsOf = (node: string): string => {
    const ns = nsName.get(node);
    if (!ns) throw new Error(`lab ${id}: no node ${node}`);
    return ns;
  };

  const killAllNow = (): void => {
    for (const p of procs) p.killNow();
    for (const ns of created) spawnSync(IP, ['netns', 'del', ns], { timeout: 5000 });
  };
  const guard = { kill: killAllNow };

  try {
    ip(['netns', 'add', bridgeNs]);
    created.push(bridgeNs);
    ip(['-n', bridgeNs, 'link', 'set', 'lo', 'up']);
    ip(['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    nodes.forEach((node, i) => {
      const ns = nsOf(node);
      ip(['netns', 'add', ns]);
      created.push(ns);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      // The veth is created inside the bridge namespace with its peer directly in the node's: no
      // interface ever appears in the host's namespace.
      ip(['-n', bridgeNs, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      ip(['-n', bridgeNs, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      ip(['-n', ns, 'addr', 'add', `${address.get(node)}/24`, 'dev', 'eth0']);
      if (prefix6) ip(['-n', ns, 'addr', 'add', `${address6.get(node)}/64`, 'dev', 'eth0', 'nodad']);
      ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    });
  } catch (e) {
    killAllNow();
    throw e;
  }
  liveLabs.add(guard);
  installExitHook();

  const nsArgs = (node: string, cmd: string, args: readonly string[]): string[] => ['netns', 'exec', nsOf(node), cmd, ...args];

  let destroyed: Promise<void> | undefined;

  return {
    id,
    nodes,
    prefix,
    nsOf,
    addressOf(node) {
      nsOf(node);
      return address.get(node)!;
    },
    address6Of(node) {
      nsOf(node);
      if (!prefix6) throw new Error(`lab ${id} has no IPv6 addresses (createLab({ ipv6: true }))`);
      return address6.get(node)!;
    },
    prefix6,
    exec(node, cmd, args, eopts = {}) {
      const timeout = eopts.timeoutMs ?? 15_000;
      return new Promise((resolve) => {
        execFile(IP, nsArgs(node, cmd, args), {
          timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, encoding: 'utf8',
          env: { ...process.env, ...eopts.env },
        }, (err, stdout, stderr) => {
          const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
          resolve({
            code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
            signal: e?.signal ?? null,
            stdout,
            stderr: stderr + (e && typeof e.code === 'string' ? `\n${e.message}` : ''),
            timedOut: !!e?.killed && e.signal === 'SIGKILL',
          });
        });
      });
    },
    spawn(node, cmd, args, sopts) {
      if (destroyed) throw new Error(`lab ${id} is destroyed`);
      const fd = openSync(sopts.logFile, 'a');
      let child: ChildProcess;
      try {
        const argv = nsArgs(node, cmd, args);
        // setpriv execs ip, which execs unshare/the command: the PID we hold is the daemon's own.
        child = SETPRIV
          ? spawnChild(SETPRIV, ['--pdeathsig', 'KILL', '--', IP, ...argv], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...sopts.env } })
          : spawnChild(IP, argv, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...sopts.env } });
      } finally {
        closeSync(fd);
      }
      let status: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        child.once('exit', (code, signal) => { status = { code, signal }; resolve(status); });
        child.once('error', () => {
          if (!status) {
            status = { code: null, signal: null };
            resolve(status);
          }
        });
      });
      if (child.pid === undefined) throw new Error(`could not start ${cmd} in ${nsOf(node)}`);
      const pid = child.pid;
      // Signals the process group we created (detached: the child leads it), only while it runs.
      const signalGroup = (sig: NodeJS.Signals): void => {
        if (status) return;
        try { process.kill(-pid, sig); } catch { /* already gone */ }
      };
      const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
      const proc = {
        node,
        pid,
        logFile: sopts.logFile,
        exited,
        exitStatus: () => status,
        logTail(maxChars = 4000) {
          try {
            const text = readFileSync(sopts.logFile, 'utf8');
            return text.slice(-maxChars);
          } catch {
            return '';
          }
        },
        async stop(graceMs = 5000) {
          signalGroup('SIGTERM');
          if (await within(graceMs)) return;
          signalGroup('SIGKILL');
          if (!(await within(5000))) throw new Error(`process ${pid} (${cmd} on ${node}) did not die after SIGKILL`);
        },
        killNow: () => signalGroup('SIGKILL'),
      };
      procs.push(proc);
      return proc;
    },
    processes: () => [...procs],
    destroy(dopts = {}) {
      destroyed ??= (async () => {
        const problems: string[] = [];
        const stops = await Promise.allSettled(procs.map((p) => p.stop(dopts.graceMs)));
        for (const s of stops) if (s.status === 'rejected') problems.push(String(s.reason));
        for (const ns of [...created].reverse()) {
          try { ip(['netns', 'del', ns]); } catch (e) { problems.push((e as Error).message); }
        }
        created.length = 0;
        liveLabs.delete(guard);
        if (problems.length > 0) throw new Error(`lab ${id} cleanup: ${problems.join('; ')}`);
      })();
      return destroyed;
    },
  };
}
