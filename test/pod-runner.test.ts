/**
 * The static-pod runner (test/harness/pod-runner.ts) against the library's own manifests and a few tiny
 * ones: real etcd and kube-apiserver/-controller-manager/-scheduler binaries (built by
 * scripts/k8s-binaries.sh; HACP_BIN_DIR may point at a shared .cache/bin), Debian's haproxy, and the
 * host's /usr for busybox-like init containers. Needs root, iproute2, util-linux, curl.
 *
 * Each test builds its own lab (network namespaces) and node roots; afterEach stops the runners and
 * destroys the lab whether the test passed or not.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { stringify } from 'yaml';
import { ClusterSpec, preparePki } from '../lib';
import { createLab, Lab } from './harness/netns';
import { hostUsrImage, NodeRunner, PodEvent, startNode } from './harness/pod-runner';
import { builtVersionOf, k8sBinary } from './harness/binaries';
import { haSpec, render, spec } from './util';

jest.setTimeout(90_000);

let lab: Lab | undefined;
let runners: NodeRunner[] = [];
let dirs: string[] = [];

afterEach(async () => {
  const rs = runners;
  runners = [];
  await Promise.allSettled(rs.map((r) => r.stopNode({ graceMs: 5000 })));
  const l = lab;
  lab = undefined;
  await l?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
}, 60_000);

function tempDir(label: string): string {
  const d = mkdtempSync(join(tmpdir(), `hacp-podrunner-${label}-`));
  dirs.push(d);
  return d;
}

function newLab(nodes: string[]): Lab {
  lab = createLab({ nodes });
  return lab;
}

function run(node: string, root: string, opts: Partial<Parameters<typeof startNode>[2]> = {}): NodeRunner {
  const r = startNode(lab!, node, { root, stateDir: tempDir(`${node}-state`), ...opts });
  runners.push(r);
  return r;
}

/** Installs rendered files into a node root (each with its mode), except those `skip` names. */
function install(root: string, files: Map<string, { content: string; mode: number }>, skip: (path: string) => boolean = () => false): void {
  for (const [path, f] of files) {
    if (skip(path)) continue;
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, f.content, { mode: f.mode });
  }
}

/** A tiny static pod. */
function tinyPod(name: string, containers: object[], extra: { volumes?: object[]; initContainers?: object[]; terminationGracePeriodSeconds?: number } = {}): string {
  return stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'kube-system' },
    spec: { hostNetwork: true, containers, ...extra },
  });
}

