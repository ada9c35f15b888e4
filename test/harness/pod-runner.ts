/**
 * A kubelet-faithful static-pod runner for the test lab: it watches a node's manifests directory and runs
 * each static Pod as the kubelet would, without a container runtime. Each container is a process in the
 * node's network namespace (the pods are hostNetwork), in a private mount (and UTS) namespace whose root
 * is a tmpfs holding only the image's files and the pod's volumes (pod-images.ts), probed as the kubelet
 * probes (pod-probes.ts), restarted with the kubelet's crash-loop back-off.
 *
 * Kubelet behaviour reproduced:
 * - file source: every file of the manifests dir whose name does not start with "." (polled, default
 *   every 500 ms); a new file starts a pod, a changed file (content hash) stops the old pod (SIGTERM, SIGKILL
 *   after terminationGracePeriodSeconds) and then starts the new one, a removed file stops its pod;
 * - volumes: hostPath type checks (FailedMount "hostPath type check failed: … is not a file", retried with
 *   the volume manager's back-off 500 ms doubling to 2m2s), an unset type creates a missing source dir as
 *   containerd does; emptyDir is a fresh per-pod directory;
 * - initContainers run in order, each to exit 0, retried with back-off; then all containers start;
 * - restartPolicy Always with the crash-loop back-off: the first restart is immediate, then 10 s doubling
 *   to 300 s, measured from the container's exit, reset once 2×max (10 min) passed since the last step;
 * - probes: startup gates liveness and readiness, liveness/startup failure kills and restarts the container,
 *   readiness sets `ready`; a container without probes is ready once running;
 * - a container's death takes every process it started with it (as its PID namespace would).
 * Not reproduced: resource requests, securityContext (everything runs as root with all capabilities),
 * hostPID is always on (no PID namespaces), image pulls (an image is resolved to host binaries: IMAGES).
 *
 * Every process is started through the lab (tracked by PID, own process group, pdeathsig); every wait is
 * bounded.
 */
import { createHash } from 'crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { ExecResult, Lab, LabProcess } from './netns';
import { checkHostPathType, ContainerMount, createMissingSource, ImageFs, resolveImage, setupScript, writeMinimalEtc } from './pod-images';
import { ProbeKind, ProbeSpec, probeWorker, sleep } from './pod-probes';

export { IMAGES, resolveImage } from './pod-images';

/** Options of startNode. */
export interface NodeOptions {
  /** The node's installed filesystem: hostPath /x is <root>/x. */
  readonly root: string;
  /** Default <root>/etc/kubernetes/manifests (the kubelet's staticPodPath). */
  readonly manifestsDir?: string;
  /** Logs, container mount points, emptyDirs. Default a new temp dir. */
  readonly stateDir?: string;
  /** Crash-loop back-off; the kubelet's is 10 s doubling to 300 s, reset after 2×max without a step. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly resetMs?: number };
  /** How often the manifests dir is read. Default 500 ms. */
  readonly pollMs?: number;
  /** Kubelet minor for the probes' User-Agent. Default "1.37". */
  readonly kubeletMinor?: string;
}

export type ContainerState = 'waiting' | 'running' | 'terminated';

/** A container's exit. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string;
  readonly at: number;
}

export interface ContainerStatus {
  readonly name: string;
  readonly init: boolean;
  readonly image: string;
  readonly state: ContainerState;
  /** Why waiting/terminated: ContainerCreating, PodInitializing, CrashLoopBackOff, ErrImagePull, Error, Completed… */
  readonly reason?: string;
  readonly restarts: number;
  readonly ready: boolean;
  readonly started: boolean;
  readonly lastExit?: ExitInfo;
  readonly pid?: number;
  readonly startedAt?: number;
  readonly logFile?: string;
  readonly lastProbeFailure?: { readonly probe: ProbeKind; readonly output: string; readonly at: number };
}

export interface PodStatus {
  /** metadata.name. */
  readonly name: string;
  /** The mirror pod's name: <name>-<node>. */
  readonly fullName: string;
  readonly file: string;
  readonly hash: string;
  readonly containers: readonly ContainerStatus[];
  readonly initContainers: readonly ContainerStatus[];
  /** Why the pod cannot start its containers (volume errors), if it cannot. */
  readonly error?: string;
}

