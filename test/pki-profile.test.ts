/**
 * The PKI profile (lib/pki/profile.ts): what each node's certificates say and where they go, as a pure
 * function of the plan — checked against kubeadm's rules written out here, not against the code.
 */
import { planCluster } from '../lib';
import { pkiProfile } from '../lib/pki/profile';
import { validateSpec } from '../lib/plan/validate';
import { ClusterSpec } from '../lib/spec/types';
import { haSpec, spec } from './util';

const gen = (overrides: Partial<ClusterSpec> = {}) => haSpec({ pki: { mode: 'generate' }, ...overrides });
const leaf = (s: ClusterSpec, node: string, id: string) => {
  const n = pkiProfile(planCluster(s)).nodes.find((x) => x.node === node);
  const l = n?.leaves.find((x) => x.id === id);
  if (!l) throw new Error(`no ${id} on ${node}`);
  return l;
};
const ids = (s: ClusterSpec, node: string) => pkiProfile(planCluster(s)).nodes.find((x) => x.node === node)!.leaves.map((l) => l.id);

describe('pki profile', () => {
  test('the apiserver certificate of master-2 has kubeadm\'s SANs plus the VIP and every master', () => {
    const l = leaf(gen(), 'master-2', 'apiserver');
    expect(l).toMatchObject({ ca: 'ca', commonName: 'kube-apiserver', organizations: [], usages: ['serverAuth'] });
    expect(l.dnsNames).toEqual(['master-2', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'master-1', 'master-3']);
    expect(l.ipAddresses).toEqual(['10.96.0.1', '192.168.10.12', '192.168.10.100', '192.168.10.11', '192.168.10.13']);
    expect(l.ipAddresses).not.toContain('127.0.0.1');
    expect(l.restarts).toEqual(['kube-apiserver']);
  });

  test('a DNS endpoint, a custom domain and a service subnet land in the apiserver SANs', () => {
    const l = leaf(spec({ pki: { mode: 'generate' }, controlPlaneEndpoint: { host: 'api.example.com', port: 6443 }, networking: { serviceSubnet: '10.100.0.0/16', dnsDomain: 'corp.local' } }), 'master-1', 'apiserver');
    expect(l.dnsNames).toContain('api.example.com');
    expect(l.dnsNames).toContain('kubernetes.default.svc.corp.local');
    expect(l.ipAddresses[0]).toBe('10.100.0.1');
  });

  test('localhost, 127.0.0.1 and ::1 are in the apiserver SANs only when workers reach it through a local proxy', () => {
    const withProxy = gen({ workers: [{ name: 'w1', address: '192.168.10.21' }], workerProxy: { type: 'nginx' } });
    const l = leaf(withProxy, 'master-1', 'apiserver');
    expect(l.dnsNames).toContain('localhost');
    expect(l.ipAddresses).toEqual(expect.arrayContaining(['127.0.0.1', '::1']));
    expect(leaf(gen(), 'master-1', 'apiserver').dnsNames).not.toContain('localhost');
  });

  test('IPv6: the service IP is the first address of the IPv6 subnet; etcd certificates carry the node\'s IPv6 address', () => {
    const s = spec({
      pki: { mode: 'generate' },
      controlPlaneEndpoint: { host: 'fd00::100', port: 6443 },
      masters: [{ name: 'm1', address: 'fd00::11' }, { name: 'm2', address: 'fd00::12' }, { name: 'm3', address: 'fd00::13' }],
      networking: { serviceSubnet: 'fd00:96::/112', podSubnet: 'fd00:244::/56' },
    });
    expect(leaf(s, 'm1', 'apiserver').ipAddresses).toEqual(['fd00:96:0:0:0:0:0:1', 'fd00::11', 'fd00::100', 'fd00::12', 'fd00::13']);
    expect(leaf(s, 'm2', 'etcd/peer').ipAddresses).toEqual(['fd00::12', '127.0.0.1', '::1']);
  });

  test('etcd server and peer: CN and DNS = node name, localhost, the advertise address and both loopbacks, server+client auth', () => {
    for (const id of ['etcd/server', 'etcd/peer']) {
      expect(leaf(gen(), 'master-3', id)).toMatchObject({
        ca: 'etcd/ca', commonName: 'master-3', organizations: [], dnsNames: ['master-3', 'localhost'],
        ipAddresses: ['192.168.10.13', '127.0.0.1', '::1'], usages: ['serverAuth', 'clientAuth'], restarts: ['etcd'],
      });
    }
  });

  test('client certificates: kubeadm\'s CNs, groups and issuing CAs', () => {
    const s = gen();
    const want: Record<string, [string, string, string[]]> = {
      'apiserver-kubelet-client': ['ca', 'kube-apiserver-kubelet-client', []],
      'front-proxy-client': ['front-proxy-ca', 'front-proxy-client', []],
      'apiserver-etcd-client': ['etcd/ca', 'kube-apiserver-etcd-client', []],
      'etcd/healthcheck-client': ['etcd/ca', 'kube-etcd-healthcheck-client', []],
      'admin.conf': ['ca', 'kubernetes-admin', ['kubeadm:cluster-admins']],
      'super-admin.conf': ['ca', 'kubernetes-super-admin', ['system:masters']],
      'controller-manager.conf': ['ca', 'system:kube-controller-manager', []],
      'scheduler.conf': ['ca', 'system:kube-scheduler', []],
      'kubelet.conf': ['ca', 'system:node:master-1', ['system:nodes']],
    };
    for (const [id, [ca, cn, o]] of Object.entries(want)) {
      expect(leaf(s, 'master-1', id)).toMatchObject({ id, ca, commonName: cn, organizations: o, usages: ['clientAuth'], dnsNames: [], ipAddresses: [] });
    }
  });

  test('before the 1.36.1 backport, apiserver-kubelet-client is in kubeadm:cluster-admins (no separate binding)', () => {
    expect(leaf(gen({ kubernetesVersion: '1.36.0' }), 'master-1', 'apiserver-kubelet-client').organizations).toEqual(['kubeadm:cluster-admins']);
    expect(leaf(gen({ kubernetesVersion: '1.36.1' }), 'master-1', 'apiserver-kubelet-client').organizations).toEqual([]);
    expect(leaf(gen({ kubernetesVersion: '1.33.11' }), 'master-1', 'apiserver-kubelet-client').organizations).toEqual(['kubeadm:cluster-admins']);
    expect(leaf(gen({ kubernetesVersion: '1.33.12' }), 'master-1', 'apiserver-kubelet-client').organizations).toEqual([]);
  });

  test('kubeconfigs point where kubeadm points them: admin/super-admin at the endpoint, the rest at the node\'s own API server', () => {
    const s = gen();
    const server = (node: string, id: string) => { const o = leaf(s, node, id).output; return o.kind === 'kubeconfig' ? `${o.path} ${o.server}` : 'files'; };
    expect(server('master-2', 'admin.conf')).toBe('/etc/kubernetes/admin.conf https://192.168.10.100:8443');
    expect(server('master-1', 'super-admin.conf')).toBe('/etc/kubernetes/super-admin.conf https://192.168.10.100:8443');
    expect(server('master-2', 'controller-manager.conf')).toBe('/etc/kubernetes/controller-manager.conf https://192.168.10.12:6443');
    expect(server('master-2', 'scheduler.conf')).toBe('/etc/kubernetes/scheduler.conf https://192.168.10.12:6443');
    expect(server('master-2', 'kubelet.conf')).toBe('/etc/kubernetes/kubelet.conf https://192.168.10.12:6443');
  });

  test('super-admin.conf exists on the first master only', () => {
    expect(ids(gen(), 'master-1')).toContain('super-admin.conf');
    expect(ids(gen(), 'master-2')).not.toContain('super-admin.conf');
    expect(ids(gen(), 'master-3')).not.toContain('super-admin.conf');
  });

  test('external etcd: no etcd CA and no etcd certificates', () => {
    const s = spec({ pki: { mode: 'generate' }, etcd: { external: { endpoints: ['https://10.0.0.5:2379'], caFile: '/e/ca.crt', certFile: '/e/c.crt', keyFile: '/e/c.key' } } });
    const p = pkiProfile(planCluster(s));
    expect(p.cas.map((c) => c.id)).toEqual(['ca', 'front-proxy-ca']);
    expect(ids(s, 'master-1').filter((i) => i.includes('etcd'))).toEqual([]);
  });

  test('shared files: masters get ca.key (the controller manager signs with it) but not the front-proxy or etcd CA keys; workers only ca.crt', () => {
    const s = gen({ workers: [{ name: 'w1', address: '192.168.10.21' }], workerProxy: {} });
    const p = pkiProfile(planCluster(s));
    const master = p.nodes.find((n) => n.node === 'master-1')!;
    expect(master.shared.map((f) => `${f.path} ${f.mode.toString(8)}`)).toEqual([
      '/etc/kubernetes/pki/ca.crt 644', '/etc/kubernetes/pki/ca.key 600', '/etc/kubernetes/pki/front-proxy-ca.crt 644',
      '/etc/kubernetes/pki/etcd/ca.crt 644', '/etc/kubernetes/pki/sa.key 600', '/etc/kubernetes/pki/sa.pub 600',
    ]);
    const worker = p.nodes.find((n) => n.node === 'w1')!;
    expect(worker.shared.map((f) => f.source)).toEqual(['ca.crt']);
    expect(worker.leaves.map((l) => [l.id, l.commonName, l.output.kind === 'kubeconfig' ? l.output.server : ''])).toEqual([['kubelet.conf', 'system:node:w1', 'https://localhost:6443']]);
  });

  test('certificatesDir moves every PKI path', () => {
    const s = gen({ certificatesDir: '/srv/pki' });
    const o = leaf(s, 'master-1', 'etcd/server').output;
    expect(o).toEqual({ kind: 'files', base: '/srv/pki/etcd/server' });
  });
});

