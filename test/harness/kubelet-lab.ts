/**
 * The real kubelet on a lab node: Debian unstable's containerd 2 (scripts/runtime-debs.txt, unpacked
 * into .cache/debs) with the host's runc, and the kubelet built from the Go module proxy, both in the
 * node's network namespace and in one private mount namespace of the node, each with its own root,
 * state directory and socket under the node's work directory. The kubelet runs static pods from
 * `manifestsDir`, standalone or, given `kubeconfig`, registered with an API server (which then lists
 * its mirror pods); its /pods and /healthz answered on 127.0.0.1 with anonymous access. Images come
 * only from the tarballs given (test/harness/oci-image.ts), imported with `ctr -n k8s.io images
 * import`; nothing is pulled.
 *
 * What this machine kind needs (cgroup v1 only, a VM whose root may not lower oom_score_adj):
 * - kubelet `failCgroupV1: false`, `cgroupDriver: cgroupfs`, and `cgroupRoot` = a cgroup of the node's
 *   own (created in every v1 hierarchy, removed by stop() there and in the hybrid host's
 *   /sys/fs/cgroup/unified, where runc makes the pods' cgroups too), so that pods never land in the
 *   host's kubepods;
 * - containerd `restrict_oom_score_adj = true`;
 * - the namespace is entered with `nsenter --net` + `unshare --mount`, not `ip netns exec`, which
 *   remounts /sys and so hides /sys/fs/cgroup;
 * - in the node's mount namespace: a tmpfs on /run (containerd's and the shims' sockets), writable
 *   overlays on /etc and /var whose upper layers are in the work directory (/var/lib/kubelet,
 *   /var/log/pods, /etc/cni stay private), each directory of the installed bundle's etc (kubernetes,
 *   keepalived, haproxy, …) bound on the same directory of /etc (the pods' hostPath volumes) and an
 *   empty directory on /var/lib/etcd; containerd's root (its overlayfs snapshots) on the real disk of
 *   the work directory, not on an overlay;
 * - kubelet `syncFrequency: 10s` (default 1m): a pod without events (keepalived, haproxy: no probes)
 *   is synced, and its mirror pod created once the API server answers, only that often;
 * - the kubelet sets the host-wide sysctls vm.overcommit_memory=1, kernel.panic=10 and
 *   kernel.panic_on_oops=1 (protectKernelDefaults: true would refuse to start instead): the first
 *   node started saves them, the last one stopped puts them back (nodes of one process may run at once;
 *   a node started after another's kubelet has changed them must not save the kubelet's values).
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { k8sBinary } from './binaries';
import { DEB_DIR } from './lb-daemons';
import { ExecResult, Lab } from './netns';

/** The merged tree of scripts/runtime-debs.txt (scripts/fetch-lb-daemons.sh --list scripts/runtime-debs.txt). */
export const RUNTIME_ROOT = join(DEB_DIR, 'root-runtime-debs');

/** The host-wide sysctls the kubelet sets. */
export const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'] as const;

const CGROUP_V1 = '/sys/fs/cgroup';
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? 'setpriv';
const NSENTER = ['/usr/bin/nsenter', '/bin/nsenter'].find((p) => existsSync(p)) ?? 'nsenter';
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/sbin/runc'].find((p) => existsSync(p));

/** What to run. */
export interface KubeletNodeProps {
  readonly lab: Lab;
  readonly node: string;
  /** The node's installed bundle root: each directory of its etc replaces the node's (etc/kubernetes → /etc/kubernetes). */
  readonly root: string;
  /** The kubelet's staticPodPath (a host directory). */
  readonly manifestsDir: string;
  /** The Kubernetes release of the kubelet ("v1.37.2"; .cache/bin/k8s/<version>/kubelet). */
  readonly kubernetesVersion: string;
  /** OCI image tarballs to import before the kubelet starts. */
  readonly images: readonly string[];
  /** The sandbox image containerd is configured with (one of `images`). */
  readonly pauseImage: string;
  /** The node's scratch directory (must exist; on a real disk, not an overlay). */
  readonly workDir: string;
  /**
   * The kubelet's kubeconfig, a path in the node's mount namespace ("/etc/kubernetes/kubelet.conf"):
   * the kubelet registers the node and creates mirror pods.
   * @default none: the kubelet runs standalone
   */
  readonly kubeconfig?: string;
}