const BUSYBOX = 'docker.io/library/busybox:1.36.1';
const manifests = (root: string) => join(root, 'etc/kubernetes/manifests');
function writeManifest(root: string, file: string, text: string): void {
  mkdirSync(manifests(root), { recursive: true });
  writeFileSync(join(manifests(root), file), text, { mode: 0o600 });
}
const eventsOf = (r: NodeRunner, pod: string, reason?: string): PodEvent[] => r.events().filter((e) => e.pod === pod && (!reason || e.reason === reason));
const pidAlive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('container filesystem and namespaces', () => {
  test('only the pod\'s volumes are visible, read-only where asked; the container is in the node\'s network namespace', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    mkdirSync(join(root, 'etc/kubernetes/pki'), { recursive: true });
    writeFileSync(join(root, 'etc/kubernetes/admin.conf'), 'secret\n');
    writeFileSync(join(root, 'etc/kubernetes/pki/ca.crt'), 'the-ca\n');
    writeManifest(root, 'probe.yaml', tinyPod('probe', [{
      name: 'main', image: BUSYBOX, command: ['sh', '-c', 'echo started; exec sleep 1000'],
      volumeMounts: [{ name: 'pki', mountPath: '/etc/kubernetes/pki', readOnly: true }, { name: 'data', mountPath: '/data' },
        { name: 'untyped', mountPath: '/untyped' }, { name: 'conf', mountPath: '/etc/app.conf' }],
    }], {
      volumes: [{ name: 'pki', hostPath: { path: '/etc/kubernetes/pki', type: 'Directory' } }, { name: 'data', hostPath: { path: '/var/lib/probe', type: 'DirectoryOrCreate' } },
        { name: 'untyped', hostPath: { path: '/var/lib/untyped' } }, { name: 'conf', hostPath: { path: '/etc/app.conf', type: 'FileOrCreate' } }],
    }));
    const r = run('n1', root);
    await r.waitReady(['probe'], 20_000);
    const sh = (script: string) => r.exec('probe', 'main', ['sh', '-c', script]);

    // The host file the pod does not mount is not there; neither is any host /etc file.
    expect((await sh('test -e /etc/kubernetes/admin.conf')).code).toBe(1);
    expect((await sh('test -e /etc/debian_version')).code).toBe(1);
    expect((await sh('ls /etc')).stdout.split('\n').filter(Boolean).sort()).toEqual(['app.conf', 'group', 'hostname', 'hosts', 'kubernetes', 'nsswitch.conf', 'passwd', 'resolv.conf']);
    // FileOrCreate made an empty file; an unset type a directory (containerd creates a missing source).
    expect(statSync(join(root, 'etc/app.conf')).size).toBe(0);
    expect(statSync(join(root, 'var/lib/untyped')).isDirectory()).toBe(true);
    expect((await sh('test -f /etc/app.conf && test -d /untyped')).code).toBe(0);
    // The mounted one is, read-only.
    expect((await sh('cat /etc/kubernetes/pki/ca.crt')).stdout).toBe('the-ca\n');
    const ro = await sh('echo x > /etc/kubernetes/pki/new');
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toMatch(/Read-only file system/);
    // DirectoryOrCreate made <root>/var/lib/probe 0755; writes land there.
    expect(statSync(join(root, 'var/lib/probe')).mode & 0o777).toBe(0o755);
    expect((await sh('echo hello > /data/out')).code).toBe(0);
    expect(readFileSync(join(root, 'var/lib/probe/out'), 'utf8')).toBe('hello\n');
    // Node's network namespace and hostname; a fresh /tmp.
    expect((await sh('ip -4 -o addr show eth0')).stdout).toContain(`inet ${lab!.addressOf('n1')}/24`);
    expect((await sh('hostname')).stdout.trim()).toBe('n1');
    expect((await sh('ls -A /tmp')).stdout).toBe('');
    // The container's own output is in its log.
    const c = r.pod('probe')!.containers[0];
    expect(readFileSync(c.logFile!, 'utf8')).toBe('started\n');
  });

  test('a hostPath File volume that is missing fails the pod with the kubelet\'s message, and the pod starts once the file exists', async () => {
    const s: ClusterSpec = haSpec({ name: 'lbonly' });
    newLab(['n1']);
    const root = tempDir('root');
    const files = render(s).get('master-1')!;
    install(root, files, (p) => p !== 'etc/kubernetes/manifests/haproxy.yaml');
    const r = run('n1', root);
    const msg = await rejection(r.waitReady(['haproxy'], 4000));
    expect(msg).toContain('MountVolume.SetUp failed for volume "config" : hostPath type check failed: /etc/haproxy/haproxy.cfg is not a file');
    const c = r.pod('haproxy')!.containers[0];
    expect(c).toMatchObject({ state: 'waiting', reason: 'ContainerCreating', restarts: 0, pid: undefined });
    expect(eventsOf(r, 'haproxy', 'FailedMount').length).toBeGreaterThan(0);

    // As the kubelet's volume manager, the runner retries: the file appears, haproxy (Debian's) starts.
    install(root, files, (p) => p !== 'etc/haproxy/haproxy.cfg');
    await r.waitFor('haproxy running', 15_000, () => r.pod('haproxy')!.containers[0].state === 'running');
    expect(r.pod('haproxy')!.error).toBeUndefined();
    // It loaded the generated haproxy.cfg inside the container and keeps running.
    await r.waitFor('haproxy loaded its config', 10_000, () => readFileSync(r.pod('haproxy')!.containers[0].logFile!, 'utf8').includes('Loading success.'));
    expect(r.pod('haproxy')!.containers[0]).toMatchObject({ state: 'running', restarts: 0 });
  });
});