/** Something that happened, as the kubelet's events. */
export interface PodEvent {
  readonly at: number;
  readonly pod: string;
  readonly container?: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** A node's runner. */
export interface NodeRunner {
  readonly node: string;
  readonly root: string;
  readonly stateDir: string;
  readonly logDir: string;
  pods(): PodStatus[];
  pod(name: string): PodStatus | undefined;
  events(): PodEvent[];
  /** Resolves once every named pod exists and all its containers are ready; else throws with each container's state, probe failure and log tail. */
  waitReady(podNames: readonly string[], timeoutMs: number): Promise<void>;
  /** Polls `fn` (every 100 ms) until truthy; throws with the pods' state on timeout. */
  waitFor<T>(what: string, timeoutMs: number, fn: () => T | undefined | false): Promise<T>;
  /** Runs a command inside a running container (its mount namespace and root, the node's network). */
  exec(pod: string, container: string, command: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** Sends a signal to a container's main process (the kubelet then restarts it as any exit). */
  killContainer(pod: string, container: string, signal?: NodeJS.Signals): void;
  /** Stops a pod (fault injection); it stays stopped until its manifest changes. */
  stopPod(name: string): Promise<void>;
  /** Stops watching and stops every pod (grace per pod, or `graceMs`). */
  stopNode(opts?: { graceMs?: number }): Promise<void>;
}

/** Reads a static pod manifest (YAML or JSON) and checks the little the runner relies on. */
export function parseManifest(text: string): any {
  const pod = parse(text);
  if (!pod || pod.kind !== 'Pod') throw new Error(`not a Pod (kind ${JSON.stringify(pod?.kind)})`);
  if (!pod.metadata?.name) throw new Error('the Pod has no metadata.name');
  if (!Array.isArray(pod.spec?.containers) || pod.spec.containers.length === 0) throw new Error('the Pod has no spec.containers');
  return pod;
}

/** The kubelet's $(VAR) expansion of command and args: $$ escapes, unknown references stay as written. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => (m === '$$' ? '$' : name in env ? env[name] : m));
}

/** Starts the runner of one lab node. */
export function startNode(lab: Lab, node: string, opts: NodeOptions): NodeRunner {
  const root = opts.root;
  const manifestsDir = opts.manifestsDir ?? join(root, 'etc/kubernetes/manifests');
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), `hacp-pods-${node}-`));
  const logDir = join(stateDir, 'logs');
  const etcDir = join(stateDir, 'etc');
  mkdirSync(logDir, { recursive: true });
  writeMinimalEtc(etcDir, node, lab.addressOf(node));
  const backoff = { initialMs: opts.backoff?.initialMs ?? 10_000, maxMs: opts.backoff?.maxMs ?? 300_000 };
  const resetMs = opts.backoff?.resetMs ?? 2 * backoff.maxMs;
  const kubeletMinor = opts.kubeletMinor ?? '1.37';
  const events: PodEvent[] = [];
  const ctx: RunCtx = {
    lab, node, root, stateDir, logDir, etcDir, backoff, resetMs, kubeletMinor, podIp: lab.addressOf(node),
    event: (e) => events.push({ at: Date.now(), ...e }),
  };

  // The file source: file name → the pod running from it.
  const files = new Map<string, { hash: string; pod?: PodRun; held?: boolean; chain: Promise<void> }>();
  /** Every pod transition (stop old, start new) still under way, also of files since removed. */
  const transitions = new Set<Promise<void>>();
  const watching = new AbortController();
  const scan = (): void => {
    let names: string[] = [];
    try { names = readdirSync(manifestsDir).filter((n) => !n.startsWith('.')); } catch { /* no dir yet: no pods */ }
    const seen = new Set<string>();
    for (const n of names) {
      const file = join(manifestsDir, n);
      let text: string;
      try {
        if (!statSync(file).isFile()) continue;
        text = readFileSync(file, 'utf8');
      } catch { continue; }
      seen.add(n);
      const hash = createHash('sha256').update(text).digest('hex');
      const entry = files.get(n);
      if (entry && entry.hash === hash) continue;
      const next = { hash, chain: Promise.resolve(), pod: undefined as PodRun | undefined };
      let pod: any;
      try { pod = parseManifest(text); } catch (e) {
        ctx.event({ pod: n, type: 'Warning', reason: 'FailedParse', message: `could not process manifest file ${file}: ${(e as Error).message}` });
      }
      const old = entry?.pod;
      if (pod) next.pod = new PodRun(ctx, pod, file, hash);
      next.chain = (entry?.chain ?? Promise.resolve()).then(async () => {
        if (old) await old.stop('the manifest changed');
        if (!watching.signal.aborted) next.pod?.start();
      });
      files.set(n, next);
      track(next.chain);
    }
    for (const [n, entry] of files) {
      if (seen.has(n)) continue;
      files.delete(n);
      const old = entry.pod;
      entry.chain = entry.chain.then(async () => { await old?.stop('the manifest was removed'); });
      track(entry.chain);
    }
  };
  const track = (p: Promise<void>) => { transitions.add(p); p.finally(() => transitions.delete(p)).catch(() => undefined); };
  const watcher = (async () => {
    while (!watching.signal.aborted) {
      scan();
      await sleep(opts.pollMs ?? 500, watching.signal);
    }
  })();

  const running = () => [...files.values()].filter((f) => f.pod && !f.held).map((f) => f.pod!);
  const find = (name: string) => running().find((p) => p.pod.metadata.name === name || p.fullName === name);
  const status = () => running().map((p) => p.status());
  const describe = (names?: readonly string[]) => status()
    .filter((p) => !names || names.includes(p.name) || names.includes(p.fullName))
    .map(describePod).join('\n');

  const runner: NodeRunner = {
    node, root, stateDir, logDir,
    pods: status,
    pod: (name) => find(name)?.status(),
    events: () => [...events],
    async waitReady(podNames, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const missing = podNames.filter((n) => !find(n)?.status().containers.every((c) => c.ready));
        if (missing.length === 0) return;
        if (Date.now() > deadline) {
          const absent = missing.filter((n) => !find(n));
          throw new Error(`pods not ready on ${node} within ${timeoutMs} ms: ${missing.join(', ')}`
            + (absent.length ? `\nno pod named ${absent.join(', ')} (manifests: ${[...files.keys()].join(', ') || 'none'} in ${manifestsDir})` : '')
            + `\n${describe(missing)}\nrecent events:\n${events.slice(-15).map(fmtEvent).join('\n')}`);
        }
        await sleep(200);
      }
    },
    async waitFor(what, timeoutMs, fn) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = fn();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms on ${node} waiting for ${what}\n${describe()}\nrecent events:\n${events.slice(-15).map(fmtEvent).join('\n')}`);
        await sleep(100);
      }
    },
    exec(pod, container, command, timeoutMs = 10_000) {
      const c = find(pod)?.container(container);
      if (!c?.proc || c.proc.exitStatus()) throw new Error(`${pod}/${container} is not running on ${node}`);
      const env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`);
      return lab.exec(node, '/usr/bin/env', ['-i', ...env, '/usr/bin/nsenter', '-t', String(c.proc.pid), '-m', '-u', '-r', '-w', '--', ...command], { timeoutMs });
    },
    killContainer(pod, container, signal = 'SIGKILL') {
      const c = find(pod)?.container(container);
      if (!c?.proc || c.proc.exitStatus()) throw new Error(`${pod}/${container} is not running on ${node}`);
      ctx.event({ pod, container, type: 'Warning', reason: 'FaultInjected', message: `${signal} sent to ${c.proc.pid}` });
      process.kill(c.proc.pid, signal);
    },
    async stopPod(name) {
      const entry = [...files.values()].find((f) => f.pod && (f.pod.pod.metadata.name === name || f.pod.fullName === name));
      if (!entry) throw new Error(`no pod ${name} on ${node}`);
      entry.held = true;
      await entry.pod!.stop('stopPod (fault injection)');
    },
    async stopNode(sopts = {}) {
      watching.abort();
      await watcher;
      await Promise.allSettled([...transitions]);
      await Promise.all([...files.values()].map((f) => f.pod?.stop('stopNode', sopts.graceMs)));
    },
  };
  return runner;
}

