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
 * - securityContext.privileged: only a privileged container may write /sys and /proc/sys (runc's defaults);
 * - a container is "running" once its command has been exec'd in its new root (not while it is set up).
 * Not reproduced: resource requests, capabilities and users (everything runs as root with all
 * capabilities), seccomp, hostPID is always on (no PID namespaces), image pulls (an image is resolved to
 * host binaries: IMAGES in pod-images.ts), volumes other than hostPath and emptyDir. keepalived's
 * track_process cannot work in a lab namespace (the proc connector exists only in the initial one).
 *
 * exec (probes and NodeRunner.exec) runs `nsenter -t <pid> -m -u -r -w` through lab.exec: the command
 * sees exactly the container's mount namespace, root and working directory (and resolves its first word
 * on the container's PATH, with the container's environment), in the node's network namespace.
 *
 * Every process is started through the lab (tracked by PID, own process group, pdeathsig); every wait is
 * bounded.
 */
import { createHash } from 'crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { ExecResult, Lab } from './netns';
import { ImageEntry, writeMinimalEtc } from './pod-images';
import { ProbeKind, sleep } from './pod-probes';
import { logTail, PodRun, RunCtx } from './pod-run';

export { hostUsrImage, ImageEntry, ImageFs, IMAGES, resolveImage } from './pod-images';
export { expandVars } from './pod-run';

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
  /** Image table entries tried before the built-in IMAGES. */
  readonly images?: readonly ImageEntry[];
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
  waitFor<T>(what: string, timeoutMs: number, fn: () => T | undefined | false | Promise<T | undefined | false>): Promise<T>;
  /** Runs a command inside a running container (its mount namespace and root, the node's network). */
  exec(pod: string, container: string, command: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** Sends a signal to a container's main process (the kubelet then restarts it as any exit). */
  killContainer(pod: string, container: string, signal?: NodeJS.Signals): void;
  /** Stops a pod (fault injection); it stays stopped until its manifest changes or startPod. */
  stopPod(name: string): Promise<void>;
  /** Starts a pod stopped by stopPod again, from the same manifest (as a kubelet that runs it anew). */
  startPod(name: string): void;
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
    lab, node, root, stateDir, logDir, etcDir, backoff, resetMs, kubeletMinor, podIp: lab.addressOf(node), images: opts.images ?? [],
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
        const v = await fn();
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
    startPod(name) {
      const entry = [...files.values()].find((f) => f.held && f.pod && (f.pod.pod.metadata.name === name || f.pod.fullName === name));
      if (!entry) throw new Error(`no pod ${name} stopped by stopPod on ${node}`);
      const old = entry.pod!;
      entry.pod = new PodRun(ctx, old.pod, old.file, entry.hash);
      entry.held = false;
      ctx.event({ pod: name, type: 'Normal', reason: 'FaultCleared', message: 'startPod: started again from its manifest' });
      entry.pod.start();
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
