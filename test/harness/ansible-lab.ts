/**
 * The generated Ansible content run by the real ansible-playbook (Debian's ansible-core) against a running
 * control-plane lab (./control-plane-lab.ts): ansible-playbook runs in the lab's client namespace and
 * reaches every master (and spare) over ssh — one real sshd (Debian's openssh-server) per node namespace,
 * listening on that node's lab address only, with its own host key pinned in a known_hosts file and one
 * authorized key, all made per run in the lab's work directory; the masters share the host's filesystem,
 * so host_vars give each its lab root as hacp_root. A client writes and reads through the VIP every 100 ms
 * meanwhile, and etcdctl asks a member. Used by test/ansible-lab.test.ts and the other Ansible lab tests;
 * one per control-plane lab.
 *
 * sshd runs with `-f /dev/null` and `-o` options only (no PAM, no StrictModes, its pid file and keys in
 * the work directory): the host's ssh configuration is neither read nor changed. The one thing sshd needs
 * outside the work directory is its privilege separation directory /run/sshd (compiled in; Debian's
 * ssh.service creates it): created when missing, and removed again at the end when this lab created it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ClusterSpec } from '../../lib';
import { hostPort } from '../../lib/util/net';
import { ApiOutcome, ApiRequest, readApiRequests, summarizeApi, writeApiClient } from './api-client';
import { etcdBinary } from './binaries';
import { ControlPlaneLab } from './control-plane-lab';
import { waitFor } from './failover';
import { ExecResult, LabProcess } from './netns';

/** What a client saw while `fn` ran (see {@link AnsibleLab.withClient}). */
export interface ClientRun<T> {
  readonly result: T;
  readonly api: ApiOutcome;
  /** Writes the API server acknowledged (201 Created). */
  readonly acked: number;
  /** Acknowledged writes whose ConfigMap is missing afterwards. */
  readonly lost: string[];
  /** Every request the client made (summarizeApi(requests, t) for the part from t on). */
  readonly requests: readonly ApiRequest[];
}

/** Ansible against one control-plane lab. */
export interface AnsibleLab {
  readonly cp: ControlPlaneLab;
  /** The cluster directory's Ansible content, with host_vars that point each master at its lab root; returns the ansible directory. */
  labAnsible(clusterDir: string): string;
  /** `ansible-playbook -i inventory.yml <name> …extra` in the client namespace (`env`: more ANSIBLE_* settings). */
  playbook(dir: string, name: string, extra?: readonly string[], env?: Readonly<Record<string, string>>): Promise<ExecResult>;
  /** Runs `fn` while a client writes and reads through the VIP every 100 ms; returns what it saw and whether an acknowledged write is missing. */
  withClient<T>(tag: string, fn: () => Promise<T>): Promise<ClientRun<T>>;
  /** `etcdctl member list …args` asked of a master's member, with the API server's etcd client certificate. */
  memberList(master: string, args: readonly string[]): Promise<ExecResult>;
  /** `etcdctl …args` asked of a master's member (its client URL), with the API server's etcd client certificate. */
  etcdctlOn(master: string, args: readonly string[]): Promise<ExecResult>;
  /** The built etcdctl of the lab's etcd line. */
  etcdctl(): string;
  /** How Ansible reaches the nodes. */
  readonly connection: AnsibleConnection;
  /**
   * ssh: stops a node's sshd (by PID) and closes Ansible's open connection to it, as when the machine
   * dies.
   */
  stopSsh(node: string): Promise<void>;
  /**
   * ssh: starts a node's sshd again; with `newHostKey`, under a host key made now (a reinstalled machine),
   * which replaces the old one in the known_hosts file (what the operator does with `ssh-keygen -R`).
   */
  startSsh(node: string, opts?: { newHostKey?: boolean }): Promise<void>;
  /** ssh: everything a node's sshd logged (every sshd started there, appended). */
  sshdLog(node: string): string;
  /** Stops what this Ansible lab started (the control-plane lab is the caller's). */
  destroy(): Promise<void>;
}

/**
 * How Ansible reaches a master: `ssh` (an sshd in each node namespace), or `local` (a local connection
 * per master, `ip netns exec` for its `ip`: a stand-in for ssh).
 */
export type AnsibleConnection = 'ssh' | 'local';

/** The port the nodes' sshd listen on (their own lab address only). */
export const LAB_SSH_PORT = 22;

const SSHD = '/usr/sbin/sshd';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const PRIVSEP_DIR = '/run/sshd';

