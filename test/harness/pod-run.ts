/**
 * One static pod of the runner (pod-runner.ts): its volumes, init containers and containers, each
 * container's restarts with the kubelet's crash-loop back-off and its probe workers.
 */
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import { constants } from 'os';
import { join } from 'path';
import { Lab, LabProcess } from './netns';
import { checkHostPathType, ContainerMount, createMissingSource, ImageEntry, ImageFs, resolveImage, setupScript } from './pod-images';
import { ProbeSpec, probeWorker, sleep } from './pod-probes';
import type { ContainerState, ContainerStatus, ExitInfo, PodEvent, PodStatus } from './pod-runner';

/** The kubelet's $(VAR) expansion of command and args: $$ escapes, unknown references stay as written. */
export function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => (m === '$$' ? '$' : name in env ? env[name] : m));
}

/** What a pod needs of its node runner. */
export interface RunCtx {
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
  /** Image table entries that come before IMAGES. */
  readonly images: readonly ImageEntry[];
  event(e: Omit<PodEvent, 'at'>): void;
}

/** The last ~2 KB a container wrote (its current log, preceded by the previous instance's when short). */
export function logTail(file: string | undefined, max = 2048): string {
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

export class PodRun {
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
      image = resolveImage(c.spec.image, this.ctx.images);
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
    const script = setupScript({ rootDir, etcDir: this.ctx.etcDir, image, mounts, hostname: this.ctx.node, workingDir: c.spec.workingDir || '/', env, argv, privileged: !!c.spec.securityContext?.privileged });
    const scriptFile = join(this.ctx.stateDir, 'rootfs', `${this.uid}-${c.name}-${inst}.sh`);
    writeFileSync(scriptFile, script, { mode: 0o700 });
    c.logFile = join(dir, `${inst}.log`);
    if (signal.aborted) return undefined;
    let proc: LabProcess;
    try {
      proc = this.ctx.lab.spawn(this.ctx.node, 'unshare', ['--mount', '--uts', '--propagation', 'private', '/bin/sh', scriptFile], { logFile: c.logFile });
    } catch (e) {
      // The lab is gone (destroyed under a running node): nothing can start any more.
      if (/is destroyed/.test((e as Error).message)) return undefined;
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
    if (!isRunning && !/pod-runner: container setup failed|unshare: failed to execute/.test(proc.logTail(4000))) {
      // It ran (and ended) before we looked: it did start.
      c.startedAt = Date.now();
      this.event(c.name, 'Normal', 'Started', `Started container ${c.name} (${image.description}) pid ${proc.pid}`);
    }
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
    // Aborted workers ignore what an in-flight probe returns; wait for them only briefly.
    await Promise.race([Promise.all(workers), sleep(2000)]);
    // The container's PID namespace would die with its init: take down whatever it left behind.
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* none left */ }
    const log = proc.logTail(4000);
    const reason = log.includes('pod-runner: container setup failed') ? 'StartError'
      : /unshare: failed to execute/.test(log) ? 'StartError' : st.code === 0 ? 'Completed' : 'Error';
    // As the runtime reports it: a signal's death is exit code 128 + its number (SIGKILL 137, SIGTERM 143).
    const code = st.code ?? (st.signal ? 128 + (constants.signals[st.signal] ?? 0) : null);
    c.lastExit = { code, signal: st.signal, reason, at: Date.now() };
    c.state = 'terminated';
    c.reason = reason;
    c.ready = false;
    c.started = false;
    this.event(c.name, st.code === 0 ? 'Normal' : 'Warning', c.init && st.code === 0 ? 'Completed' : 'Exited',
      `container ${c.name} exited with code ${code}${st.signal ? ` (${st.signal})` : ''} (${reason})${killReason ? ` after: ${killReason}` : ''}`);
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
