/**
 * End to end through the VIP: three masters, each in its own network namespace, run entirely from their
 * installed bundles by the kubelet-faithful pod runner — real etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, keepalived and haproxy — with certificates from the real
 * kubeadm following the README word for word, or from `pki.mode: generate` with no kubeadm at all.
 * Asserted with the real kubectl and the admin kubeconfig, through the VIP. Needs root and the binaries
 * of scripts/k8s-binaries.sh. Each scenario is bounded in time; the lab is destroyed after each.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { ControlPlaneLab, startControlPlane } from './harness/control-plane-lab';

const READY_WITHIN_MS = 150_000;
jest.setTimeout(300_000);

let cp: ControlPlaneLab | undefined;
afterEach(async () => {
  await cp?.destroy();
  cp = undefined;
});

async function kubectlOk(args: readonly string[]): Promise<string> {
  const r = await cp!.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Polls until fn returns a value, bounded. */
async function eventually<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The assertions every variant makes once the control plane is up. */
async function assertWorkingControlPlane(): Promise<void> {
  const c = cp!;
  // Every API server ready on its own address, and through the VIP.
  for (const m of c.masters) {
    const addr = c.addressOf(m);
    const host = addr.includes(':') ? `[${addr}]` : addr;
    expect((await kubectlOk(['--server', `https://${host}:6443`, 'get', '--raw', '/readyz'])).trim()).toBe('ok');
  }
  expect((await kubectlOk(['get', '--raw', '/readyz'])).trim()).toBe('ok');

  // Objects written and read through the VIP.
  await kubectlOk(['create', 'configmap', 'e2e-probe', '--from-literal=k=v1']);
  expect(JSON.parse(await kubectlOk(['get', 'configmap', 'e2e-probe', '-o', 'json'])).data).toEqual({ k: 'v1' });

  // Leader election: each Lease held by exactly one master (holder "<node>_<uuid>").
  for (const lease of ['kube-controller-manager', 'kube-scheduler']) {
    const holder = await eventually(`${lease} lease held`, 60_000, async () => {
      const l = JSON.parse(await kubectlOk(['-n', 'kube-system', 'get', 'lease', lease, '-o', 'json']));
      return l.spec.holderIdentity as string | undefined;
    });
    expect(c.masters.filter((m) => holder.startsWith(`${m}_`))).toHaveLength(1);
  }

  // The controller manager acts: a Deployment gets its ReplicaSet and Pods.
  await kubectlOk(['create', 'deployment', 'e2e-web', '--image=registry.k8s.io/pause:3.10.2', '--replicas=2']);
  const pods = await eventually('the Deployment\'s pods', 60_000, async () => {
    const list = JSON.parse(await kubectlOk(['get', 'pods', '-l', 'app=e2e-web', '-o', 'json'])).items;
    return list.length === 2 ? list : undefined;
  });
  expect(pods.every((p: any) => p.metadata.ownerReferences[0].kind === 'ReplicaSet')).toBe(true);
}

test('kubeadm bootstrap as the README says: three masters, keepalived + haproxy, all through the VIP', async () => {
  cp = await startControlPlane({ bootstrap: 'kubeadm' });
  await cp.waitAllReady(READY_WITHIN_MS);
  await cp.finishBootstrap();
  await assertWorkingControlPlane();
});


test('nginx instead of haproxy', async () => {
  cp = await startControlPlane({ bootstrap: 'kubeadm', spec: { loadBalancer: { type: 'nginx' } } });
  await cp.waitAllReady(READY_WITHIN_MS);
  expect(cp.runners.get('master-1')!.pod('nginx')).toBeDefined();
  expect(cp.runners.get('master-1')!.pod('haproxy')).toBeUndefined();
  await cp.finishBootstrap();
  await assertWorkingControlPlane();
});