describe('images', () => {
  test('the library\'s nginx pod runs Debian\'s nginx on its generated config, with the stream module the image provides', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    install(root, render(haSpec({ name: 'ngx', loadBalancer: { type: 'nginx' } })).get('master-1')!, (p) => p.includes('/manifests/') && !p.endsWith('/nginx.yaml'));
    const r = run('n1', root);
    await r.waitReady(['nginx'], 15_000);
    const vipPort = /listen (\S+);/.exec(readFileSync(join(root, 'etc/nginx/nginx.conf'), 'utf8'))![1];
    await r.waitFor(`nginx listening on ${vipPort}`, 10_000, async () => (await lab!.exec('n1', 'ss', ['-Hltn'])).stdout.includes(vipPort));
    expect(readFileSync(r.pod('nginx')!.containers[0].logFile!, 'utf8')).not.toMatch(/\[emerg\]/);
    expect(r.pod('nginx')!.containers[0].restarts).toBe(0);
  });


  test('an unknown image fails clearly, naming the image and the known ones', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    writeManifest(root, 'odd.yaml', tinyPod('odd', [{ name: 'odd', image: 'quay.io/example/not-an-image:1.0', command: ['odd'] }]));
    const r = run('n1', root, { backoff: { initialMs: 500, maxMs: 1000 } });
    const msg = await rejection(r.waitReady(['odd'], 3000));
    expect(msg).toContain('Failed to pull image "quay.io/example/not-an-image:1.0": image "quay.io/example/not-an-image:1.0" is not known to the pod runner');
    expect(msg).toContain('e.g. registry.k8s.io/kube-apiserver');
    const c = r.pod('odd')!.containers[0];
    expect(c.state).toBe('waiting');
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(c.reason);
    expect(c.pid).toBeUndefined();
  });

  test('a test can add image table entries', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    writeManifest(root, 'tools.yaml', tinyPod('tools', [{ name: 'tools', image: 'quay.io/example/tools:1.0', command: ['sh', '-c', 'echo hi; exec sleep 1000'] }]));
    const r = run('n1', root, { images: [{ pattern: /^quay\.io\/example\/tools:/, example: 'quay.io/example/tools:1.0', make: (image) => hostUsrImage(image) }] });
    await r.waitReady(['tools'], 10_000);
    expect(eventsOf(r, 'tools', 'Started')[0].message).toContain('(the host\'s /usr)');
  });

  test('a command the image does not have fails with the runtime\'s message in the log', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    writeManifest(root, 'nosh.yaml', tinyPod('nosh', [{ name: 'nosh', image: 'registry.k8s.io/pause:3.10', command: ['no-such-command', '--x'] }]));
    const r = run('n1', root, { backoff: { initialMs: 500, maxMs: 1000 } });
    const msg = await rejection(r.waitReady(['nosh'], 3000));
    expect(msg).toMatch(/unshare: failed to execute no-such-command: No such file or directory/);
    expect(r.pod('nosh')!.containers[0].lastExit?.reason).toBe('StartError');
  });
});