describe('pki settings validation', () => {
  const errs = (pki: unknown) => validateSpec({ ...spec(), pki }).errors.map((e) => `${e.path} ${JSON.stringify(e.value)}`);
  test.each([
    [{ mode: 'openssl' }, 'pki.mode "openssl"'],
    [{ keyAlgorithm: 'RSA-1024' }, 'pki.keyAlgorithm "RSA-1024"'],
    [{ keyAlgorithm: 'Ed25519' }, 'pki.keyAlgorithm "Ed25519"'],
    [{ certificateValidityDays: 0 }, 'pki.certificateValidityDays 0'],
    [{ certificateValidityDays: -5 }, 'pki.certificateValidityDays -5'],
    [{ certificateValidityDays: 1.5 }, 'pki.certificateValidityDays 1.5'],
    [{ caCertificateValidityDays: 0 }, 'pki.caCertificateValidityDays 0'],
    [{ renewBeforeDays: -1 }, 'pki.renewBeforeDays -1'],
    [{ backdateMinutes: 'five' }, 'pki.backdateMinutes "five"'],
    [{ dir: '' }, 'pki.dir ""'],
    [{ certificateValidityDays: 4000 }, 'pki.certificateValidityDays 4000'],
    [{ renewBeforeDays: 365 }, 'pki.renewBeforeDays 365'],
    [{ color: 'blue' }, 'pki.color "blue"'],
    ['generate', 'pki "generate"'],
  ])('fails for %j', (pki, want) => {
    expect(errs(pki)).toEqual([want]);
  });

  test('the defaults and every key algorithm are valid', () => {
    for (const keyAlgorithm of ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384']) expect(errs({ mode: 'generate', keyAlgorithm })).toEqual([]);
    expect(errs({})).toEqual([]);
    expect(planCluster(spec()).pki).toMatchObject({ mode: 'kubeadm', dir: 'ha-control-plane-state/example/pki', keyAlgorithm: 'RSA-2048', certificateValidityDays: 365, caCertificateValidityDays: 3650, renewBeforeDays: 30, backdateMinutes: 5 });
  });
});