test('vip-only: keepalived alone on the masters, kubectl on VIP:6443 straight to the holder\'s API server; the VIP moves when that API server stops or dies and comes back when it is ready', async () => {
  // track_process emulated (a track_file kept by a watcher, with the generated fork_delay): see the lab.
  cp = await startControlPlane({ bootstrap: 'kubeadm', endpointPort: 6443, trackProcess: 'emulate', spec: { loadBalancer: { type: 'vip-only' } } });
  expect(cp.notes.join('\n')).toMatch(/track_process EMULATED/);
  expect(cp.endpoint).toBe(`${cp.vip}:6443`);
  await cp.waitAllReady(READY_WITHIN_MS);
  for (const m of cp.masters) {
    const r = cp.runners.get(m)!;
    expect(r.pod('keepalived')).toBeDefined();
    expect(r.pod('haproxy')).toBeUndefined();
    expect(r.pod('nginx')).toBeUndefined();
  }
  await cp.finishBootstrap();
  // admin.conf (written by the real kubeadm from the generated config) names the VIP on the API server's port.
  expect(readFileSync(join(cp.rootOf('master-1'), 'etc/kubernetes/admin.conf'), 'utf8')).toContain(`server: https://${cp.vip}:6443`);
  await assertWorkingControlPlane();

  const holders = async () => {
    const out: string[] = [];
    for (const n of cp!.masters) {
      if ((await cp!.lab.exec(n, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${cp!.vip}/`)) out.push(n);
    }
    return out;
  };
  const holderIs = (want: string) => async () => {
    const h = await holders();
    return h.length === 1 && h[0] === want ? h : undefined;
  };
  // The highest priority (master-1) holds the VIP once its API server answers its check (init_fail).
  await eventually('the VIP on master-1 alone', 30_000, holderIs('master-1'));

  // master-1's API server stops (its manifest's pod removed, as when the kubelet stops it): its
  // keepalived's check fails and the VIP moves to master-2, whose API server answers on VIP:6443 itself.
  // The VIP is watched while the pod stops (SIGTERM, then the API server's graceful shutdown).
  const stopping = Date.now();
  let stoppedAt: number | undefined;
  const stop = cp.runners.get('master-1')!.stopPod('kube-apiserver').then(() => { stoppedAt = Date.now(); });
  let movedMs: number | undefined;
  while (movedMs === undefined && Date.now() - stopping < 40_000) {
    if (await holderIs('master-2')()) movedMs = Date.now() - stopping;
    else await new Promise((r) => setTimeout(r, 200));
  }
  await stop;
  // eslint-disable-next-line no-console
  console.log(`vip-only e2e: the VIP was on master-2 alone ${movedMs} ms after master-1's API server got SIGTERM (polled every ~200 ms; `
    + `by the check script: the process runs on through its graceful shutdown); the pod took ${stoppedAt! - stopping} ms to stop`);
  expect(movedMs).toBeDefined();
  expect(movedMs!).toBeLessThan(10_000);
  expect((await kubectlOk(['get', '--raw', '/readyz'])).trim()).toBe('ok');
  await kubectlOk(['create', 'configmap', 'e2e-after-move', '--from-literal=k=v2']);
  expect(JSON.parse(await kubectlOk(['get', 'configmap', 'e2e-after-move', '-o', 'json'])).data).toEqual({ k: 'v2' });
  const ka1 = readFileSync(cp.runners.get('master-1')!.pod('keepalived')!.containers[0].logFile!, 'utf8');
  expect(ka1).toMatch(/VRRP_Script\(chk_apiserver\) failed/);

  // Started again and ready, master-1's API server takes the VIP back (highest priority, preemption).
  cp.runners.get('master-1')!.startPod('kube-apiserver');
  await cp.runners.get('master-1')!.waitReady(['kube-apiserver'], 120_000);
  await eventually('the VIP back on master-1 alone', 30_000, holderIs('master-1'));
  expect((await kubectlOk(['get', '--raw', '/readyz'])).trim()).toBe('ok');

  // SIGKILL of master-1's API server: its process is gone, the (emulated) track_process puts keepalived in
  // FAULT at once; the runner restarts the API server at once (as the kubelet does), and the VIP comes
  // back only when that API server is ready again (fork_delay, then the check script's rise).
  const r1 = cp.runners.get('master-1')!;
  const killed = Date.now();
  r1.killContainer('kube-apiserver', 'kube-apiserver', 'SIGKILL');
  let killMovedMs: number | undefined;
  while (killMovedMs === undefined && Date.now() - killed < 20_000) {
    if (await holderIs('master-2')()) killMovedMs = Date.now() - killed;
    else await new Promise((r) => setTimeout(r, 100));
  }
  // Once the VIP is back, master-1's API server answers /readyz itself (the kubelet's own readiness may
  // lag: its readiness probe waits for the startup probe's first 10 s).
  const readyz1 = async () => (await cp!.lab.exec(cp!.clientNode, 'curl', ['-k', '-sS', '--max-time', '2', `https://${cp!.addressOf('master-1')}:6443/readyz`])).stdout.trim();
  let backMs: number | undefined;
  let readyWhenBack: string | undefined;
  while (backMs === undefined && Date.now() - killed < 120_000) {
    if (await holderIs('master-1')()) {
      backMs = Date.now() - killed;
      readyWhenBack = await readyz1();
    } else {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  // eslint-disable-next-line no-console
  console.log(`vip-only e2e: API server SIGKILL on master-1: the VIP on master-2 alone after ${killMovedMs} ms (polled every ~100 ms), back on master-1 after ${backMs} ms (its API server ready: ${readyWhenBack})`);
  expect(killMovedMs).toBeDefined();
  expect(killMovedMs!).toBeLessThan(1500);
  expect(r1.pod('kube-apiserver')!.containers[0].restarts).toBeGreaterThanOrEqual(1);
  expect(readFileSync(r1.pod('keepalived')!.containers[0].logFile!, 'utf8')).toMatch(/tracked file track_apiserver now FAULT state/);
  expect(backMs).toBeDefined();
  expect(readyWhenBack).toBe('ok');
  expect((await kubectlOk(['get', '--raw', '/readyz'])).trim()).toBe('ok');
});

test('pki.mode generate (no kubeadm at all), hardened: Secrets encrypted in etcd, the request audited, anonymous access only to the health paths', async () => {
  cp = await startControlPlane({ bootstrap: 'generate', spec: { security: { profile: 'hardened' } } });
  await cp.waitAllReady(READY_WITHIN_MS);
  await cp.finishBootstrap();
  await assertWorkingControlPlane();

  // A Secret written through the VIP is stored encrypted: read it raw from etcd.
  const value = 'e2e-plaintext-4711';
  await kubectlOk(['create', 'secret', 'generic', 'e2e-secret', `--from-literal=k=${value}`]);
  expect(JSON.parse(await kubectlOk(['get', 'secret', 'e2e-secret', '-o', 'json'])).data.k).toBe(Buffer.from(value).toString('base64'));
  const pki = '/etc/kubernetes/pki/etcd';
  const raw = await cp.runners.get('master-2')!.exec('etcd', 'etcd', ['etcdctl', '--endpoints=https://127.0.0.1:2379', `--cacert=${pki}/ca.crt`,
    `--cert=${pki}/healthcheck-client.crt`, `--key=${pki}/healthcheck-client.key`, 'get', '/registry/secrets/default/e2e-secret', '--print-value-only'], 20_000);
  expect(raw.code).toBe(0);
  expect(raw.stdout.startsWith('k8s:enc:secretbox:v1:key1:')).toBe(true);
  expect(raw.stdout).not.toContain(value);
  // Control: a ConfigMap (not encrypted by the profile) is stored in the clear.
  const cm = await cp.runners.get('master-2')!.exec('etcd', 'etcd', ['etcdctl', '--endpoints=https://127.0.0.1:2379', `--cacert=${pki}/ca.crt`,
    `--cert=${pki}/healthcheck-client.crt`, `--key=${pki}/healthcheck-client.key`, 'get', '/registry/configmaps/default/e2e-probe', '--print-value-only'], 20_000);
  expect(cm.stdout).toContain('v1');

  // The request is in some API server's audit log, at Metadata level (no secret data).
  const logs = cp.masters.map((m) => {
    try { return readFileSync(join(cp!.rootOf(m), 'var/log/kubernetes/audit/audit.log'), 'utf8'); } catch { return ''; }
  }).join('\n');
  const create = logs.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.verb === 'create' && e.objectRef?.resource === 'secrets' && e.objectRef?.name === 'e2e-secret');
  expect(create).toMatchObject({ level: 'Metadata', user: { username: 'kubernetes-admin' } });
  expect(logs).not.toContain(value);

  // Anonymous through the VIP: the health paths answer, the API does not.
  const curl = (path: string) => cp!.lab.exec('master-3', 'curl', ['-k', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `https://${cp!.endpoint}${path}`]);
  expect((await curl('/readyz')).stdout).toBe('200');
  expect((await curl('/livez')).stdout).toBe('200');
  expect((await curl('/api')).stdout).toBe('401');
  expect((await curl('/api/v1/secrets')).stdout).toBe('401');
});

test('external etcd, its certificate files outside /etc/kubernetes/pki', async () => {
  cp = await startControlPlane({ bootstrap: 'kubeadm', externalEtcd: true });
  await cp.waitAllReady(READY_WITHIN_MS);
  for (const m of cp.masters) expect(cp.runners.get(m)!.pod('etcd')).toBeUndefined();
  // The API server reaches them through kubeadm's etcd-certs volume (the runner shows it nothing else).
  const manifest = parse(readFileSync(join(cp.rootOf('master-1'), 'etc/kubernetes/manifests/kube-apiserver.yaml'), 'utf8'));
  expect(manifest.spec.volumes).toContainEqual({ name: 'etcd-certs-0', hostPath: { path: '/etc/etcd/pki', type: 'DirectoryOrCreate' } });
  await cp.finishBootstrap();
  await assertWorkingControlPlane();
});

test('IPv6, five masters', async () => {
  cp = await startControlPlane({ bootstrap: 'kubeadm', ipv6: true, masters: 5 });
  await cp.waitAllReady(READY_WITHIN_MS + 60_000);
  expect(cp.vip).toContain(':');
  await cp.finishBootstrap();
  await assertWorkingControlPlane();
});

test('dedicated LB hosts, and a worker reaching the API servers through its local proxy', async () => {
  cp = await startControlPlane({ bootstrap: 'generate', lbHosts: true });
  await cp.waitAllReady(READY_WITHIN_MS);
  expect(cp.runners.get('lb-1')!.pod('keepalived')).toBeDefined();
  expect(cp.runners.get('master-1')!.pod('keepalived')).toBeUndefined();
  expect(cp.runners.get('worker-1')!.pod('kube-apiserver-proxy')).toBeDefined();
  await cp.finishBootstrap();
  await assertWorkingControlPlane();
  // The VIP is on an LB host, never on a master.
  const holders = [];
  for (const n of ['lb-1', 'lb-2', ...cp.masters]) {
    if ((await cp.lab.exec(n, 'ip', ['-4', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${cp.vip}/`)) holders.push(n);
  }
  expect(holders).toEqual(['lb-1']);
  // The worker's kubeconfig-style access: https://localhost:6443 through its proxy, with the API server certificate's localhost SAN.
  const r = await cp.kubectl(['--server', 'https://localhost:6443', 'get', '--raw', '/readyz'], { node: 'worker-1' });
  expect({ code: r.code, out: r.stdout.trim(), err: r.stderr }).toEqual({ code: 0, out: 'ok', err: '' });
});