/** Ansible against `cp`; with ssh (the default), one sshd per master and spare namespace, started here. */
export async function startAnsibleLab(cp: ControlPlaneLab, opts: { connection?: AnsibleConnection } = {}): Promise<AnsibleLab> {
  const connection = opts.connection ?? 'ssh';
  const etcdctl = (): string => {
    if (cp.plan.etcd.kind !== 'local') throw new Error('the Ansible lab runs stacked etcd');
    return etcdBinary('etcdctl', `v${cp.plan.etcd.version}`);
  };
  const etcdctlOn = (master: string, args: readonly string[]): Promise<ExecResult> => {
    const pki = (f: string) => join(cp.rootOf(master), 'etc/kubernetes/pki', f);
    return cp.lab.exec(master, etcdctl(), [...args, '--endpoints', `https://${hostPort(cp.addressOf(master), 2379)}`,
      '--cacert', pki('etcd/ca.crt'), '--cert', pki('apiserver-etcd-client.crt'), '--key', pki('apiserver-etcd-client.key')]);
  };
  const ip = ['/usr/sbin/ip', '/sbin/ip'].find((p) => existsSync(p)) ?? 'ip';
  const nodes = [...cp.masters, ...cp.spares];

  // ssh: keys, known_hosts and one sshd per node, all under <workDir>/ssh.
  const sshDir = join(cp.workDir, 'ssh');
  const clientKey = join(sshDir, 'id_ed25519');
  const knownHosts = join(sshDir, 'known_hosts');
  const controlDir = join(sshDir, 'cp');
  const hostKeys = new Map<string, string>();
  const sshds = new Map<string, LabProcess>();
  let madePrivsepDir = false;
  const keygen = (file: string, comment: string) => {
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`ssh-keygen -f ${file} exited ${r.status}: ${r.stderr}${r.error?.message ?? ''}`);
    return readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  };
  const writeKnownHosts = () => writeFileSync(knownHosts, nodes.filter((n) => hostKeys.has(n))
    .map((n) => `${LAB_SSH_PORT === 22 ? cp.addressOf(n) : `[${cp.addressOf(n)}]:${LAB_SSH_PORT}`} ${hostKeys.get(n)}\n`).join(''));
  /** Closes Ansible's ControlPersist connection to a node (its sshd session ends with it). */
  const closeControl = (node: string) => {
    const sock = join(controlDir, `${cp.addressOf(node)}-${LAB_SSH_PORT}-root`);
    if (existsSync(sock)) spawnSync('ssh', ['-o', `ControlPath=${sock}`, '-O', 'exit', 'lab-node'], { encoding: 'utf8', timeout: 10_000 });
  };
  const sshdLogFile = (node: string) => join(sshDir, `sshd-${node}.log`);
  const startSsh = async (node: string, o: { newHostKey?: boolean } = {}) => {
    if (sshds.has(node)) throw new Error(`sshd runs already on ${node}`);
    const hostKey = join(sshDir, `${node}_host_ed25519_key`);
    if (o.newHostKey || !hostKeys.has(node)) {
      rmSync(hostKey, { force: true });
      rmSync(`${hostKey}.pub`, { force: true });
      hostKeys.set(node, keygen(hostKey, `${node}-host`));
      writeKnownHosts();
    }
    const logFile = sshdLogFile(node);
    const listen = hostPort(cp.addressOf(node), LAB_SSH_PORT);
    const proc = cp.lab.spawn(node, SSHD, ['-D', '-e', '-f', '/dev/null',
      '-o', `ListenAddress=${listen}`, '-o', `HostKey=${hostKey}`, '-o', `AuthorizedKeysFile=${clientKey}.pub`,
      '-o', `PidFile=${join(sshDir, `sshd-${node}.pid`)}`, '-o', 'UsePAM=no', '-o', 'StrictModes=no',
      '-o', 'PermitRootLogin=prohibit-password', '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no',
      '-o', `Subsystem=sftp ${SFTP_SERVER}`], { logFile });
    sshds.set(node, proc);
    await waitFor(`sshd on ${node} listening on ${listen}`, 10_000, () => {
      if (proc.exitStatus()) throw new Error(`sshd on ${node} exited: ${proc.logTail(2000)}`);
      return proc.logTail(4000).includes(`Server listening on ${cp.addressOf(node)} port ${LAB_SSH_PORT}`);
    }, () => proc.logTail(2000));
  };
  const stopSsh = async (node: string) => {
    const proc = sshds.get(node);
    if (!proc) throw new Error(`no sshd runs on ${node}`);
    sshds.delete(node);
    await proc.stop(2000);
    closeControl(node);
  };
  const destroy = async () => {
    for (const n of nodes) closeControl(n);
    await Promise.allSettled([...sshds.values()].map((p) => p.stop(2000)));
    sshds.clear();
    if (madePrivsepDir) {
      try { if (readdirSync(PRIVSEP_DIR).length === 0) rmdirSync(PRIVSEP_DIR); } catch { /* gone or in use */ }
    }
  };
  if (connection === 'ssh') {
    for (const f of [SSHD, SFTP_SERVER]) {
      if (!existsSync(f)) throw new Error(`${f} is missing: install Debian's openssh-server (scripts/test-deps.sh)`);
    }
    mkdirSync(controlDir, { recursive: true, mode: 0o700 });
    if (!existsSync(PRIVSEP_DIR)) {
      mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
      madePrivsepDir = true;
    }
    try {
      keygen(clientKey, 'ansible-lab');
      for (const n of nodes) await startSsh(n);
    } catch (e) {
      await destroy();
      throw e;
    }
  }
  const sshOnly = () => {
    if (connection !== 'ssh') throw new Error('this Ansible lab has a local connection: no sshd');
  };

  return {
    cp,
    etcdctl,
    connection,
    async stopSsh(node) { sshOnly(); await stopSsh(node); },
    async startSsh(node, o) { sshOnly(); await startSsh(node, o); },
    sshdLog(node) {
      sshOnly();
      return existsSync(sshdLogFile(node)) ? readFileSync(sshdLogFile(node), 'utf8') : '';
    },
    labAnsible(clusterDir) {
      const dir = join(clusterDir, 'ansible');
      mkdirSync(join(dir, 'host_vars'), { recursive: true });
      for (const m of nodes) {
        const reach = connection === 'ssh' ? {
          ansible_connection: 'ssh',
          ansible_host: cp.addressOf(m),
          ansible_port: LAB_SSH_PORT,
          ansible_user: 'root',
          ansible_ssh_private_key_file: clientKey,
          ansible_ssh_common_args: `-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes`,
        } : {
          ansible_connection: 'local',
          hacp_ip: [ip, 'netns', 'exec', cp.lab.nsOf(m), 'ip'],
        };
        writeFileSync(join(dir, 'host_vars', `${m}.yml`), stringify({
          ...reach,
          ansible_python_interpreter: '/usr/bin/python3',
          hacp_root: cp.rootOf(m),
          hacp_install_args: ['--node-name', m],
          // The lab's kubelet (the pod runner) looks at the manifests every 500 ms, not every 20 s.
          hacp_kubelet_settle_s: 2,
          hacp_etcdctl: [etcdctl()],
          hacp_kubectl: [cp.kubectlBinary],
        }));
      }
      return dir;
    },
    memberList(master, args) {
      return etcdctlOn(master, ['member', 'list', ...args]);
    },
    etcdctlOn,
    playbook(dir, name, extra = [], env = {}) {
      return cp.lab.exec('client', 'ansible-playbook', ['-i', join(dir, 'inventory.yml'), join(dir, name), ...extra], {
        timeoutMs: 600_000,
        env: {
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_LOCAL_TEMP: join(cp.workDir, 'ansible-tmp'),
          ANSIBLE_REMOTE_TEMP: join(cp.workDir, 'ansible-tmp'),
          // Ansible's own ControlPersist connections, their sockets in the work directory (closed by stopSsh
          // and destroy), named by address so a node's can be closed; modules piped over them.
          ...(connection === 'ssh'
            ? { ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir, ANSIBLE_SSH_CONTROL_PATH: '%(directory)s/%%h-%%p-%%r', ANSIBLE_PIPELINING: 'True' }
            : { ANSIBLE_HOST_KEY_CHECKING: 'False' }),
          ...env,
        },
      });
    },
    async withClient(tag, fn) {
      const { script, creds } = writeApiClient(cp.workDir, join(cp.rootOf(cp.masters[0]), 'etc/kubernetes/admin.conf'));
      const logFile = join(cp.workDir, `client-${tag}.log`);
      const prefix = `ans-${tag}-`;
      const proc = cp.lab.spawn(cp.clientNode, process.execPath, [script, cp.endpoint, creds, prefix, '100', '2000'], { logFile });
      const start = Date.now();
      const result = await fn();
      await proc.stop(2000);
      const reqs = readApiRequests(logFile);
      const list = await cp.kubectl(['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}'], { node: cp.clientNode, timeoutMs: 30_000 });
      if (list.code !== 0) throw new Error(`listing the ConfigMaps: ${list.stderr}`);
      const present = new Set(list.stdout.split(/\s+/));
      const acked = reqs.filter((r) => r.op === 'w' && r.ok).map((r) => `${prefix}${r.seq}`);
      return { result, api: summarizeApi(reqs, start), acked: acked.length, lost: acked.filter((n) => !present.has(n)), requests: reqs };
    },
    destroy,
  };
}

/** The hosts of one task's results in the order Ansible printed them. */
export function hostsOfTask(stdout: string, task: string): string[] {
  const out: string[] = [];
  for (const block of stdout.split(/\nTASK \[/).slice(1)) {
    if (!block.startsWith(`${task}]`) && !block.startsWith(`ha_control_plane : ${task}]`)) continue;
    // A delegated task's line reads "changed: [master-4 -> master-1(10.0.0.11)]": the task's host is the first.
    for (const m of block.matchAll(/^(?:ok|changed): \[([^\]\s]+)(?: -> [^\]]*)?\]/gm)) out.push(m[1]);
  }
  return out;
}

/** The spec with one kube-apiserver flag set (replacing an earlier value). */
export const withFlag = (spec: ClusterSpec, name: string, value: string): ClusterSpec => ({
  ...spec,
  apiServer: { ...spec.apiServer, extraArgs: [...(spec.apiServer?.extraArgs ?? []).filter((a) => a.name !== name), { name, value }] },
});
