/**
 * The hardened profile's anonymous policy against the real load-balancing tier: the failover harness
 * (test/harness/failover.ts: real keepalived 2.2.7 + haproxy 2.6 or nginx 1.22, or keepalived alone with vip-only, in network namespaces) with API server
 * stand-ins that answer anonymous requests as the generated AuthenticationConfiguration says (exact path
 * in `anonymous.conditions` → 200, anything else → 401, as kube-apiserver does for a client without
 * credentials — which haproxy's checks, keepalived's curl script and kubelet probes all are).
 *
 * What this shows: the generated haproxy checks and keepalived check script only request endpoints the
 * policy allows (the cluster comes up: backends UP, VIP held, client served through the VIP), while the
 * policy really refuses the rest (401 through the VIP). Control: with anonymous access off everywhere
 * (what `--anonymous-auth=false` alone does) the same haproxy takes every API server out and the cluster
 * never answers. What it does not show: kube-apiserver's own implementation of the conditions (no
 * apiserver binary here) — the stand-in implements the documented semantics.
 *
 * Needs root, iproute2, util-linux, curl, openssl, keepalived, haproxy and nginx (scripts/test-deps.sh).
 */
import { startCluster } from './harness/failover';
import { labPerTest } from './harness/lab-per-test';

const HARDENED = { security: { profile: 'hardened' as const } };

describe('hardened anonymous policy with real haproxy and keepalived', () => {
  const lab = labPerTest();

  test.each(['haproxy', 'nginx', 'vip-only'] as const)('%s: the generated checks pass a stand-in enforcing the generated policy; other paths get 401 through the VIP', async (lb) => {
    const c = await lab.start({ lb, specOverrides: HARDENED, anonymous: 'bundle' });
    const status = async (path: string) => (await c.lab.exec(c.client, '/usr/bin/curl', ['-sk', '--max-time', '2', '-o', '/dev/null', '-w', '%{http_code}', `https://${c.vip}:${c.port}${path}`], { timeoutMs: 5000 })).stdout;
    expect({
      readyz: await status('/readyz'),
      livez: await status('/livez'),
      healthz: await status('/healthz'),
      clusterInfo: await status('/api/v1/namespaces/kube-public/configmaps/cluster-info'),
      secrets: await status('/api/v1/secrets'),
      metrics: await status('/metrics'),
      readyzVerbose: await status('/readyz/etcd'),
    }).toEqual({ readyz: '200', livez: '200', healthz: '200', clusterInfo: '200', secrets: '401', metrics: '401', readyzVerbose: '401' });
  }, 90_000);

  test('control: with no anonymous path (--anonymous-auth=false alone) haproxy takes every API server out', async () => {
    await expect(startCluster({ lb: 'haproxy', specOverrides: HARDENED, anonymous: [] })).rejects.toThrow(/haproxy on m1 to answer on 127\.0\.0\.1:8443/);
  }, 90_000);

  test('control: vip-only with no anonymous path: keepalived\'s check of the local API server never succeeds, so the lab never comes up', async () => {
    await expect(startCluster({ lb: 'vip-only', specOverrides: HARDENED, anonymous: [] })).rejects.toThrow(/timed out after 20000 ms waiting for the VIP on m1 only, every check script succeeded/);
  }, 90_000);
});
