/**
 * A Kubernetes minor upgrade by the generated rolling-update.yml on the Ansible lab (./ansible-lab.ts):
 * the spec at the target version synthesized the way the lab's bundles were, the playbook run while a
 * client writes and reads through the VIP every 100 ms, and what is needed to judge it: when each master
 * was worked on (from the timestamps of Ansible's own log), the version each API server and each etcd
 * member reports on its own address, and the pod runner's events next to each failed request. Used by
 * test/ansible-upgrade.test.ts and bench/ansible.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterSpec } from '../../lib';
import { DEFAULT_KUBERNETES_MINOR, KUBERNETES_PROFILES } from '../../lib/plan/versions';
import { hostPort } from '../../lib/util/net';
import { ApiRequest } from './api-client';
import { AnsibleLab, ClientRun, hostsOfTask, startAnsibleLab } from './ansible-lab';
import { ControlPlaneLab, startControlPlane } from './control-plane-lab';
import { ExecResult } from './netns';
import { fmtEvent, PodEvent } from './pod-runner';
import { vipHolder } from './real-failover';

/** The minor the upgrade goes to (the default) and the one it starts from (the one before). */
export const UPGRADE_TO = KUBERNETES_PROFILES.find((p) => p.minor === DEFAULT_KUBERNETES_MINOR)!;
export const UPGRADE_FROM = KUBERNETES_PROFILES[KUBERNETES_PROFILES.indexOf(UPGRADE_TO) - 1];

/** The etcd release of an etcd image tag ("3.7.0-0" → "3.7.0"). */
export const etcdRelease = (tag: string) => tag.replace(/-\d+$/, '');

/**
 * A control-plane lab at UPGRADE_FROM (pki.mode generate, so every later synthesis reuses the lab's CAs),
 * ready and bootstrapped, with Ansible against it; `spec` changes the lab's spec further (kept by the upgrade).
 */
export async function startUpgradeLab(log?: (line: string) => void, spec: Partial<ClusterSpec> = {}): Promise<AnsibleLab> {
  const cp = await startControlPlane({ log, bootstrap: 'generate', spec: { ...spec, kubernetesVersion: UPGRADE_FROM.minor } });
  try {
    await cp.waitAllReady(240_000);
    await cp.finishBootstrap();
    return await startAnsibleLab(cp);
  } catch (e) {
    await cp.destroy();
    throw e;
  }
}

/** The lab's spec at UPGRADE_TO. */
export const upgradedSpec = (cp: ControlPlaneLab): ClusterSpec => ({ ...cp.spec, kubernetesVersion: UPGRADE_TO.minor });

/** The play of rolling-update.yml that visits the masters one at a time. */
export const ROLLING_MASTERS_PLAY = 'Update the masters one at a time';

/** When Ansible worked on one host within a play: from its first task's start to its last task's end (ms since the epoch). */
export interface HostWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Each host's window in one play, read from an ANSIBLE_LOG_PATH file ("2026-12-04 23:59:01,234 p=… u=… n=ansible |
 * TASK [...]"). A task ends where the next task, play or recap line starts. Times are the controller's
 * local time, as Ansible logs them (the same clock as this process).
 */
export function hostWindows(log: string, play: string): Map<string, HostWindow> {
  const entries = [...log.matchAll(/^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) p=\d+ u=\S+ n=\S+ \| (.*)$/gm)]
    .map((m) => ({ t: new Date(`${m[1]}T${m[2]}.${m[3]}`).getTime(), text: m[4] }));
  const windows = new Map<string, { start: number; end: number }>();
  let inPlay = false;
  let task: { start: number; hosts: string[] } | undefined;
  const close = (t: number) => {
    for (const h of task?.hosts ?? []) {
      const w = windows.get(h);
      windows.set(h, { start: Math.min(w?.start ?? Infinity, task!.start), end: Math.max(w?.end ?? 0, t) });
    }
    task = undefined;
  };
  for (const { t, text } of entries) {
    if (text.startsWith('PLAY [') || text.startsWith('PLAY RECAP')) {
      close(t);
      inPlay = text.startsWith(`PLAY [${play}]`);
    } else if (inPlay && text.startsWith('TASK [')) {
      close(t);
      task = { start: t, hosts: [] };
    } else if (inPlay && task) {
      const host = /^(?:ok|changed|skipping|fatal|failed): \[([^\]\s]+)/.exec(text)?.[1];
      if (host && !task.hosts.includes(host)) task.hosts.push(host);
    }
  }
  return windows;
}