// ---------------------------------------------------------------------------------------------------

interface RunCtx {
  readonly lab: Lab;
  readonly node: string;
  readonly root: string;
  readonly stateDir: string;
  readonly logDir: string;
  readonly etcDir: string;
  readonly podIp: string;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly resetMs: number;
  readonly kubeletMinor: string;
  event(e: Omit<PodEvent, 'at'>): void;
}

export const fmtEvent = (e: PodEvent) => `${new Date(e.at).toISOString().slice(11, 23)} ${e.type} ${e.reason} ${e.pod}${e.container ? `/${e.container}` : ''}: ${e.message}`;

function describePod(p: PodStatus): string {
  const lines = [`pod ${p.name} (${p.file})${p.error ? `: ${p.error}` : ''}`];
  for (const c of [...p.initContainers, ...p.containers]) {
    lines.push(`  ${c.init ? 'init container' : 'container'} ${c.name} (${c.image}): ${c.state}${c.reason ? ` (${c.reason})` : ''}, ready ${c.ready}, started ${c.started}, restarts ${c.restarts}`
      + (c.lastExit ? `, last exit code ${c.lastExit.code}${c.lastExit.signal ? ` signal ${c.lastExit.signal}` : ''} (${c.lastExit.reason})` : '')
      + (c.lastProbeFailure ? `\n    last ${c.lastProbeFailure.probe} probe failure: ${c.lastProbeFailure.output.slice(0, 1500)}` : ''));
    const tail = logTail(c.logFile);
    if (tail) lines.push(`    log tail (${c.logFile}):\n${tail.split('\n').map((l) => `      | ${l}`).join('\n')}`);
  }
  return lines.join('\n');
}

