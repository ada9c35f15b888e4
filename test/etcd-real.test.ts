/**
 * The generated etcd commands, run unchanged on real etcd binaries: three members per etcd line, each
 * in its own network namespace, with kubeadm's certificate layout made by openssl — and once more on
 * etcd 3.6 with the certificates of pki.mode generate (client and peer certificate auth on).
 *
 * Needs root, iproute2, util-linux (unshare, setpriv), openssl, curl, Debian's etcd 3.4 and etcdctl
 * (/usr/bin), and etcd 3.5, 3.6 and 3.7 built from the Go module proxy into .cache/bin — `npm test`
 * installs and builds them first (scripts/test-deps.sh).
 * A missing binary fails the test; nothing is skipped.
 *
 * One path, two contents: the spec's certificatesDir and etcd dataDir are cluster-wide, so every
 * member's command names the same <certificatesDir>/etcd and the same --data-dir, as on real masters.
 * Each member therefore runs in a private mount namespace (`unshare --mount`, see withBindMounts) in
 * which its own pki dir and data dir are bind-mounted over those two paths. The host's mount table
 * never changes, the mounts disappear with the process, and the command line stays exactly as
 * generated. On the host the shared <certificatesDir>/etcd holds the CA and the healthcheck client,
 * which is all etcdctl needs.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { ClusterSpec, preparePki } from '../lib';
import { etcdProfile } from '../lib/plan/versions';
import { BIN_DIR, toolVersions } from './harness/binaries';
import { EtcdCa, makeEtcdCa, makeEtcdMemberPki } from './harness/certs';
import { createLab, ExecResult, Lab, LabProcess, withBindMounts } from './harness/netns';
import { pod } from './util';

/** Where a built etcd is (not required to exist yet: requireBinary fails the test with a hint). */
const etcdBinaryPath = (v: string) => join(BIN_DIR, 'etcd', v, 'etcd');
const ETCDCTL = '/usr/bin/etcdctl';
const NODES = ['m1', 'm2', 'm3'];
/** Every wait on the cluster is bounded by this. */
const HEALTHY_WITHIN_MS = 30_000;

interface EtcdLine {
  readonly line: string;
  readonly imageTag: string;
  readonly version: string;
  readonly binary: string;
  readonly hint: string;
  /** The probe paths the plan should choose for this version (liveness, readiness, startup). */
  readonly probePaths: readonly string[];
  /** Paths this etcd must NOT serve (showing that the version-aware choice matters). */
  readonly notServed: readonly string[];
  /** Who makes the certificates: openssl (test/harness/certs.ts) or this project's pki.mode generate. */
  readonly pki: 'openssl' | 'generated';
}

const LINES: readonly EtcdLine[] = [
  {
    line: '3.4',
    imageTag: '3.4.23-0',
    version: '3.4.23',
    binary: '/usr/bin/etcd',
    hint: 'install Debian\'s etcd-server (bash scripts/test-deps.sh does)',
    probePaths: ['/health?exclude=NOSPACE&serializable=true', '/health?exclude=NOSPACE&serializable=true', '/health?serializable=false'],
    notServed: ['/livez', '/readyz'],
    pki: 'openssl',
  },
  // etcd 3.5, 3.6 and 3.7 built from go.etcd.io/etcd (scripts/k8s-binaries.sh; tools/etcd/).
  ...toolVersions('etcd').map((v): EtcdLine => ({
    line: v.slice(1).split('.').slice(0, 2).join('.'),
    imageTag: `${v.slice(1)}-0`,
    version: v.slice(1),
    binary: etcdBinaryPath(v),
    hint: `run \`bash scripts/k8s-binaries.sh etcd/${v}\` (npm test's pretest does)`,
    probePaths: ['/livez', '/readyz', '/readyz'],
    notServed: [],
    pki: 'openssl',
  })),
];
// The same cluster with the certificates of pki.mode generate (RSA-2048, the default) instead of openssl's.
const GENERATED: EtcdLine = { ...LINES.find((l) => l.line === '3.6')!, pki: 'generated' };