/** `gitVersion` of a master's API server, asked on its own address (/version) from the client node. */
export async function apiServerVersion(cp: ControlPlaneLab, master: string): Promise<string> {
  const r = await cp.kubectl([`--server=https://${hostPort(cp.addressOf(master), cp.plan.apiServer.bindPort)}`, 'get', '--raw', '/version'], { node: cp.clientNode });
  if (r.code !== 0) throw new Error(`/version of ${master}'s API server: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { gitVersion: string }).gitVersion;
}

/** A master's etcd member's /version on its own client URL: the server's version, the cluster version the members agreed, and (etcd ≥ 3.6) the storage version. */
export async function etcdVersion(cp: ControlPlaneLab, master: string): Promise<{ etcdserver: string; etcdcluster: string; storage?: string }> {
  const pki = (f: string) => join(cp.rootOf(master), 'etc/kubernetes/pki', f);
  const r = await cp.lab.exec(master, 'curl', ['-sS', '--max-time', '10', '--cacert', pki('etcd/ca.crt'), '--cert', pki('apiserver-etcd-client.crt'),
    '--key', pki('apiserver-etcd-client.key'), `https://${hostPort(cp.addressOf(master), 2379)}/version`]);
  if (r.code !== 0) throw new Error(`/version of ${master}'s etcd: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A failed request and what the pod runners did on any master within `aroundMs` of it. */
export interface FailedRequest {
  readonly request: ApiRequest;
  readonly events: readonly string[];
}

/** The pods on a request's path: the VIP, the proxy, the API server and its etcd. */
const REQUEST_PATH_PODS = ['keepalived', 'haproxy', 'nginx', 'kube-apiserver', 'etcd'];

/** The client's failed requests, each with the runners' events (stops, exits, starts, failed probes) of the pods on a request's path around it. */
export function failuresWithEvents(cp: ControlPlaneLab, requests: readonly ApiRequest[], aroundMs = 2000): FailedRequest[] {
  const all: (PodEvent & { node: string })[] = [...cp.runners.entries()].flatMap(([node, r]) => r.events().map((e) => ({ ...e, node })));
  const relevant = all.filter((e) => REQUEST_PATH_PODS.includes(e.pod) && ['Killing', 'PodStopped', 'Exited', 'Started', 'Unhealthy'].includes(e.reason));
  return requests.filter((r) => !r.ok).map((request) => ({
    request,
    events: relevant.filter((e) => e.at >= request.s - aroundMs && e.at <= request.e + aroundMs).sort((a, b) => a.at - b.at).map((e) => `${e.node} ${fmtEvent(e)}`),
  }));
}

/** One line per failed request, for the test log and the bench; the events once for each run of failures that share them. */
export function formatFailures(fs: readonly FailedRequest[]): string {
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  const out: string[] = [];
  let shown = '';
  for (const f of fs) {
    out.push(`  ${f.request.op === 'w' ? 'write' : 'read'} ${f.request.seq} ${time(f.request.s)}-${time(f.request.e)}: ${f.request.err ?? `HTTP ${f.request.status}`}`);
    const events = f.events.map((e) => `      ${e.split('\n')[0]}`).join('\n');
    if (events !== shown && events) out.push(events);
    shown = events;
  }
  return out.join('\n');
}

/** What one rolling update with a client through the VIP showed. */
export interface RollingRun extends ClientRun<ExecResult> {
  /** The master that held the VIP before the run. */
  readonly holder: string;
  /** The masters in the order install.sh ran on them. */
  readonly installed: readonly string[];
  /** When Ansible worked on each master (move-leader, install, gate). */
  readonly windows: ReadonlyMap<string, HostWindow>;
  /** The whole playbook run, ms. */
  readonly totalMs: number;
  /** The synthesized cluster directory the playbook installed from. */
  readonly clusterDir: string;
  readonly failures: readonly FailedRequest[];
}

/**
 * Synthesizes `spec` the lab's way and runs rolling-update.yml with a client writing and reading through
 * the VIP every 100 ms; Ansible's log (ANSIBLE_LOG_PATH) gives each master's window.
 */
export async function rollingUpdate(al: AnsibleLab, spec: ClusterSpec, tag: string): Promise<RollingRun> {
  const cp = al.cp;
  const holder = await vipHolder(cp);
  if (!holder) throw new Error('no master holds the VIP before the rolling update');
  const clusterDir = await cp.synthesize(spec);
  const dir = al.labAnsible(clusterDir);
  const logPath = join(cp.workDir, `ansible-${tag}.log`);
  const t0 = Date.now();
  const client = await al.withClient(tag, () => al.playbook(dir, 'rolling-update.yml', [], { ANSIBLE_LOG_PATH: logPath }));
  const totalMs = Date.now() - t0;
  return {
    ...client,
    holder,
    installed: hostsOfTask(client.result.stdout, 'Run install.sh'),
    windows: hostWindows(readFileSync(logPath, 'utf8'), ROLLING_MASTERS_PLAY),
    totalMs,
    clusterDir,
    failures: failuresWithEvents(cp, client.requests),
  };
}

/** What the client saw: failed and acknowledged requests, lost writes. */
export function formatClient(r: ClientRun<unknown>): string {
  return `client: ${r.api.failedWrites}/${r.api.writes} writes and ${r.api.failedReads}/${r.api.reads} reads failed (${JSON.stringify(r.api.errors)}), `
    + `${r.acked} acknowledged writes, ${r.lost.length} lost`;
}

/** One line: the time in all and per master, and what the client saw. */
export function formatRollingRun(r: RollingRun): string {
  const per = r.installed.map((m) => { const w = r.windows.get(m); return `${m} ${w ? ((w.end - w.start) / 1000).toFixed(1) : '?'} s`; });
  return `${(r.totalMs / 1000).toFixed(1)} s in all (${per.join(', ')}; VIP holder ${r.holder}); ${formatClient(r)}`;
}