/** The last ~2 KB a container wrote (its current log, preceded by the previous instance's when short). */
function logTail(file: string | undefined, max = 2048): string {
  if (!file) return '';
  const read = (f: string) => { try { return readFileSync(f, 'utf8'); } catch { return ''; } };
  let text = read(file);
  const m = /^(.*\/)(\d+)\.log$/.exec(file);
  if (text.length < max && m && Number(m[2]) > 0) text = `${read(`${m[1]}${Number(m[2]) - 1}.log`).slice(-(max - text.length))}${text ? `--- (restart) ---\n${text}` : ''}`;
  return text.slice(-max).trim();
}

/** Resolves once the container's process runs the command in its new root (or has exited); bounded (30 s). */
async function execed(proc: LabProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (proc.exitStatus() === null && Date.now() < deadline) {
    try {
      const argv0 = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0')[0];
      if (readlinkSync(`/proc/${proc.pid}/root`) !== '/' && argv0 !== '/usr/bin/unshare') return;
    } catch { /* gone: exitStatus says so soon */ }
    await sleep(20);
  }
}

class ContainerRun {
  state: ContainerState = 'waiting';
  reason = 'ContainerCreating';
  restarts = 0;
  instances = 0;
  ready = false;
  started = false;
  lastExit?: ExitInfo;
  proc?: LabProcess;
  startedAt?: number;
  logFile?: string;
  lastProbeFailure?: ContainerStatus['lastProbeFailure'];
  env: Record<string, string> = {};
  /** The kubelet's per-container back-off entry. */
  backoff?: { ms: number; lastUpdate: number };
  constructor(readonly spec: any, readonly init: boolean) {}
  get name(): string { return this.spec.name; }
  status(): ContainerStatus {
    return {
      name: this.name, init: this.init, image: this.spec.image, state: this.state, reason: this.state === 'running' ? undefined : this.reason,
      restarts: this.restarts, ready: this.ready, started: this.started, lastExit: this.lastExit, pid: this.state === 'running' ? this.proc?.pid : undefined,
      startedAt: this.startedAt, logFile: this.logFile, lastProbeFailure: this.lastProbeFailure,
    };
  }
}

