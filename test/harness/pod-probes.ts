/**
 * Container probes as the kubelet runs them (pkg/kubelet/prober): one worker per probe, the manifest's
 * numbers with the kubelet's defaults (period 10 s, timeout 1 s, success 1, failure 3, no initial delay),
 * a result changes only after `successThreshold`/`failureThreshold` equal results in a row, liveness and
 * readiness wait for the startup probe to succeed, the startup probe stops once it has.
 *
 * How each kind is run, inside the node's network namespace (lab.exec):
 * - httpGet: curl, no certificate verification (the kubelet's InsecureSkipVerify), User-Agent
 *   kube-probe/<minor>, Accept: *\/*, redirects followed; 200 ≤ status < 400 succeeds;
 * - tcpSocket: a TCP connect (bash's /dev/tcp) within the timeout;
 * - exec: `nsenter -t <container pid> -m -u -r -w` — the command runs in the container's own mount
 *   namespace, chroot and working directory (so it sees exactly the container's files and resolves the
 *   command on the container's PATH), in the node's network namespace, with the container's
 *   environment; exit 0 succeeds; killed after timeoutSeconds.
 */
import { Lab } from './netns';

/** A probe of a container spec (the Kubernetes API's shape). */
export interface ProbeSpec {
  readonly httpGet?: { readonly host?: string; readonly path?: string; readonly port: number | string; readonly scheme?: string; readonly httpHeaders?: readonly { name: string; value: string }[] };
  readonly tcpSocket?: { readonly host?: string; readonly port: number | string };
  readonly exec?: { readonly command: readonly string[] };
  readonly grpc?: unknown;
  readonly initialDelaySeconds?: number;
  readonly periodSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly successThreshold?: number;
  readonly failureThreshold?: number;
  readonly terminationGracePeriodSeconds?: number;
}

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

/** The kubelet's defaults for absent numbers. */
export function probeTimings(p: ProbeSpec) {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds || 10) * 1000,
    timeoutMs: (p.timeoutSeconds || 1) * 1000,
    success: p.successThreshold || 1,
    failure: p.failureThreshold || 3,
  };
}

/** What a probe needs to know about its container. */
export interface ProbeTarget {
  readonly lab: Lab;
  readonly node: string;
  /** The pod IP: for hostNetwork pods the node's address. */
  readonly podIp: string;
  /** The container's named ports. */
  readonly ports: readonly { readonly name?: string; readonly containerPort: number }[];
  /** The container's main process (for exec probes). */
  readonly pid: number;
  readonly env: Readonly<Record<string, string>>;
  /** "1.37", for the User-Agent. */
  readonly kubeletMinor: string;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly output: string;
}

function resolvePort(port: number | string, t: ProbeTarget): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = t.ports.find((x) => x.name === port);
  if (!p) throw new Error(`port ${JSON.stringify(port)} is not a named port of the container (ports: ${JSON.stringify(t.ports)})`);
  return p.containerPort;
}

const hostOf = (h: string) => (h.includes(':') ? `[${h}]` : h);