/** A pod as the kubelet's /pods reports it. */
export interface KubeletPod {
  readonly name: string;
  /** For a static pod, the hash of its manifest as parsed (pkg/kubelet/config applyDefaults): a changed manifest is a new pod. */
  readonly uid: string;
  readonly phase?: string;
  readonly containers: readonly {
    readonly name: string;
    readonly ready: boolean;
    readonly state: string;
    /** "containerd://<id>"; changes when the kubelet replaces the container. */
    readonly containerID?: string;
    readonly restartCount: number;
  }[];
}

/** A running node. */
export interface KubeletNode {
  /** The PID holding the node's mount namespace (the node script; containerd and the kubelet are its children). */
  readonly pid: number;
  readonly containerdLog: string;
  readonly kubeletLog: string;
  /** Runs a command in the node's network and mount namespaces, bounded in time. */
  exec(cmd: string, args: readonly string[], timeoutMs?: number): Promise<ExecResult>;
  /** False once the node script has ended (containerd or the kubelet exited, or stop()). */
  running(): boolean;
  /** The kubelet's /pods; undefined while it does not answer. */
  pods(): Promise<KubeletPod[] | undefined>;
  /** Stops everything (kubelet, containerd, shims, containers), removes the cgroups, restores the sysctls if it is the last node running. Idempotent. */
  stop(): Promise<void>;
}

/** Throws, saying how to get it, unless containerd, runc and the kubelet are there. */
export function assertKubeletLabReady(kubernetesVersion: string): void {
  const fix = 'run `bash scripts/fetch-lb-daemons.sh --list scripts/runtime-debs.txt` (scripts/test-deps.sh does)';
  for (const b of ['containerd', 'containerd-shim-runc-v2', 'ctr']) {
    if (!existsSync(join(RUNTIME_ROOT, 'usr/bin', b))) throw new Error(`${join(RUNTIME_ROOT, 'usr/bin', b)} is missing: ${fix}`);
  }
  if (!RUNC) throw new Error('runc is missing: apt-get install runc (scripts/test-deps.sh does)');
  if (!existsSync(join(CGROUP_V1, 'cpuset', 'cpuset.cpus')) && !existsSync(join(CGROUP_V1, 'cgroup.controllers'))) throw new Error(`no cgroup hierarchy under ${CGROUP_V1}`);
  k8sBinary('kubelet', kubernetesVersion);
}

/** The v1 hierarchies mounted under /sys/fs/cgroup (cpu, memory, …, name=systemd's "systemd"). */
function cgroupHierarchies(): string[] {
  if (existsSync(join(CGROUP_V1, 'cgroup.controllers'))) return [CGROUP_V1]; // cgroup v2 (unified)
  return readdirSync(CGROUP_V1).filter((h) => h !== 'unified' && existsSync(join(CGROUP_V1, h, 'cgroup.procs')) && statSync(join(CGROUP_V1, h)).isDirectory());
}

/** Every PID in a cgroup tree. */
function cgroupPids(dir: string): number[] {
  if (!existsSync(dir)) return [];
  const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) pids.push(...cgroupPids(join(dir, e.name)));
  return pids;
}

/** Removes a cgroup tree, deepest first. */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(join(dir, e.name));
  rmdirSync(dir);
}