class PodRun {
  readonly fullName: string;
  readonly uid: string;
  private readonly containers: ContainerRun[];
  private readonly inits: ContainerRun[];
  private readonly abort = new AbortController();
  private error?: string;
  private mounts = new Map<string, string>();
  private done?: Promise<void>;
  private stopping?: Promise<void>;

  constructor(private readonly ctx: RunCtx, readonly pod: any, readonly file: string, readonly hash: string) {
    this.fullName = `${pod.metadata.name}-${ctx.node}`;
    this.uid = hash.slice(0, 16);
    this.containers = pod.spec.containers.map((c: any) => new ContainerRun(c, false));
    this.inits = (pod.spec.initContainers ?? []).map((c: any) => new ContainerRun(c, true));
  }

  container(name: string): ContainerRun | undefined {
    return [...this.inits, ...this.containers].find((c) => c.name === name);
  }

  status(): PodStatus {
    return {
      name: this.pod.metadata.name, fullName: this.fullName, file: this.file, hash: this.hash, error: this.error,
      containers: this.containers.map((c) => c.status()), initContainers: this.inits.map((c) => c.status()),
    };
  }

  private event(container: string | undefined, type: PodEvent['type'], reason: string, message: string): void {
    this.ctx.event({ pod: this.pod.metadata.name, container, type, reason, message });
  }

  start(): void {
    this.done = this.run().catch((e) => { this.error = `runner error: ${(e as Error).stack}`; this.event(undefined, 'Warning', 'RunnerError', String(e)); });
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    // Volumes: retried with the volume manager's exponential back-off until they all set up.
    for (let wait = 500; !signal.aborted; wait = Math.min(wait * 2, 122_000)) {
      const err = this.setUpVolumes();
      if (!err) { this.error = undefined; break; }
      this.error = err;
      this.event(undefined, 'Warning', 'FailedMount', err);
      if (!(await sleep(wait, signal))) return;
    }
    for (const c of this.inits) {
      for (const m of this.containers) m.reason = 'PodInitializing';
      for (;;) {
        const exit = await this.runOnce(c);
        if (!exit) return;
        if (exit.code === 0) break;
      }
    }
    // restartPolicy (static pods: Always): Never leaves an exited container, OnFailure restarts only a failed one.
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    await Promise.all(this.containers.map(async (c) => {
      for (;;) {
        const exit = await this.runOnce(c);
        if (!exit || policy === 'Never' || (policy === 'OnFailure' && exit.code === 0)) return;
      }
    }));
  }

  /** hostPath checks (and emptyDirs); the first error as the kubelet's FailedMount message. */
  private setUpVolumes(): string | undefined {
    for (const v of this.pod.spec.volumes ?? []) {
      if (v.hostPath) {
        const source = join(this.ctx.root, v.hostPath.path);
        const err = checkHostPathType(source, v.hostPath.path, v.hostPath.type);
        if (err) return `MountVolume.SetUp failed for volume ${JSON.stringify(v.name)} : ${err}`;
        this.mounts.set(v.name, source);
      } else if (v.emptyDir) {
        const dir = join(this.ctx.stateDir, 'emptydir', this.uid, v.name);
        mkdirSync(dir, { recursive: true, mode: 0o777 });
        this.mounts.set(v.name, dir);
      } else {
        return `volume ${JSON.stringify(v.name)}: only hostPath and emptyDir volumes are supported by the pod runner`;
      }
    }
    return undefined;
  }