describe('the library\'s lvs-dr-vip pod', () => {
  function lvsDrVip(): string {
    const s = haSpec({ name: 'dr', controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancer: { type: 'lvs-dr' },
      loadBalancers: [{ name: 'lb1', address: '192.168.10.21' }, { name: 'lb2', address: '192.168.10.22' }] });
    return render(s).get('master-1')!.get('etc/kubernetes/manifests/lvs-dr-vip.yaml')!.content;
  }

  test('its privileged init container binds the VIP to the node\'s loopback and sets the ARP sysctls there; unprivileged it cannot', async () => {
    newLab(['n1', 'n2']);
    const hostArpIgnore = readFileSync('/proc/sys/net/ipv4/conf/all/arp_ignore', 'utf8');
    const text = lvsDrVip();
    expect(text).toContain('privileged: true');
    const root1 = tempDir('root1');
    writeManifest(root1, 'lvs-dr-vip.yaml', text);
    const root2 = tempDir('root2');
    writeManifest(root2, 'lvs-dr-vip.yaml', text.replace('privileged: true', 'privileged: false'));
    const r1 = run('n1', root1);
    const r2 = run('n2', root2, { backoff: { initialMs: 1000, maxMs: 2000 } });
    await r1.waitReady(['lvs-dr-vip'], 20_000);
    expect(r1.pod('lvs-dr-vip')!.initContainers[0]).toMatchObject({ name: 'bind-vip-on-loopback', state: 'terminated', lastExit: { code: 0 } });
    expect((await lab!.exec('n1', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout).toContain('inet 192.168.10.100/32');
    expect((await lab!.exec('n1', 'cat', ['/proc/sys/net/ipv4/conf/all/arp_ignore', '/proc/sys/net/ipv4/conf/eth0/arp_announce'])).stdout).toBe('1\n2\n');
    expect(readFileSync('/proc/sys/net/ipv4/conf/all/arp_ignore', 'utf8')).toBe(hostArpIgnore);

    const msg = await rejection(r2.waitReady(['lvs-dr-vip'], 3000));
    expect(msg).toMatch(/init container bind-vip-on-loopback .*last exit code 1 \(Error\)/);
    expect(msg).toContain('sysctl: permission denied on key "net.ipv4.conf.all.arp_ignore"');
    expect((await lab!.exec('n2', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout).not.toContain('192.168.10.100');
  });
});

describe('pod lifecycle', () => {
  test('a changed manifest restarts exactly that pod; a removed one stops it; dot files are ignored', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    const sleeper = (name: string, arg: string) => tinyPod(name, [{ name, image: BUSYBOX, command: ['sh', '-c', `echo ${arg}; exec sleep 1000`] }], { terminationGracePeriodSeconds: 2 });
    writeManifest(root, 'a.yaml', sleeper('a', 'one'));
    writeManifest(root, 'b.yaml', sleeper('b', 'one'));
    writeManifest(root, '.c.yaml', sleeper('c', 'one'));
    writeManifest(root, 'broken.yaml', 'kind: Deployment\nmetadata: {name: d}\n');
    const r = run('n1', root);
    await r.waitReady(['a', 'b'], 20_000);
    expect(eventsOf(r, 'broken.yaml', 'FailedParse').map((e) => e.message)).toEqual([`could not process manifest file ${join(manifests(root), 'broken.yaml')}: not a Pod (kind "Deployment")`]);
    const pidA = r.pod('a')!.containers[0].pid!;
    const pidB = r.pod('b')!.containers[0].pid!;
    expect(r.pods().map((p) => p.name).sort()).toEqual(['a', 'b']);

    writeManifest(root, 'a.yaml', sleeper('a', 'two'));
    await r.waitFor('a restarted from the new manifest', 15_000, () => { const c = r.pod('a')?.containers[0]; return c?.ready && c.pid !== pidA; });
    expect(pidAlive(pidA)).toBe(false);
    expect(r.pod('b')!.containers[0].pid).toBe(pidB);
    expect(pidAlive(pidB)).toBe(true);
    expect(readFileSync(r.pod('a')!.containers[0].logFile!, 'utf8')).toBe('two\n');
    expect(eventsOf(r, 'a', 'PodStopped').map((e) => e.message)).toEqual(['pod a-n1 stopped (the manifest changed)']);
    expect(eventsOf(r, 'b', 'PodStopped')).toEqual([]);

    const pidA2 = r.pod('a')!.containers[0].pid!;
    rmSync(join(manifests(root), 'a.yaml'));
    await r.waitFor('a gone', 10_000, () => !r.pod('a') && !pidAlive(pidA2));
    expect(r.pod('b')!.containers[0].pid).toBe(pidB);
    expect(r.pods().map((p) => p.name)).toEqual(['b']);

    // Fault injection: a killed container restarts (first restart without back-off); a stopped pod stays stopped.
    r.killContainer('b', 'b', 'SIGKILL');
    await r.waitFor('b restarted', 10_000, () => { const c = r.pod('b')!.containers[0]; return c.state === 'running' && c.pid !== pidB && c; });
    expect(r.pod('b')!.containers[0]).toMatchObject({ restarts: 1, lastExit: { code: 137, signal: 'SIGKILL', reason: 'Error' } });
    const pidB2 = r.pod('b')!.containers[0].pid!;
    await r.stopPod('b');
    expect(pidAlive(pidB2)).toBe(false);
    await new Promise((res) => setTimeout(res, 1500));
    expect(r.pods()).toEqual([]);
  });

  test('a failing liveness probe restarts the container with the crash-loop back-off', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    writeManifest(root, 'sick.yaml', tinyPod('sick', [{
      name: 'sick', image: BUSYBOX, command: ['sh', '-c', 'echo up; exec sleep 1000'],
      livenessProbe: { exec: { command: ['test', '-e', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
    }], { terminationGracePeriodSeconds: 1 }));
    const r = run('n1', root, { backoff: { initialMs: 2000, maxMs: 4000 } });
    await r.waitFor('a 4th start', 40_000, () => eventsOf(r, 'sick', 'Started').length >= 4);
    expect(r.pod('sick')!.containers[0].restarts).toBe(3);
    const ev = eventsOf(r, 'sick');
    const starts = ev.filter((e) => e.reason === 'Started').map((e) => e.at);
    const exits = ev.filter((e) => e.reason === 'Exited').map((e) => e.at);
    // Back-off from the exit to the next start: none the first time, then 2 s, then 4 s (the max).
    const gaps = [0, 1, 2].map((i) => starts[i + 1] - exits[i]);
    expect(gaps[0]).toBeLessThan(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(2000);
    expect(gaps[1]).toBeLessThan(3500);
    expect(gaps[2]).toBeGreaterThanOrEqual(4000);
    expect(gaps[2]).toBeLessThan(5500);
    expect(ev.filter((e) => e.reason === 'Unhealthy')[0].message).toBe('Liveness probe failed: command ["test","-e","/tmp/healthy"] exited 1');
    expect(ev.filter((e) => e.reason === 'Killing').length).toBeGreaterThanOrEqual(3);
    expect(ev.filter((e) => e.reason === 'BackOff')[0].message).toBe('Back-off 2s restarting failed container sick in pod sick-n1');
  });

  test('httpGet probes go to the pod IP by default, resolve named ports and count HTTP codes; tcpSocket connects', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    const address = lab!.addressOf('n1');
    // An HTTP server bound to the node's address only (a probe to 127.0.0.1 would be refused), serving its working dir.
    writeManifest(root, 'web.yaml', tinyPod('web', [{
      name: 'web', image: BUSYBOX, command: ['python3', '-m', 'http.server', '8080', '--bind', '$(POD_IP)'], workingDir: '/srv',
      env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      ports: [{ name: 'http', containerPort: 8080 }],
      volumeMounts: [{ name: 'srv', mountPath: '/srv' }],
      readinessProbe: { httpGet: { path: '/ok', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
      livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 3, periodSeconds: 1, failureThreshold: 1 },
    }], { volumes: [{ name: 'srv', emptyDir: {} }] }));
    const r = run('n1', root);
    await r.waitFor('a readiness failure', 15_000, () => r.pod('web')?.containers[0].lastProbeFailure?.output.includes('statuscode: 404'));
    expect(r.pod('web')!.containers[0]).toMatchObject({ state: 'running', ready: false, restarts: 0 });
    expect(r.pod('web')!.containers[0].lastProbeFailure!.probe).toBe('readiness');
    expect((await r.exec('web', 'web', ['touch', '/srv/ok'])).code).toBe(0);
    await r.waitReady(['web'], 10_000);
    // The server saw the kubelet's probe requests from the node's address.
    expect(readFileSync(r.pod('web')!.containers[0].logFile!, 'utf8')).toMatch(new RegExp(`${address.replace(/\./g, '\\.')} .*"GET /ok HTTP/1.1" 200`));
    expect(eventsOf(r, 'web', 'Unhealthy').filter((e) => e.message.startsWith('Liveness'))).toEqual([]);
    expect(r.pod('web')!.containers[0].restarts).toBe(0);
  });

  test('the startup probe gates readiness; an init container runs to completion first', async () => {
    newLab(['n1']);
    const root = tempDir('root');
    writeManifest(root, 'slow.yaml', tinyPod('slow', [{
      name: 'slow', image: BUSYBOX, command: ['sh', '-c', 'cat /work/init-was-here; exec sleep 1000'],
      volumeMounts: [{ name: 'work', mountPath: '/work' }],
      startupProbe: { exec: { command: ['test', '-e', '/tmp/go'] }, periodSeconds: 1, failureThreshold: 30 },
      readinessProbe: { exec: { command: ['sh', '-c', 'echo x >> /tmp/readiness-runs'] }, periodSeconds: 1 },
    }], {
      volumes: [{ name: 'work', emptyDir: {} }],
      initContainers: [{ name: 'prepare', image: BUSYBOX, command: ['sh', '-c', 'echo prepared > /work/init-was-here'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
    }));
    const r = run('n1', root);
    await r.waitFor('slow running', 15_000, () => r.pod('slow')!.containers[0].state === 'running');
    await new Promise((res) => setTimeout(res, 3000));
    let c = r.pod('slow')!.containers[0];
    expect({ started: c.started, ready: c.ready }).toEqual({ started: false, ready: false });
    expect((await r.exec('slow', 'slow', ['test', '-e', '/tmp/readiness-runs'])).code).toBe(1);
    expect(r.pod('slow')!.initContainers[0]).toMatchObject({ state: 'terminated', lastExit: { code: 0, reason: 'Completed' } });
    expect(readFileSync(c.logFile!, 'utf8')).toBe('prepared\n');

    expect((await r.exec('slow', 'slow', ['touch', '/tmp/go'])).code).toBe(0);
    await r.waitReady(['slow'], 10_000);
    c = r.pod('slow')!.containers[0];
    expect(c.started).toBe(true);
    expect((await r.exec('slow', 'slow', ['cat', '/tmp/readiness-runs'])).stdout).toMatch(/^x\n/);
  });
});

/**
 * The etcd the one-master cluster runs: the Kubernetes 1.37 default (etcd 3.7, the built binary), and etcd
 * 3.4 pinned in the spec (the library's 3.4 flags and /health probes; Debian's etcd-server 3.4.23).
 */
const ETCD_LINES: readonly { readonly line: string; readonly etcd?: ClusterSpec['etcd']; readonly runs: RegExp }[] = [
  { line: '3.7 (default)', runs: /\(built etcd v3\.7\.\d+\)/ },
  { line: '3.4 (pinned)', etcd: { local: { imageTag: '3.4.23-0' } }, runs: /\(Debian's etcd 3\.4 / },
];

describe.each(ETCD_LINES)('the library\'s control plane on the real binaries, etcd $line', ({ etcd, runs }) => {
  /** A one-master cluster at the lab node's address, certificates by pki.mode generate (ECDSA), installed into a root. */
  async function oneMaster(name: string, overrides: Partial<ClusterSpec> = {}): Promise<{ root: string; address: string; files: Map<string, { content: string; mode: number }> }> {
    newLab(['m1']);
    const address = lab!.addressOf('m1');
    const s = spec({
      name, masters: [{ name: 'm1', address }], controlPlaneEndpoint: { host: address, port: 6443 },
      pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' }, ...(etcd ? { etcd } : {}), ...overrides,
    });
    const pki = await preparePki(s, { dir: join(tempDir('pki'), 'state') });
    const files = render(s, pki).get('m1')!;
    const root = tempDir('root');
    install(root, files);
    return { root, address, files };
  }

  const CONTROL_PLANE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

  test('one master: etcd and the API server, controller manager and scheduler become ready by their own probes', async () => {
    const { root, address } = await oneMaster('solo');
    const r = run('m1', root);
    await r.waitReady(CONTROL_PLANE, 80_000);
    expect(eventsOf(r, 'etcd', 'Started')[0].message).toMatch(runs);
    for (const p of r.pods()) {
      expect({ pod: p.name, restarts: p.containers[0].restarts }).toEqual({ pod: p.name, restarts: 0 });
      expect(p.containers[0].started).toBe(true);
    }
    const readyz = await lab!.exec('m1', 'curl', ['-k', '-sS', '--noproxy', '*', '--max-time', '5', `https://${address}:6443/readyz`]);
    expect(readyz.stdout).toBe('ok');
    // admin.conf (group kubeadm:cluster-admins) has no rights until the bundle's RBAC is applied with
    // super-admin.conf (system:masters), as after kubeadm init; then it has.
    const kubectl = (conf: string, ...args: string[]) => lab!.exec('m1', k8sBinary('kubectl', builtVersionOf('k8s', '1.37')!),
      [`--kubeconfig=${join(root, 'etc/kubernetes', conf)}`, '--request-timeout=10s', ...args], { timeoutMs: 20_000 });
    const before = await kubectl('admin.conf', 'get', 'namespace', 'kube-system', '-o', 'name');
    expect(before.stderr).toContain('Error from server (Forbidden): namespaces "kube-system" is forbidden: User "kubernetes-admin" cannot get resource "namespaces"');
    const applied = await kubectl('super-admin.conf', 'apply', '-f', join(root, 'etc/kubernetes/ha-control-plane-rbac.yaml'));
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('clusterrolebinding.rbac.authorization.k8s.io/kubeadm:cluster-admins created');
    expect((await kubectl('admin.conf', 'get', 'namespace', 'kube-system', '-o', 'name')).stdout.trim()).toBe('namespace/kube-system');

    // etcd stopped: the API server's own /readyz fails, so its readiness probe turns it unready (not killed: liveness allows 8 × 10 s).
    await r.stopPod('etcd');
    await r.waitFor('kube-apiserver unready', 25_000, () => !r.pod('kube-apiserver')!.containers[0].ready);
    const failure = r.pod('kube-apiserver')!.containers[0].lastProbeFailure!;
    expect(failure.probe).toBe('readiness');
    expect(failure.output).toMatch(/^HTTP probe failed with statuscode: 500; body: [^]*\[-\]etcd failed/);
    // A changed etcd manifest starts etcd again (the kubelet's file source), and everything is ready again.
    const etcdYaml = join(manifests(root), 'etcd.yaml');
    writeFileSync(etcdYaml, `${readFileSync(etcdYaml, 'utf8')}# touched\n`);
    await r.waitReady(CONTROL_PLANE, 40_000);
    expect(r.pod('kube-apiserver')!.containers[0].restarts).toBe(0);
  });

  // The rest needs one etcd line only: the default (three masters run end to end: test/control-plane-e2e.test.ts).
  if (etcd === undefined) {
    test('one master, hardened profile: every pod becomes ready; anonymous requests reach only the health paths; the audit log is written', async () => {
      const { root, address } = await oneMaster('hard', { security: { profile: 'hardened' } });
      const r = run('m1', root);
      await r.waitReady(CONTROL_PLANE, 80_000);
      const anon = async (path: string) => (await lab!.exec('m1', 'curl', ['-k', '-sS', '--noproxy', '*', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code}', `https://${address}:6443${path}`])).stdout;
      expect(await anon('/readyz')).toBe('200');
      expect(await anon('/api/v1/namespaces')).toBe('401');
      const audit = join(root, 'var/log/kubernetes/audit/audit.log');
      expect(existsSync(audit) && statSync(audit).size).toBeGreaterThan(0);
    });

    test('a flag the binary does not know fails the pod with the binary\'s own message', async () => {
      const { root, files } = await oneMaster('badflag');
      // Only the scheduler and etcd: both fail while parsing flags, before they need anything else.
      for (const m of ['kube-apiserver', 'kube-controller-manager']) rmSync(join(manifests(root), `${m}.yaml`));
      for (const m of ['kube-scheduler', 'etcd']) {
        const text = files.get(`etc/kubernetes/manifests/${m}.yaml`)!.content;
        writeManifest(root, `${m}.yaml`, text.replace(`    - ${m}\n`, `    - ${m}\n    - --no-such-flag\n`));
      }
      const r = run('m1', root, { backoff: { initialMs: 1000, maxMs: 2000 } });
      const msg = await rejection(r.waitReady(['kube-scheduler', 'etcd'], 6000));
      expect(msg).toContain('unknown flag: --no-such-flag');
      expect(msg).toContain('flag provided but not defined: -no-such-flag');
      for (const m of ['kube-scheduler', 'etcd']) expect(r.pod(m)!.containers[0].lastExit).toMatchObject({ code: expect.any(Number), reason: 'Error' });
      expect(r.pod('kube-scheduler')!.containers[0].lastExit!.code).not.toBe(0);
    });
  }
});