/** PIDs whose command line names `needle` (the shims: containerd-shim-runc-v2 -address <our socket>). */
function pidsWithArg(needle: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(needle)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** The sysctls as they were before the first running node of this process started, and how many nodes hold them. */
let sysctlHold: { readonly saved: readonly (readonly [string, string])[]; nodes: number } | undefined;

/** One more node holds the saved sysctls (the first one saves them). */
function holdSysctls(): void {
  if (sysctlHold) sysctlHold.nodes++;
  else sysctlHold = { saved: KUBELET_SYSCTLS.map((s) => [s, readFileSync(`/proc/sys/${s}`, 'utf8').trim()] as const), nodes: 1 };
}

/** Puts the saved sysctls back; returns what failed. */
function restoreSysctls(): string[] {
  const problems: string[] = [];
  for (const [s, v] of sysctlHold?.saved ?? []) {
    try { writeFileSync(`/proc/sys/${s}`, v); } catch (e) { problems.push(`cannot restore ${s.replace('/', '.')}=${v}: ${(e as Error).message}`); }
  }
  return problems;
}

/** One node lets go of the saved sysctls; the last one puts them back (returns what failed). */
function releaseSysctls(): string[] {
  if (!sysctlHold || --sysctlHold.nodes > 0) return [];
  const problems = restoreSysctls();
  sysctlHold = undefined;
  return problems;
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/** The node script: mounts, containerd, image import, kubelet; waits for them. */
const NODE_SCRIPT = `set -eu
mount -t tmpfs hacp-run /run
for d in etc var; do
  mkdir -p "$W/upper/$d" "$W/overlay-work/$d"
  mount -t overlay "hacp-$d" -o "lowerdir=/$d,upperdir=$W/upper/$d,workdir=$W/overlay-work/$d" "/$d"
done
mkdir -p /var/lib/etcd "$W/etcd-data"
# The bundle's directories under /etc (kubernetes, keepalived, haproxy, …) replace the host's.
for d in "$NODE_ROOT"/etc/*/; do
  d=\${d%/}; d=\${d##*/}
  mkdir -p "/etc/$d"
  mount --bind "$NODE_ROOT/etc/$d" "/etc/$d"
done
mount --bind "$W/etcd-data" /var/lib/etcd
setpriv --pdeathsig KILL -- containerd -c "$W/containerd.toml" >>"$W/containerd.log" 2>&1 &
i=0
until [ -S "$W/containerd.sock" ]; do
  i=$((i + 1)); [ $i -lt 100 ] || { echo "containerd did not open $W/containerd.sock in 10 s" >&2; exit 1; }
  sleep 0.1
done
for image in $IMAGES; do ctr -a "$W/containerd.sock" -n k8s.io images import "$image" >&2; done
echo "hacp: images imported" >&2
setpriv --pdeathsig KILL -- "$KUBELET" --config "$W/kubelet.yaml" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \\
  --cert-dir "$W/kubelet-pki" \${KUBECONFIG_FILE:+--kubeconfig "$KUBECONFIG_FILE"} --v=2 >>"$W/kubelet.log" 2>&1 &
# Either one exiting ends the node (the test then fails at once, with the logs).
wait -n || true
echo "hacp: containerd or the kubelet exited" >&2
exit 1
`;

/** Starts containerd and the kubelet on a lab node (see the file comment). */
export function startKubeletNode(p: KubeletNodeProps): KubeletNode {
  assertKubeletLabReady(p.kubernetesVersion);
  const w = p.workDir;
  const sock = join(w, 'containerd.sock');
  const cgroupName = `${p.lab.id}-${p.node}`;
  for (const d of ['containerd/root', 'containerd/state', 'opt', 'cni', 'volume-plugins', 'kubelet-pki']) mkdirSync(join(w, d), { recursive: true });

  // The node's cgroup in every hierarchy (cpuset needs its cpus and mems before it can take tasks).
  const hierarchies = cgroupHierarchies();
  for (const h of hierarchies) mkdirSync(join(CGROUP_V1, h, cgroupName), { recursive: true });
  // On a hybrid host runc also makes the pods' cgroups in the v2 tree under /sys/fs/cgroup/unified: cleaned up too.
  const cleaned = existsSync(join(CGROUP_V1, 'unified', 'cgroup.procs')) && !hierarchies.includes('unified') ? [...hierarchies, 'unified'] : hierarchies;
  if (hierarchies.includes('cpuset')) {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(CGROUP_V1, 'cpuset', cgroupName, f), readFileSync(join(CGROUP_V1, 'cpuset', f)));
  }

  writeFileSync(join(w, 'containerd.toml'), `version = 3
root = "${w}/containerd/root"
state = "${w}/containerd/state"
[grpc]
  address = "${sock}"
[plugins.'io.containerd.internal.v1.opt']
  path = "${w}/opt"
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["${w}/cni"]
    conf_dir = "${w}/cni"
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = "${p.pauseImage}"
[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
`);
  writeFileSync(join(w, 'kubelet.yaml'), `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
staticPodPath: ${p.manifestsDir}
fileCheckFrequency: 1s
syncFrequency: 10s
address: 127.0.0.1
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupRoot: /${cgroupName}
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://${sock}
imageServiceEndpoint: unix://${sock}
volumePluginDir: ${w}/volume-plugins
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: 1Mi, nodefs.available: 1%, imagefs.available: 1%}
`);

  const logFd = openSync(join(w, 'node.log'), 'a');
  let child: ChildProcess;
  holdSysctls();
  try {
    child = spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', NSENTER, `--net=/run/netns/${p.lab.nsOf(p.node)}`, 'unshare', '--mount', '--propagation', 'private', 'bash', '-c', NODE_SCRIPT], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: {
        PATH: `${join(RUNTIME_ROOT, 'usr/bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
        W: w,
        NODE_ROOT: p.root,
        NODE_NAME: p.node,
        NODE_IP: p.lab.addressOf(p.node),
        IMAGES: p.images.join(' '),
        KUBELET: k8sBinary('kubelet', p.kubernetesVersion),
        ...(p.kubeconfig ? { KUBECONFIG_FILE: p.kubeconfig } : {}),
      },
    });
  } catch (e) {
    releaseSysctls();
    throw e;
  } finally {
    closeSync(logFd);
  }
  if (child.pid === undefined) {
    releaseSysctls();
    throw new Error(`could not start the node script of ${p.node}`);
  }
  const pid = child.pid;
  let exited = false;
  const exit = new Promise<void>((r) => child.once('exit', () => { exited = true; r(); }));

  const exec = (cmd: string, args: readonly string[], timeoutMs = 15_000) => new Promise<ExecResult>((resolve) => {
    execFile(NSENTER, ['-t', String(pid), '-m', '-n', cmd, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr, timedOut: !!e?.killed });
    });
  });

  // Last resort should the test process exit without stop(): what can be done synchronously.
  const onExit = () => {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    for (const x of [...cleaned.flatMap((h) => cgroupPids(join(CGROUP_V1, h, cgroupName))), ...pidsWithArg(sock)]) try { process.kill(x, 'SIGKILL'); } catch { /* gone */ }
    restoreSysctls(); // best effort: every node's kubelet is killed on exit
  };
  process.once('exit', onExit);
  let stopped: Promise<void> | undefined;
  const node: KubeletNode = {
    pid,
    containerdLog: join(w, 'containerd.log'),
    kubeletLog: join(w, 'kubelet.log'),
    exec,
    running: () => !exited,
    async pods() {
      const r = await exec('curl', ['-sk', '--max-time', '3', 'https://127.0.0.1:10250/pods'], 5000);
      if (r.code !== 0) return undefined;
      const list = JSON.parse(r.stdout) as { items?: any[] };
      return (list.items ?? []).map((pod) => ({
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        phase: pod.status?.phase,
        containers: (pod.status?.containerStatuses ?? []).map((c: any) => ({
          name: c.name, ready: c.ready === true, state: Object.keys(c.state ?? {})[0] ?? 'unknown', containerID: c.containerID, restartCount: c.restartCount ?? 0,
        })),
      }));
    },
    stop() {
      stopped ??= (async () => {
        process.removeListener('exit', onExit);
        const problems: string[] = [];
        // The node script's process group: the script, containerd and the kubelet.
        const group = (sig: NodeJS.Signals) => { if (!exited) try { process.kill(-pid, sig); } catch { /* gone */ } };
        group('SIGTERM');
        await Promise.race([exit, sleep(5000)]);
        group('SIGKILL');
        await Promise.race([exit, sleep(5000)]);
        if (!exited) problems.push(`the node script ${pid} of ${p.node} did not die`);
        // The containers (in the node's cgroup) and the shims (reparented to init), by PID.
        const leftover = [...new Set([...cleaned.flatMap((h) => cgroupPids(join(CGROUP_V1, h, cgroupName))), ...pidsWithArg(sock)])];
        for (const x of leftover) try { process.kill(x, 'SIGKILL'); } catch { /* gone */ }
        for (let i = 0; i < 50 && leftover.some(alive); i++) await sleep(100);
        if (leftover.some(alive)) problems.push(`processes ${leftover.filter(alive).join(', ')} survived SIGKILL`);
        for (const h of cleaned) {
          const dir = join(CGROUP_V1, h, cgroupName);
          for (let i = 0; ; i++) {
            try { removeCgroup(dir); break; } catch (e) {
              if (i >= 20) { problems.push(`cannot remove ${dir}: ${(e as Error).message}`); break; }
              await sleep(100);
            }
          }
        }
        problems.push(...releaseSysctls());
        if (problems.length > 0) throw new Error(`stopping the kubelet node ${p.node}: ${problems.join('; ')}`);
      })();
      return stopped;
    },
  };
  return node;
}
