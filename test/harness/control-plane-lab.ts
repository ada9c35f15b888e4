/**
 * A real control plane in network namespaces, run entirely from the installed bundles: every master's
 * tarball is installed into that node's root directory by the bundle's own install.sh, the certificates
 * and kubeconfigs come from the real kubeadm following the README's commands word for word (or from
 * `pki.mode: generate`, with no kubeadm at all), and the kubelet-faithful pod runner starts every static
 * pod of the manifests directory — real etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
 * keepalived and haproxy/nginx. Clients use the real kubectl through the VIP.
 *
 * Lab edits, each one printed by `notes`: keepalived's track_process needs the kernel's proc connector,
 * which exists only in the initial network namespace, so the installed keepalived.conf loses that
 * block (the check script still moves the VIP) — or, with `trackProcess: 'emulate'`, the block becomes
 * a weight-0 track_file in a directory the keepalived manifest gets as one more hostPath volume, written
 * by a watcher in the node's namespace that looks for the tracked process (by name, in the node's network
 * namespace) every PROC_WATCH_INTERVAL_MS and honours its fork_delay; haproxy's maxconn gets
 * `no strict-limits` where the hard fd limit is below what it asks for.
 */
import { execFileSync, spawnSync } from 'child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { ClusterPlan, ClusterSpec, HaControlPlane, HostFile, planCluster, preparePki, StaticPodApp } from '../../lib';
import { DEFAULT_KUBERNETES_MINOR, KUBERNETES_PROFILES } from '../../lib/plan/versions';
import { TEST_ENCRYPTION_KEY } from '../util';
import { hostPort } from '../../lib/util/net';
import { builtVersionOf, etcdBinary, kubectlFor, REPO_ROOT } from './binaries';
import { makeEtcdCa, makeEtcdMemberPki, makeLeaf } from './certs';
import { emulateTrackProcess, tolerateFdLimit } from './failover';
import { runKubeadm } from './kubeadm';
import { createLab, ExecResult, Lab } from './netns';
import { NodeRunner, parseManifest, startNode } from './pod-runner';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** How the certificates and kubeconfigs are made. */
export type Bootstrap = 'kubeadm' | 'generate';

