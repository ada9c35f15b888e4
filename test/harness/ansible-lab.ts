/**
 * The generated Ansible content run by the real ansible-playbook (Debian's ansible-core) against a running
 * control-plane lab (./control-plane-lab.ts): host_vars that point each master (and spare) at its lab root,
 * ansible-playbook run in the lab's client namespace, a client that writes and reads through the VIP every
 * 100 ms meanwhile, and etcdctl asked of a member. Used by test/ansible-lab.test.ts and the other Ansible
 * lab tests; one per control-plane lab.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ClusterSpec } from '../../lib';
import { ApiOutcome, ApiRequest, readApiRequests, summarizeApi, writeApiClient } from './api-client';
import { etcdBinary } from './binaries';
import { ControlPlaneLab } from './control-plane-lab';
import { ExecResult } from './netns';

/** What a client saw while `fn` ran (see {@link AnsibleLab.withClient}). */
export interface ClientRun<T> {
  readonly result: T;
  readonly api: ApiOutcome;
  /** Writes the API server acknowledged (201 Created). */
  readonly acked: number;
  /** Acknowledged writes whose ConfigMap is missing afterwards. */
  readonly lost: string[];
  /** Every request the client made, as it logged them (when each failed, and how). */
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
  /** The built etcdctl of the lab's etcd line. */
  etcdctl(): string;
  /** Stops what this Ansible lab started (the control-plane lab is the caller's). */
  destroy(): Promise<void>;
}

/** Ansible against `cp`: a local connection per master (its root as hacp_root, `ip netns exec` for its `ip`). */
export async function startAnsibleLab(cp: ControlPlaneLab): Promise<AnsibleLab> {
  const etcdctl = (): string => {
    if (cp.plan.etcd.kind !== 'local') throw new Error('the Ansible lab runs stacked etcd');
    return etcdBinary('etcdctl', `v${cp.plan.etcd.version}`);
  };
  const ip = ['/usr/sbin/ip', '/sbin/ip'].find((p) => existsSync(p)) ?? 'ip';
  return {
    cp,
    etcdctl,
    labAnsible(clusterDir) {
      const dir = join(clusterDir, 'ansible');
      mkdirSync(join(dir, 'host_vars'), { recursive: true });
      for (const m of [...cp.masters, ...cp.spares]) {
        writeFileSync(join(dir, 'host_vars', `${m}.yml`), stringify({
          ansible_connection: 'local',
          ansible_python_interpreter: '/usr/bin/python3',
          hacp_root: cp.rootOf(m),
          hacp_install_args: ['--node-name', m],
          hacp_etcdctl: [etcdctl()],
          hacp_kubectl: [cp.kubectlBinary],
          hacp_ip: [ip, 'netns', 'exec', cp.lab.nsOf(m), 'ip'],
        }));
      }
      return dir;
    },
    memberList(master, args) {
      const pki = (f: string) => join(cp.rootOf(master), 'etc/kubernetes/pki', f);
      return cp.lab.exec(master, etcdctl(), ['member', 'list', ...args, '--endpoints', `https://${cp.addressOf(master)}:2379`,
        '--cacert', pki('etcd/ca.crt'), '--cert', pki('apiserver-etcd-client.crt'), '--key', pki('apiserver-etcd-client.key')]);
    },
    playbook(dir, name, extra = [], env = {}) {
      return cp.lab.exec('client', 'ansible-playbook', ['-i', join(dir, 'inventory.yml'), join(dir, name), ...extra], {
        timeoutMs: 600_000,
        env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_LOCAL_TEMP: join(cp.workDir, 'ansible-tmp'), ANSIBLE_REMOTE_TEMP: join(cp.workDir, 'ansible-tmp'), ...env },
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
    async destroy() {},
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