  /** Waits out the back-off, runs one instance of the container until it exits; undefined when the pod stops. */
  private async runOnce(c: ContainerRun): Promise<ExitInfo | undefined> {
    const signal = this.abort.signal;
    const { backoff: b, resetMs } = this.ctx;
    if (c.lastExit) {
      // pkg/kubelet/kuberuntime doBackOff + util/flowcontrol Backoff, keyed by this pod's container.
      const now = Date.now();
      const expired = !c.backoff || now - c.backoff.lastUpdate > resetMs;
      if (!expired && now - c.lastExit.at < c.backoff!.ms) {
        const left = c.backoff!.ms - (now - c.lastExit.at);
        c.state = 'waiting';
        c.reason = c.lastExit.reason === 'ErrImagePull' ? 'ImagePullBackOff' : 'CrashLoopBackOff';
        this.event(c.name, 'Warning', 'BackOff', `Back-off ${Math.round(c.backoff!.ms / 1000)}s restarting failed container ${c.name} in pod ${this.fullName}`);
        if (!(await sleep(left, signal))) return undefined;
      }
      c.backoff = { ms: expired ? b.initialMs : Math.min(c.backoff!.ms * 2, b.maxMs), lastUpdate: Date.now() };
    }
    if (signal.aborted) return undefined;
    let image: ImageFs;
    try {
      image = resolveImage(c.spec.image);
    } catch (e) {
      c.state = 'waiting';
      c.reason = 'ErrImagePull';
      this.event(c.name, 'Warning', 'Failed', `Failed to pull image ${JSON.stringify(c.spec.image)}: ${(e as Error).message}`);
      c.lastExit = { code: null, signal: null, reason: 'ErrImagePull', at: Date.now() };
      return c.lastExit;
    }
    const inst = c.instances++;
    if (inst > 0) c.restarts++;
    const env = this.envOf(c.spec, image);
    c.env = env;
    const argv = [...(c.spec.command ?? image.entrypoint ?? []), ...(c.spec.args ?? [])].map((a: string) => expandVars(String(a), env));
    const mounts: ContainerMount[] = [];
    for (const m of c.spec.volumeMounts ?? []) {
      const source = this.mounts.get(m.name);
      if (!source) {
        this.event(c.name, 'Warning', 'Failed', `volumeMount ${m.name} names no volume of the pod`);
        c.lastExit = { code: null, signal: null, reason: 'CreateContainerConfigError', at: Date.now() };
        return c.lastExit;
      }
      const err = createMissingSource(source);
      if (err) { this.event(c.name, 'Warning', 'Failed', err); c.lastExit = { code: null, signal: null, reason: 'CreateContainerError', at: Date.now() }; return c.lastExit; }
      mounts.push({ source, mountPath: m.mountPath, readOnly: !!m.readOnly });
    }
    const dir = join(this.ctx.logDir, `${this.pod.metadata.namespace ?? 'default'}_${this.fullName}_${this.uid}`, c.name);
    mkdirSync(dir, { recursive: true });
    const rootDir = join(this.ctx.stateDir, 'rootfs', `${this.uid}-${c.name}-${inst}`);
    mkdirSync(rootDir, { recursive: true });
    const script = setupScript({ rootDir, etcDir: this.ctx.etcDir, image, mounts, hostname: this.ctx.node, workingDir: c.spec.workingDir || '/', env, argv });
    const scriptFile = join(this.ctx.stateDir, 'rootfs', `${this.uid}-${c.name}-${inst}.sh`);
    writeFileSync(scriptFile, script, { mode: 0o700 });
    c.logFile = join(dir, `${inst}.log`);
    if (signal.aborted) return undefined;
    let proc: LabProcess;
    try {
      proc = this.ctx.lab.spawn(this.ctx.node, 'unshare', ['--mount', '--uts', '--propagation', 'private', '/bin/sh', scriptFile], { logFile: c.logFile });
    } catch (e) {
      c.lastExit = { code: null, signal: null, reason: `StartError: ${(e as Error).message}`, at: Date.now() };
      return c.lastExit;
    }
    c.proc = proc;
    // Running once the setup script has chrooted and exec'd the command (as runc's start returns).
    await execed(proc);
    if (proc.exitStatus() === null) {
      c.state = 'running';
      c.startedAt = Date.now();
    }
    c.ready = false;
    const isRunning = c.state === 'running';
    c.started = isRunning && !(!c.init && c.spec.startupProbe);
    const probes = c.init || !isRunning ? [] : (['startup', 'liveness', 'readiness'] as const).filter((k) => c.spec[`${k}Probe`]);
    if (!c.init && !c.spec.readinessProbe) c.ready = c.started;
    if (isRunning) this.event(c.name, 'Normal', 'Started', `Started container ${c.name} (${image.description}) pid ${proc.pid}`);
    const probing = new AbortController();
    const onPodStop = () => probing.abort();
    signal.addEventListener('abort', onPodStop, { once: true });
    const target = () => ({ lab: this.ctx.lab, node: this.ctx.node, podIp: this.ctx.podIp, ports: c.spec.ports ?? [], pid: proc.pid, env, kubeletMinor: this.ctx.kubeletMinor });
    let killReason: string | undefined;
    const workers = probes.map((kind) => probeWorker(kind, c.spec[`${kind}Probe`] as ProbeSpec, c.startedAt!, target, {
      started: () => c.started,
      onFailedAttempt: (output) => {
        c.lastProbeFailure = { probe: kind, output, at: Date.now() };
        this.event(c.name, 'Warning', 'Unhealthy', `${kind[0].toUpperCase()}${kind.slice(1)} probe failed: ${output}`);
      },
      onResult: (ok) => {
        if (kind === 'startup' && ok) { c.started = true; if (!c.spec.readinessProbe) c.ready = true; }
        if (kind === 'readiness') c.ready = ok && c.started;
        if (kind !== 'readiness' && !ok && !killReason) {
          killReason = `Container ${c.name} failed ${kind} probe, will be restarted`;
          this.event(c.name, 'Normal', 'Killing', killReason);
          const grace = (c.spec[`${kind}Probe`].terminationGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
          proc.stop(grace).catch(() => undefined);
        }
      },
    }, probing.signal));
    const st = await proc.exited;
    probing.abort();
    signal.removeEventListener('abort', onPodStop);
    await Promise.all(workers);
    // The container's PID namespace would die with its init: take down whatever it left behind.
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* none left */ }
    const log = proc.logTail(4000);
    const reason = log.includes('pod-runner: container setup failed') ? 'StartError'
      : /unshare: failed to execute/.test(log) ? 'StartError' : st.code === 0 ? 'Completed' : 'Error';
    c.lastExit = { code: st.code, signal: st.signal, reason, at: Date.now() };
    c.state = 'terminated';
    c.reason = reason;
    c.ready = false;
    c.started = false;
    this.event(c.name, st.code === 0 ? 'Normal' : 'Warning', c.init && st.code === 0 ? 'Completed' : 'Exited',
      `container ${c.name} exited${st.code !== null ? ` with code ${st.code}` : ''}${st.signal ? ` by ${st.signal}` : ''} (${reason})${killReason ? ` after: ${killReason}` : ''}`);
    return signal.aborted ? undefined : c.lastExit;
  }