/** What to build. */
export interface ControlPlaneLabOptions {
  /** @default "kubeadm" */
  readonly bootstrap?: Bootstrap;
  /** Changes to the lab's spec (masters, endpoint and PKI are the lab's). */
  readonly spec?: Partial<ClusterSpec>;
  /** Number of masters. @default 3 */
  readonly masters?: number;
  /**
   * External etcd: a one-member etcd (the default minor's line, built from go.etcd.io) on a lab node of
   * its own, with openssl-made certificates; the API servers' client certificate files live outside the
   * certificates directory, in /etc/etcd/pki on every master (kubeadm's etcd-certs volumes).
   * @default false (stacked etcd)
   */
  readonly externalEtcd?: boolean;
  /** IPv6 masters, VIP and service/pod networks. @default false */
  readonly ipv6?: boolean;
  /**
   * Dedicated load-balancer hosts (lb-1, lb-2) run keepalived and the proxy instead of the masters, and
   * one worker (worker-1) runs the local API server proxy on localhost:6443 (workerProxy, its default type).
   * @default false
   */
  readonly lbHosts?: boolean;
  /** A worker (worker-1) with the local API server proxy (workerProxy, its default type) also without lbHosts. @default false */
  readonly worker?: boolean;
  /**
   * Spare nodes for masters to come (master-4, …): in the lab's network, not in the spec, nothing
   * installed or run until {@link ControlPlaneLab.startRunner} (the Ansible add-master test).
   * @default 0
   */
  readonly spareMasters?: number;
  /** controlPlaneEndpoint.port on the VIP (vip-only needs the API server's, 6443). @default 8443 */
  readonly endpointPort?: number;
  /**
   * keepalived's track_process, which cannot work in a network namespace: `remove` it (the check script
   * alone moves the VIP), or `emulate` it with a track_file and a watcher (see the file comment).
   * @default "remove"
   */
  readonly trackProcess?: 'remove' | 'emulate';
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

/** Where the API servers find the external etcd's CA and their client certificate (outside /etc/kubernetes/pki). */
export const EXTERNAL_ETCD_FILES = { caFile: '/etc/etcd/pki/ca.pem', certFile: '/etc/etcd/pki/client.pem', keyFile: '/etc/etcd/pki/client-key.pem' } as const;

/** A running control plane. */
export interface ControlPlaneLab {
  readonly lab: Lab;
  readonly spec: ClusterSpec;
  /** The spec, resolved (ports, the worker proxy …): the lab's numbers come from here, not literals. */
  readonly plan: ClusterPlan;
  readonly masters: readonly string[];
  /** A lab node that is no master, for clients (it reaches the VIP over the lab's network). */
  readonly clientNode: string;
  readonly vip: string;
  /** host:port of the control-plane endpoint. */
  readonly endpoint: string;
  /** A node's address in the cluster (IPv6 in an IPv6 lab). */
  addressOf(node: string): string;
  /** Each master's installed root directory. */
  rootOf(node: string): string;
  /** The lab's own scratch directory (removed by destroy). */
  readonly workDir: string;
  /**
   * Synthesizes a spec the way the lab's bundles were made (its PKI state, its edits, with tarballs and
   * the Ansible content) into a new directory under workDir; returns the cluster's directory.
   */
  synthesize(spec: ClusterSpec): Promise<string>;
  readonly runners: ReadonlyMap<string, NodeRunner>;
  /** The spare nodes (see spareMasters). */
  readonly spares: readonly string[];
  /**
   * Starts the pod runner on a spare node, or on a node stopped by killNode: it runs whatever gets
   * installed into rootOf(node).
   */
  startRunner(node: string): void;
  /**
   * The node dies: every pod its runner started (etcd, API server, controller manager, scheduler,
   * keepalived, the LB proxy) gets SIGKILL by PID, and the runner stops. With `wipe`, its root directory
   * and the runner's state are deleted too, as on the blank machine that replaces it. startRunner starts
   * it again.
   */
  killNode(node: string, opts?: { wipe?: boolean }): Promise<void>;
  /** The lab edits made to installed files. */
  readonly notes: readonly string[];
  /** The kubectl binary `kubectl` runs (binaries.ts kubectlFor: the cluster's release, or the next minor's). */
  readonly kubectlBinary: string;
  /** Real kubectl with the admin kubeconfig (server: the VIP), run in `node`'s namespace. */
  kubectl(args: readonly string[], opts?: { node?: string; timeoutMs?: number; kubeconfig?: string }): Promise<ExecResult>;
  /** Waits until every pod of every master is ready (probes passing); throws with the runner's report. */
  waitAllReady(timeoutMs: number): Promise<void>;
  /**
   * What the README says to run once the API answers: kubeadm mode, its `kubeadm init phase` commands on
   * the first master (the admin RBAC, kubeadm's ConfigMaps, a bootstrap token); generate mode, the RBAC
   * manifest applied with super-admin.conf.
   */
  finishBootstrap(): Promise<void>;
  destroy(): Promise<void>;
}

const README = join(REPO_ROOT, 'README.md');

/** The README section whose commands bootstrap a kubeadm-mode cluster (run here word for word). */
export const README_BOOTSTRAP_SECTION = '### kubeadm mode (default)';

/**
 * The shell commands of that section: the `kubeadm …` lines every master runs (on the others after the
 * shared files named in the comments are copied: "then the same two commands"), and those run once the
 * API answers.
 */
export function readmeBootstrapCommands(readme: string): { perMaster: string[][]; shared: string[]; afterApi: string[][] } {
  const section = readme.split(`\n${README_BOOTSTRAP_SECTION}\n`)[1]?.split('\n### ')[0];
  if (!section) throw new Error(`README.md has no "${README_BOOTSTRAP_SECTION}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`the "${README_BOOTSTRAP_SECTION}" section has no sh block`);
  const perMaster: string[][] = [];
  const afterApi: string[][] = [];
  let shared: string[] = [];
  let after = false;
  for (const raw of block.split('\n')) {
    const line = raw.trim();
    if (/^# once the API/.test(line)) after = true;
    const files = /^#\s+(\/etc\/kubernetes\/pki\/\S+(?:\s+\/etc\/kubernetes\/pki\/\S+)*)\s*$/.exec(line);
    if (files) shared = files[1].split(/\s+/).flatMap(expandBraces);
    if (!line.startsWith('kubeadm ')) continue;
    const argv = line.split(/\s+/).slice(1);
    (after ? afterApi : perMaster).push(argv);
  }
  return { perMaster, shared, afterApi };
}

/** "/a/{b,c}.{crt,key}" → the four paths. */
function expandBraces(s: string): string[] {
  const m = /\{([^}]*)\}/.exec(s);
  if (!m) return [s];
  return m[1].split(',').flatMap((alt) => expandBraces(s.slice(0, m.index) + alt + s.slice(m.index + m[0].length)));
}

/** Removes keepalived's track_process (see the file comment); a config without one is returned as it is. */
export function withoutTrackProcess(conf: string): string {
  const block = /^vrrp_track_process (\S+) \{\n(?: {2}.*\n)*?\}\n\n?/m.exec(conf);
  if (!block) return conf;
  const ref = `  track_process {\n    ${block[1]}\n  }\n`;
  if (!conf.includes(ref)) throw new Error(`keepalived.conf references no track_process ${block[1]}:\n${conf}`);
  return conf.replace(block[0], '').replace(ref, '');
}

/** Starts the lab; on failure, tears down whatever it started before throwing. */
export async function startControlPlane(opts: ControlPlaneLabOptions = {}): Promise<ControlPlaneLab> {
  const log = opts.log ?? (() => {});
  const bootstrap = opts.bootstrap ?? 'kubeadm';
  const masters = Array.from({ length: opts.masters ?? 3 }, (_, i) => `master-${i + 1}`);
  const work = mkdtempSync(join(tmpdir(), 'hacp-cp-'));
  chmodSync(work, 0o755);
  const runners = new Map<string, NodeRunner>();
  /** Nodes killNode stopped. */
  const killed = new Set<string>();
  const notes: string[] = [];
  const lbHosts = opts.lbHosts ? ['lb-1', 'lb-2'] : [];
  const workers = opts.lbHosts || opts.worker ? ['worker-1'] : [];
  /** Every node whose bundle is installed and run. */
  const bundleNodes = [...masters, ...lbHosts, ...workers];
  const spares = Array.from({ length: opts.spareMasters ?? 0 }, (_, i) => `master-${masters.length + i + 1}`);
  const lab = createLab({ nodes: [...bundleNodes, ...spares, 'client', ...(opts.externalEtcd ? ['etcd-1'] : [])], ipv6: opts.ipv6 });
  const addressOf = (n: string) => (opts.ipv6 ? lab.address6Of(n) : lab.addressOf(n));
  const cleanup = async () => {
    await Promise.allSettled([...runners.values()].map((r) => r.stopNode()));
    await lab.destroy().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const vip = opts.ipv6 ? `${lab.prefix6}:100` : `${lab.prefix}.100`;
    const endpointPort = opts.endpointPort ?? 8443;
    const spec: ClusterSpec = {
      name: 'e2e',
      controlPlaneEndpoint: { host: vip, port: endpointPort },
      masters: masters.map((name) => ({ name, address: addressOf(name) })),
      networking: opts.ipv6 ? { serviceSubnet: 'fd00:10:96::/112', podSubnet: 'fd00:10:244::/56' } : { podSubnet: '10.244.0.0/16' },
      loadBalancer: { type: 'haproxy' },
      keepalived: { interface: 'eth0' },
      ...(opts.lbHosts ? { loadBalancers: lbHosts.map((name) => ({ name, address: addressOf(name) })) } : {}),
      ...(workers.length > 0 ? { workers: workers.map((name) => ({ name, address: addressOf(name) })), workerProxy: { port: 6443 } } : {}),
      ...(opts.externalEtcd ? { etcd: { external: { endpoints: [`https://${lab.addressOf('etcd-1')}:2379`], ...EXTERNAL_ETCD_FILES } } } : {}),
      ...opts.spec,
      ...(bootstrap === 'generate' ? { pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' } } : {}),
    };

    // Synthesize with installable tarballs, and install each master's with its own install.sh.
    const out = join(work, 'dist');
    const synth = async (s: ClusterSpec, outdir: string) => {
      const pki = bootstrap === 'generate' ? await preparePki(s, { dir: join(work, 'pki-state') }) : undefined;
      const app = new StaticPodApp({ reporter: false, outdir, tarballs: true });
      // The hardened profile's encryption key as props: nothing is read from or written to the working directory.
      const hcp = new HaControlPlane(app, s.name, { spec: s, pki, encryptionKey: TEST_ENCRYPTION_KEY });
      applyLabEdits(hcp, notes, opts.trackProcess === 'emulate');
      app.synth();
      return join(outdir, s.name);
    };
    await synth(spec, out);
    const root = (m: string) => join(work, 'nodes', m);
    for (const m of bundleNodes) {
      const x = join(work, 'extract', m);
      mkdirSync(x, { recursive: true });
      execFileSync('tar', ['-xzf', join(out, spec.name, 'bundles', `${m}.tar.gz`), '-C', x]);
      mkdirSync(root(m), { recursive: true, mode: 0o755 });
      const r = spawnSync('sh', [join(x, m, 'install.sh'), '--root', root(m), '--node-name', m], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`install.sh on ${m} exited ${r.status}: ${r.stderr}`);
      if (opts.trackProcess === 'emulate') emulateTrackProcessInstalled(lab, m, root(m), join(work, 'scripts'), notes);
    }
    log(`installed ${bundleNodes.length} bundles`);
    if (opts.externalEtcd) startExternalEtcd(lab, join(work, 'etcd'), masters.map(root));

    const plan = planCluster(spec);
    if (bootstrap === 'kubeadm') kubeadmBootstrap(spec, `v${plan.kubernetesVersion}`, masters, root, lab, readFileSync(README, 'utf8'));

    const startRunner = (m: string) => {
      if (runners.has(m)) throw new Error(`${m} runs already`);
      mkdirSync(root(m), { recursive: true, mode: 0o755 });
      runners.set(m, startNode(lab, m, { root: root(m), stateDir: join(work, 'state', m) }));
    };
    for (const m of bundleNodes) startRunner(m);
    const kubectlBin = kubectlFor(`v${plan.kubernetesVersion}`);
    const cp: ControlPlaneLab = {
      lab,
      spec,
      plan,
      masters,
      clientNode: 'client',
      vip,
      endpoint: hostPort(plan.endpoint.host, plan.endpoint.port),
      addressOf,
      rootOf: root,
      workDir: work,
      async synthesize(s) {
        return synth(s, mkdtempSync(join(work, 'dist-')));
      },
      runners,
      spares,
      startRunner(m) {
        if (!spares.includes(m) && !killed.has(m)) throw new Error(`${m} is neither a spare node of this lab (${spares.join(', ') || 'none'}) nor one stopped by killNode`);
        startRunner(m);
        killed.delete(m);
      },
      async killNode(m, o = {}) {
        const r = runners.get(m);
        if (!r) throw new Error(`no pod runner runs on ${m}`);
        runners.delete(m);
        killed.add(m);
        await r.stopNode({ graceMs: 0 });
        if (o.wipe) {
          rmSync(root(m), { recursive: true, force: true });
          rmSync(r.stateDir, { recursive: true, force: true });
        }
      },
      notes: [...new Set(notes)],
      kubectlBinary: kubectlBin,
      kubectl(args, o = {}) {
        const kubeconfig = o.kubeconfig ?? join(root(masters[0]), 'etc/kubernetes/admin.conf');
        return lab.exec(o.node ?? masters[0], kubectlBin, ['--kubeconfig', kubeconfig, '--request-timeout=10s', ...args], { timeoutMs: o.timeoutMs ?? 20_000 });
      },
      async waitAllReady(timeoutMs) {
        await Promise.all([...runners.values()].map((r) => r.waitReady(manifestPodNames(r.root), timeoutMs)));
      },
      async finishBootstrap() {
        if (bootstrap === 'kubeadm') {
          const steps = readmeBootstrapCommands(readFileSync(README, 'utf8'));
          if (steps.afterApi.length === 0) throw new Error('the README bootstrap section has no commands for once the API answers');
          const run = runKubeadm(`v${plan.kubernetesVersion}`, steps.afterApi, {}, { root: root(masters[0]), netns: lab.nsOf(masters[0]) });
          if (run.code !== 0) throw new Error(`README bootstrap after the API answers: kubeadm exited ${run.code}\n${run.stderr}\n${run.stdout}`);
        } else {
          const rbac = join(root(masters[0]), 'etc/kubernetes/ha-control-plane-rbac.yaml');
          const r = await cp.kubectl(['apply', '-f', rbac], { kubeconfig: join(root(masters[0]), 'etc/kubernetes/super-admin.conf') });
          if (r.code !== 0) throw new Error(`kubectl apply -f ha-control-plane-rbac.yaml: ${r.stderr}`);
        }
      },
      destroy: cleanup,
    };
    return cp;
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/**
 * A one-member etcd on the lab node etcd-1 (client TLS with client-certificate auth), and on every
 * master root the CA and an API server client certificate at EXTERNAL_ETCD_FILES' paths.
 */
function startExternalEtcd(lab: Lab, dir: string, roots: readonly string[]): void {
  const address = lab.addressOf('etcd-1');
  const ca = makeEtcdCa(join(dir, 'ca'));
  makeEtcdMemberPki(join(dir, 'member'), ca, { name: 'etcd-1', address });
  const client = makeLeaf(join(dir, 'client'), ca.ca, { commonName: 'kube-apiserver-etcd-client', usages: ['clientAuth'] });
  for (const r of roots) {
    mkdirSync(join(r, 'etc/etcd/pki'), { recursive: true, mode: 0o700 });
    copyFileSync(ca.ca.crt, join(r, EXTERNAL_ETCD_FILES.caFile));
    copyFileSync(client.crt, join(r, EXTERNAL_ETCD_FILES.certFile));
    copyFileSync(client.key, join(r, EXTERNAL_ETCD_FILES.keyFile));
  }
  const m = join(dir, 'member');
  const version = builtVersionOf('etcd', ETCD_LINE_OF_DEFAULT);
  if (!version) throw new Error(`no etcd ${ETCD_LINE_OF_DEFAULT} is built (tools/etcd): run \`bash scripts/k8s-binaries.sh\``);
  lab.spawn('etcd-1', etcdBinary('etcd', version), [
    '--name=etcd-1', `--data-dir=${join(dir, 'data')}`,
    `--listen-client-urls=https://${address}:2379`, `--advertise-client-urls=https://${address}:2379`,
    `--cert-file=${m}/server.crt`, `--key-file=${m}/server.key`, `--trusted-ca-file=${m}/ca.crt`, '--client-cert-auth=true',
    '--listen-peer-urls=http://127.0.0.1:2380', '--initial-advertise-peer-urls=http://127.0.0.1:2380', '--initial-cluster=etcd-1=http://127.0.0.1:2380',
  ], { logFile: join(dir, 'etcd.log') });
}

/** How often the emulated track_process looks for the tracked process. */
export const PROC_WATCH_INTERVAL_MS = 50;

/** Where the emulated track_process files live, on the node and in the keepalived pod. */
const TRACK_DIR = '/run/hacp-track';

const PROC_WATCHER_JS = `// track_process stand-in for the control-plane lab: 1 in the track file while no process named <name>
// runs in this network namespace (zombies count as gone), 0 once one has run for <forkDelayMs>.
const fs = require('fs');
const [file, name, forkDelayMs, everyMs] = process.argv.slice(2);
const net = fs.readlinkSync('/proc/self/ns/net');
function running() {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      if (fs.readFileSync('/proc/' + d + '/comm', 'utf8').trim() !== name) continue;
      const s = fs.readFileSync('/proc/' + d + '/stat', 'utf8');
      const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      if (fs.readlinkSync('/proc/' + d + '/ns/net') === net) return true;
    } catch { /* gone meanwhile */ }
  }
  return false;
}
let upSince;
let last = -1;
function poll() {
  const now = Date.now();
  if (!running()) upSince = undefined;
  else if (upSince === undefined) upSince = now;
  const v = upSince !== undefined && now - upSince >= Number(forkDelayMs) ? 0 : 1;
  if (v !== last) {
    fs.writeFileSync(file + '.tmp', v + '\\n');
    fs.renameSync(file + '.tmp', file);
    console.log(now, 'wrote', v);
    last = v;
  }
}
poll();
setInterval(poll, Number(everyMs));
process.on('SIGTERM', () => process.exit(0));
`;

/**
 * The emulated track_process of one node (see the file comment): keepalived.conf's block becomes a
 * track_file under TRACK_DIR, the keepalived manifest mounts that directory, and a watcher keeps the file.
 * Nodes without keepalived are left alone.
 */
function emulateTrackProcessInstalled(lab: Lab, node: string, root: string, scripts: string, notes: string[]): void {
  const confPath = join(root, 'etc/keepalived/keepalived.conf');
  const manifestPath = join(root, 'etc/kubernetes/manifests/keepalived.yaml');
  if (!existsSync(confPath)) return;
  const conf = readFileSync(confPath, 'utf8');
  const name = /^vrrp_track_process (\S+) \{/m.exec(conf)?.[1];
  if (!name) return;
  const forkDelay = Number(new RegExp(`^vrrp_track_process ${name} \\{\\n(?: {2}.*\\n)*? {2}fork_delay (\\S+)\\n`, 'm').exec(conf)?.[1] ?? 0);
  const { conf: emulated, process: proc } = emulateTrackProcess(conf, `${TRACK_DIR}/${name}`);
  writeFileSync(confPath, emulated);
  const manifest = parseYaml(readFileSync(manifestPath, 'utf8'));
  manifest.spec.volumes.push({ name: 'hacp-track', hostPath: { path: TRACK_DIR, type: 'DirectoryOrCreate' } });
  manifest.spec.containers[0].volumeMounts.push({ name: 'hacp-track', mountPath: TRACK_DIR, readOnly: true });
  writeFileSync(manifestPath, stringifyYaml(manifest));
  mkdirSync(join(root, TRACK_DIR), { recursive: true, mode: 0o755 });
  mkdirSync(scripts, { recursive: true });
  const script = join(scripts, 'proc-watcher.js');
  if (!existsSync(script)) writeFileSync(script, PROC_WATCHER_JS);
  lab.spawn(node, process.execPath, [script, join(root, TRACK_DIR, name), proc, String(forkDelay * 1000), String(PROC_WATCH_INTERVAL_MS)], { logFile: join(scripts, `proc-watcher-${node}.log`) });
  notes.push(`keepalived.conf: track_process EMULATED by a weight-0 track_file in ${TRACK_DIR} (one more hostPath volume in keepalived.yaml), written by a watcher that looks for the process by name in the node's network namespace every ${PROC_WATCH_INTERVAL_MS} ms, with the block's fork_delay`);
}

/** The etcd line the default Kubernetes minor runs (from its etcd image tag). */
const ETCD_LINE_OF_DEFAULT = KUBERNETES_PROFILES.find((p) => p.minor === DEFAULT_KUBERNETES_MINOR)!.etcdImageTag.split('.').slice(0, 2).join('.');

/** The names of the pods in a node's installed manifests directory. */
export function manifestPodNames(root: string): string[] {
  const dir = join(root, 'etc/kubernetes/manifests');
  return readdirSync(dir).filter((f) => !f.startsWith('.')).map((f) => parseManifest(readFileSync(join(dir, f), 'utf8')).metadata.name as string);
}

/**
 * The lab's edits, made to the host files before the bundles and tarballs are written (so a bundle
 * installed again later, by hand or by the Ansible playbooks, carries them too): keepalived without
 * track_process (no proc connector in a network namespace), haproxy without strict-limits (the hard fd
 * limit here).
 */
export function applyLabEdits(hcp: HaControlPlane, notes: string[], keepTrackProcess: boolean): void {
  const edits: Record<string, { edit: (s: string) => string; note: string }> = {
    ...(keepTrackProcess ? {} : { '/etc/keepalived/keepalived.conf': { edit: withoutTrackProcess, note: 'keepalived.conf: track_process removed (no proc connector in a network namespace)' } }),
    '/etc/haproxy/haproxy.cfg': { edit: tolerateFdLimit, note: 'haproxy.cfg: no strict-limits (hard fd limit)' },
  };
  for (const hf of hcp.node.findAll().filter(HostFile.isHostFile)) {
    const e = edits[hf.absolutePath];
    if (!e) continue;
    const content = e.edit(hf.content);
    if (content === hf.content) continue;
    const scope = hf.node.scope!;
    scope.node.tryRemoveChild(hf.node.id);
    new HostFile(scope, hf.node.id, { path: hf.absolutePath, content, mode: hf.mode });
    notes.push(e.note);
  }
}

/**
 * The README's kubeadm-mode bootstrap, word for word: its `kubeadm` commands in each master's root (the
 * real kubeadm of the cluster's version, chrooted into that root, inside the master's namespace); the
 * shared files it names copied from the first master to the others; super-admin.conf deleted on the
 * others.
 */
function kubeadmBootstrap(spec: ClusterSpec, version: string, masters: readonly string[], root: (m: string) => string, lab: Lab, readme: string): void {
  const steps = readmeBootstrapCommands(readme);
  if (steps.perMaster.length === 0 || steps.shared.length === 0) throw new Error('the README bootstrap section names no kubeadm command or no shared file');
  for (const [i, m] of masters.entries()) {
    if (i > 0) {
      for (const f of steps.shared) {
        // The README: no etcd CA with external etcd (kubeadm makes none).
        if (spec.etcd?.external && f.startsWith('/etc/kubernetes/pki/etcd/')) continue;
        mkdirSync(dirname(join(root(m), f)), { recursive: true });
        copyFileSync(join(root(masters[0]), f), join(root(m), f));
      }
    }
    const run = runKubeadm(version, steps.perMaster, {}, { root: root(m), netns: lab.nsOf(m) });
    if (run.code !== 0) throw new Error(`README bootstrap on ${m}: kubeadm exited ${run.code}\n${run.stderr}\n${run.stdout}`);
    if (i > 0) unlinkSync(join(root(m), 'etc/kubernetes/super-admin.conf'));
  }
}