/** Runs one probe once. */
export async function runProbe(p: ProbeSpec, t: ProbeTarget): Promise<ProbeResult> {
  const { timeoutMs } = probeTimings(p);
  let port: number;
  try {
    port = p.httpGet ? resolvePort(p.httpGet.port, t) : p.tcpSocket ? resolvePort(p.tcpSocket.port, t) : 0;
  } catch (e) {
    return { ok: false, output: (e as Error).message };
  }
  if (p.httpGet) {
    const g = p.httpGet;
    const scheme = (g.scheme ?? 'HTTP').toLowerCase();
    const path = g.path ? (g.path.startsWith('/') ? g.path : `/${g.path}`) : '/';
    const url = `${scheme}://${hostOf(g.host || t.podIp)}:${port}${path}`;
    const marker = '\n__pod_runner_status__';
    const args = ['-k', '-sS', '-L', '--noproxy', '*', '--max-redirs', '10', '--max-time', String(timeoutMs / 1000), '-o', '-', '-w', `${marker}%{http_code}`,
      '-H', `User-Agent: kube-probe/${t.kubeletMinor}`, '-H', 'Accept: */*',
      ...(g.httpHeaders ?? []).flatMap((h) => ['-H', `${h.name}: ${h.value}`]), url];
    const r = await t.lab.exec(t.node, 'curl', args, { timeoutMs: timeoutMs + 5000 });
    const i = r.stdout.lastIndexOf(marker);
    const body = i >= 0 ? r.stdout.slice(0, i) : r.stdout;
    const status = i >= 0 ? Number(r.stdout.slice(i + marker.length)) : 0;
    if (r.code !== 0 || !status) return { ok: false, output: `Get "${url}": ${r.stderr.trim().replace(/^curl: /, '') || `curl exited ${r.code}`}` };
    if (status >= 200 && status < 400) return { ok: true, output: body.slice(0, 10 * 1024) };
    return { ok: false, output: `HTTP probe failed with statuscode: ${status}; body: ${body.slice(0, 1024).trim()}` };
  }
  if (p.tcpSocket) {
    const host = p.tcpSocket.host || t.podIp;
    const r = await t.lab.exec(t.node, 'bash', ['-c', 'exec 3<>"/dev/tcp/$0/$1"', host, String(port)], { timeoutMs });
    if (r.code === 0) return { ok: true, output: '' };
    const err = r.stderr.trim().split('\n').pop() ?? '';
    const why = r.timedOut ? 'i/o timeout' : /Connection refused/.test(err) ? 'connect: connection refused' : err.replace(/^.*\/dev\/tcp\/[^:]*: /, '');
    return { ok: false, output: `dial tcp ${hostOf(host)}:${port}: ${why}` };
  }
  if (p.exec) {
    const env = Object.entries(t.env).map(([k, v]) => `${k}=${v}`);
    const r = await t.lab.exec(t.node, '/usr/bin/env', ['-i', ...env, '/usr/bin/nsenter', '-t', String(t.pid), '-m', '-u', '-r', '-w', '--', ...p.exec.command], { timeoutMs });
    const output = (r.stdout + r.stderr).trim();
    if (r.timedOut) return { ok: false, output: `command ${JSON.stringify(p.exec.command)} timed out after ${timeoutMs / 1000}s` };
    return r.code === 0 ? { ok: true, output } : { ok: false, output: output || `command ${JSON.stringify(p.exec.command)} exited ${r.code}` };
  }
  return { ok: false, output: `unsupported probe handler ${Object.keys(p).filter((k) => !/Seconds|Threshold/.test(k)).join(',') || '(none)'}` };
}

/** Sleeps; resolves false at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, Math.max(0, ms));
    t.unref(); // a forgotten runner never keeps the test process alive
    const onAbort = () => { clearTimeout(t); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Callbacks of a probe worker. */
export interface ProbeHooks {
  /** Has the container's startup probe succeeded (true when it has none)? */
  started(): boolean;
  /** Every failed attempt, with its output. */
  onFailedAttempt(output: string): void;
  /** The probe's result changed after enough equal attempts in a row. */
  onResult(ok: boolean, output: string): void;
}

/**
 * One probe worker (the kubelet's prober worker): probes every period from the container's start,
 * skipping while within initialDelaySeconds and, for liveness/readiness, while the startup probe has not
 * succeeded. Stops when `signal` aborts, after a startup success, or after a liveness/startup failure
 * result (the container is then killed; the next container gets new workers).
 */
export async function probeWorker(kind: ProbeKind, p: ProbeSpec, startedAt: number, target: () => ProbeTarget, hooks: ProbeHooks, signal: AbortSignal): Promise<void> {
  const tm = probeTimings(p);
  let last: boolean | undefined;
  let run = 0;
  while (!signal.aborted) {
    const tick = Date.now();
    const gated = kind !== 'startup' && !hooks.started();
    if (!gated && Date.now() - startedAt >= tm.initialDelayMs) {
      const r = await runProbe(p, target());
      if (signal.aborted) return;
      if (r.ok === last) run++; else { last = r.ok; run = 1; }
      if (!r.ok) hooks.onFailedAttempt(r.output);
      if ((r.ok && run === tm.success) || (!r.ok && run === tm.failure)) {
        hooks.onResult(r.ok, r.output);
        if (kind === 'startup' && r.ok) return;
        if (kind !== 'readiness' && !r.ok) return;
      }
    }
    await sleep(tm.periodMs - (Date.now() - tick), signal);
  }
}