  private envOf(spec: any, image: ImageFs): Record<string, string> {
    const env: Record<string, string> = { PATH: image.path, HOSTNAME: this.ctx.node, HOME: '/root' };
    const field: Record<string, string> = {
      'metadata.name': this.fullName, 'metadata.namespace': this.pod.metadata.namespace ?? 'default', 'metadata.uid': this.uid,
      'spec.nodeName': this.ctx.node, 'spec.serviceAccountName': '', 'status.podIP': this.ctx.podIp, 'status.hostIP': this.ctx.podIp,
      'status.podIPs': this.ctx.podIp, 'status.hostIPs': this.ctx.podIp,
    };
    for (const e of spec.env ?? []) {
      if (e.valueFrom?.fieldRef) env[e.name] = field[e.valueFrom.fieldRef.fieldPath] ?? '';
      else env[e.name] = expandVars(String(e.value ?? ''), env);
    }
    return env;
  }

  /** Stops every container (SIGTERM, SIGKILL after the grace period); idempotent. */
  stop(why: string, graceMs?: number): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      const grace = graceMs ?? (this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      const live = [...this.inits, ...this.containers].filter((c) => c.proc && !c.proc.exitStatus());
      if (live.length) this.event(undefined, 'Normal', 'Killing', `Stopping pod ${this.fullName} (${why}): ${live.map((c) => c.name).join(', ')}`);
      await Promise.all(live.map((c) => c.proc!.stop(grace).catch((e) => this.event(c.name, 'Warning', 'KillFailed', String(e)))));
      await this.done;
      this.event(undefined, 'Normal', 'PodStopped', `pod ${this.fullName} stopped (${why})`);
    })();
    return this.stopping;
  }
}