/** Fails (never skips) when a binary is absent or is not the expected version. */
function requireBinary(path: string, versionArgs: readonly string[], versionLine: RegExp, hint: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
  let out: string;
  try {
    out = execFileSync(path, versionArgs, { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL', env: { ...process.env, ETCDCTL_API: '3' } });
  } catch (e) {
    throw new Error(`${path} ${versionArgs.join(' ')} failed (${(e as Error).message}): ${hint}`);
  }
  if (!versionLine.test(out)) throw new Error(`${path} is not the expected version (${versionLine}): ${out.trim()}; ${hint}`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const show = (r: ExecResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' TIMED OUT' : ''}\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim().slice(-2000)}`;

describe.each([...LINES, GENERATED])('etcd $version runs the generated etcd commands ($pki certificates)', (L) => {
  const versionRe = new RegExp(`^etcd Version: ${L.version.replace(/\./g, '\\.')}$`, 'm');
  let root = '';
  let lab: Lab | undefined;
  let spec: ClusterSpec;
  let ca: EtcdCa;
  const pods = new Map<string, any>();
  const members = new Map<string, LabProcess>();

  const pkiDir = () => `${spec.certificatesDir}/etcd`;
  const dataDir = () => spec.etcd!.local!.dataDir!;
  const memberDir = (node: string) => join(root, 'members', node);
  const command = (node: string): string[] => pods.get(node).spec.containers[0].command;
  const clientUrl = (node: string) => `https://${lab!.addressOf(node)}:2379`;

  /** The generated command with argv[0] replaced by the binary, in the member's namespaces. */
  function memberArgv(node: string, args: readonly string[], data = join(memberDir(node), 'data')) {
    return withBindMounts([
      { source: join(memberDir(node), 'pki-etcd'), target: pkiDir() },
      { source: data, target: dataDir() },
    ], L.binary, args);
  }

  /** Throws with the log tail of any member that has exited. */
  function assertMembersRunning(): void {
    const dead = [...members.values()].filter((p) => p.exitStatus() !== null);
    if (dead.length === 0) return;
    throw new Error(dead.map((p) => {
      const st = p.exitStatus()!;
      return `etcd member ${p.node} exited early (code ${st.code}, signal ${st.signal}); log tail:\n${p.logTail(3000)}`;
    }).join('\n\n'));
  }

  function etcdctl(node: string, endpoints: readonly string[], args: readonly string[]): Promise<ExecResult> {
    return lab!.exec(node, ETCDCTL, [
      `--endpoints=${endpoints.join(',')}`,
      `--cacert=${ca.ca.crt}`, `--cert=${ca.healthcheckClient.crt}`, `--key=${ca.healthcheckClient.key}`,
      '--dial-timeout=2s', '--command-timeout=5s',
      ...args,
    ], { env: { ETCDCTL_API: '3' }, timeoutMs: 15_000 });
  }

  const allHealthy = (r: ExecResult, endpoints: readonly string[]) =>
    r.code === 0 && endpoints.every((e) => `${r.stdout}\n${r.stderr}`.includes(`${e} is healthy`));

  /**
   * pki.mode generate for the same spec: each member's <certificatesDir>/etcd files from its bundle go to
   * its private pki dir; the host's shared one gets the CA certificate and m1's healthcheck client.
   */
  async function generatedEtcdPki(): Promise<EtcdCa> {
    const prepared = await preparePki({ ...spec, pki: { mode: 'generate' } }, { dir: join(root, 'state') });
    const prefix = `${pkiDir()}/`;
    const put = (file: string, content: string, mode: number) => {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, content, { mode });
    };
    for (const node of NODES) {
      for (const f of prepared.files.get(node)!.filter((x) => x.path.startsWith(prefix))) {
        put(join(memberDir(node), 'pki-etcd', f.path.slice(prefix.length)), f.content, f.mode);
        if (node === 'm1' && /\/(ca\.crt|healthcheck-client\.(crt|key))$/.test(f.path)) put(f.path, f.content, f.mode);
      }
    }
    return {
      dir: pkiDir(),
      ca: { crt: `${prefix}ca.crt`, key: join(root, 'state', 'etcd', 'ca.key') },
      healthcheckClient: { crt: `${prefix}healthcheck-client.crt`, key: `${prefix}healthcheck-client.key` },
    };
  }

  beforeAll(async () => {
    requireBinary(L.binary, ['--version'], versionRe, L.hint);
    requireBinary(ETCDCTL, ['version'], /^etcdctl version: 3\./m, 'install Debian\'s etcd-client (bash scripts/test-deps.sh does)');

    root = mkdtempSync(join(tmpdir(), 'hacp-etcd-'));
    lab = createLab({ nodes: NODES });
    spec = {
      name: 'etcd-real',
      kubernetesVersion: '1.33',
      controlPlaneEndpoint: { host: `${lab.prefix}.100`, port: 6443 },
      masters: NODES.map((n) => ({ name: n, address: lab!.addressOf(n) })),
      certificatesDir: join(root, 'pki'),
      etcd: { local: { imageTag: L.imageTag, dataDir: join(root, 'data') } },
    };
    mkdirSync(dataDir(), { mode: 0o700 });
    if (L.pki === 'openssl') {
      ca = makeEtcdCa(pkiDir());
      for (const node of NODES) makeEtcdMemberPki(join(memberDir(node), 'pki-etcd'), ca, { name: node, address: lab.addressOf(node) });
    } else {
      ca = await generatedEtcdPki();
    }
    for (const node of NODES) {
      mkdirSync(join(memberDir(node), 'data'), { mode: 0o700 });
      pods.set(node, pod(spec, 'etcd', node));
    }
    for (const node of NODES) {
      const [argv0, ...args] = command(node);
      if (argv0 !== 'etcd') throw new Error(`argv[0] of ${node}'s etcd command is ${argv0}, expected etcd`);
      const run = memberArgv(node, args);
      members.set(node, lab.spawn(node, run.cmd, run.args, { logFile: join(root, `${node}.log`) }));
    }

    const endpoints = NODES.map(clientUrl);
    const deadline = Date.now() + HEALTHY_WITHIN_MS;
    let last: ExecResult | undefined;
    for (;;) {
      assertMembersRunning();
      last = await etcdctl('m1', endpoints, ['endpoint', 'health']);
      if (allHealthy(last, endpoints)) break;
      if (Date.now() > deadline) {
        throw new Error(`the members were not all healthy within ${HEALTHY_WITHIN_MS / 1000}s; last etcdctl endpoint health: ${show(last)}\n\n`
          + [...members.values()].map((p) => `log tail of ${p.node}:\n${p.logTail(2000)}`).join('\n\n'));
      }
      await sleep(300);
    }
  }, 120_000);

  afterAll(async () => {
    try {
      // An etcd leader stopped together with its followers waits ~5 s for a leadership transfer that
      // cannot happen; the data is thrown away, so SIGKILL after a short grace.
      await lab?.destroy({ graceMs: 1500 });
    } finally {
      if (root) rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);

  test('the commands are the ones pinned to this etcd line', () => {
    for (const node of NODES) {
      const cmd = command(node);
      for (const f of etcdProfile(L.line)!.flags) expect(cmd).toContain(`--${f.name}=${f.value}`);
      expect(cmd).toContain(`--data-dir=${dataDir()}`);
      expect(cmd).toContain(`--cert-file=${pkiDir()}/server.crt`);
      expect(cmd).toContain(`--peer-cert-file=${pkiDir()}/peer.crt`);
      expect(cmd).toContain(`--trusted-ca-file=${pkiDir()}/ca.crt`);
    }
  });

  test('every member is healthy on its address and on its loopback, and all three are started members', async () => {
    assertMembersRunning();
    const endpoints = NODES.map(clientUrl);
    const all = await etcdctl('m2', endpoints, ['endpoint', 'health']);
    expect({ healthy: allHealthy(all, endpoints), result: show(all) }).toMatchObject({ healthy: true });
    // kube-apiserver talks to its member over https://127.0.0.1:2379: that listener and the 127.0.0.1 SAN work.
    for (const node of NODES) {
      const local = await etcdctl(node, ['https://127.0.0.1:2379'], ['endpoint', 'health']);
      expect({ node, healthy: allHealthy(local, ['https://127.0.0.1:2379']), result: show(local) }).toMatchObject({ node, healthy: true });
    }

    const list = await etcdctl('m3', endpoints, ['member', 'list']);
    expect({ code: list.code, stderr: list.stderr.trim() }).toEqual({ code: 0, stderr: '' });
    const rows = list.stdout.trim().split('\n').map((line) => {
      const [, status, name, peerUrls, clientUrls] = line.split(', ');
      return { status, name, peerUrls, clientUrls };
    }).sort((a, b) => a.name.localeCompare(b.name));
    const peerFlag = (node: string) => command(node).find((a) => a.startsWith('--initial-advertise-peer-urls='))!.split('=')[1];
    expect(rows).toEqual(NODES.map((node) => ({
      status: 'started',
      name: node,
      peerUrls: peerFlag(node),
      clientUrls: pods.get(node).metadata.annotations['kubeadm.kubernetes.io/etcd.advertise-client-urls'],
    })));
    expect(rows.map((r) => r.peerUrls)).toEqual(NODES.map((n) => `https://${lab!.addressOf(n)}:2380`));
  });

  test('a write through one member is read through another', async () => {
    assertMembersRunning();
    const value = `v-${process.pid}-${Date.now()}`;
    const put = await etcdctl('m1', [clientUrl('m1')], ['put', '/hacp/test', value]);
    expect(show(put)).toMatch(/^exit 0\nstdout: OK/);
    for (const node of ['m2', 'm3']) {
      const get = await etcdctl(node, [clientUrl(node)], ['get', '/hacp/test', '--print-value-only']);
      expect({ node, out: show(get) }).toEqual({ node, out: `exit 0\nstdout: ${value}\nstderr: ` });
    }
  });

  test('the probe paths of the generated pod answer 200 on the metrics port', async () => {
    assertMembersRunning();
    const first = pods.get('m1').spec.containers[0];
    expect(['livenessProbe', 'readinessProbe', 'startupProbe'].map((k) => first[k].httpGet.path)).toEqual(L.probePaths);
    const got: Record<string, string> = {};
    const want: Record<string, string> = {};
    for (const node of NODES) {
      const c = pods.get(node).spec.containers[0];
      for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        const h = c[kind].httpGet;
        // A named port (kubeadm ≥ 1.34) resolves through the container's ports.
        const port = typeof h.port === 'number' ? h.port : c.ports.find((p: any) => p.name === h.port).containerPort;
        const url = `${h.scheme.toLowerCase()}://${h.host}:${port}${h.path}`;
        const r = await lab!.exec(node, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', url]);
        got[`${node} ${kind} ${url}`] = r.stdout;
        want[`${node} ${kind} ${url}`] = '200';
      }
      for (const path of L.notServed) {
        const r = await lab!.exec(node, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://127.0.0.1:2381${path}`]);
        got[`${node} not served ${path}`] = r.stdout;
        want[`${node} not served ${path}`] = '404';
      }
    }
    expect(got).toEqual(want);
  });

  describe('negative controls: the same binary refuses what it does not know', () => {
    /** Runs m1's command with `edit` applied, on a scratch data dir, bounded in time. */
    async function runEdited(edit: (args: string[]) => string[]): Promise<{ r: ExecResult; ms: number }> {
      const scratch = mkdtempSync(join(root, 'scratch-'));
      const run = memberArgv('m1', edit(command('m1').slice(1)), scratch);
      const t0 = Date.now();
      const r = await lab!.exec('m1', run.cmd, run.args, { timeoutMs: 10_000 });
      return { r, ms: Date.now() - t0 };
    }

    test('an unknown flag makes it exit 2 at once', async () => {
      const { r, ms } = await runEdited((a) => [...a, '--definitely-not-a-flag=1']);
      expect({ code: r.code, timedOut: r.timedOut, said: r.stderr.includes('flag provided but not defined: -definitely-not-a-flag') })
        .toEqual({ code: 2, timedOut: false, said: true });
      expect(ms).toBeLessThan(5000);
    });

    // The other spelling is refused: 3.4 and 3.5 know no 3.6 names, 3.7 no longer knows the
    // experimental ones. (3.6 accepts both: its experimental names are deprecated, not gone.)
    const ours = etcdProfile(L.line)!.flags;
    const other = Number(L.line.split('.')[1]) < 6 ? '3.6' : Number(L.line.split('.')[1]) >= 7 ? '3.5' : undefined;
    const theirs = other ? etcdProfile(other)!.flags : [];
    if (other) test.each(ours.map((f, i) => [`--${f.name}`, `--${theirs[i].name}=${theirs[i].value}`]))(
      `spelling %s the ${other} way (%s) is refused`,
      async (old, replacement) => {
        const { r, ms } = await runEdited((a) => {
          const i = a.findIndex((x) => x.startsWith(`${old}=`));
          if (i < 0) throw new Error(`${old} is not in the generated command`);
          return [...a.slice(0, i), replacement, ...a.slice(i + 1)];
        });
        const name = replacement.split('=')[0].slice(1);
        expect({ code: r.code, timedOut: r.timedOut, said: r.stderr.includes(`flag provided but not defined: ${name}`) })
          .toEqual({ code: 2, timedOut: false, said: true });
        expect(ms).toBeLessThan(5000);
      },
    );
  });

  if (L.pki === 'generated') test('client and peer certificate auth are on; a client certificate from another CA is refused', async () => {
    for (const node of NODES) {
      expect(command(node)).toEqual(expect.arrayContaining(['--client-cert-auth=true', '--peer-client-cert-auth=true']));
    }
    const other = makeEtcdCa(join(root, 'other-ca'));
    const r = await lab!.exec('m1', ETCDCTL, [
      `--endpoints=${clientUrl('m1')}`, `--cacert=${ca.ca.crt}`, `--cert=${other.healthcheckClient.crt}`, `--key=${other.healthcheckClient.key}`,
      '--dial-timeout=2s', '--command-timeout=5s', 'endpoint', 'health',
    ], { env: { ETCDCTL_API: '3' }, timeoutMs: 15_000 });
    expect({ code: r.code, healthy: `${r.stdout}${r.stderr}`.includes(' is healthy') }).toEqual({ code: 1, healthy: false });
    expect(`${r.stdout}${r.stderr}`).toMatch(/is unhealthy|bad certificate|unknown certificate authority|deadline exceeded/);
    // The same call with the generated healthcheck-client certificate succeeds.
    const ok = await etcdctl('m1', [clientUrl('m1')], ['endpoint', 'health']);
    expect(allHealthy(ok, [clientUrl('m1')])).toBe(true);
  });

  test('the members are still running after everything', () => {
    assertMembersRunning();
  });
});
