/**
 * Extra API server certificate SANs (apiServer.certSANs) and a DNS name as the endpoint beside the VIP
 * keepalived holds (loadBalancer.vip): validation, the kubeadm config, kubeconfigs and the certificate
 * pki.mode generate issues.
 */
import { parseAllDocuments } from 'yaml';
import { planCluster, SpecError } from '../lib';
import { pkiProfile } from '../lib/pki/profile';
import { validateSpec } from '../lib/plan/validate';
import { certFacts, createCa, issueLeaf } from '../lib/pki/issue';
import { ClusterSpec } from '../lib/spec/types';
import { haSpec, render, spec } from './util';

const VIP = '192.168.10.100';
const dnsEndpoint = (overrides: Partial<ClusterSpec> = {}) => haSpec({
  controlPlaneEndpoint: { host: 'api.example.com', port: 8443 },
  loadBalancer: { type: 'haproxy', vip: VIP },
  ...overrides,
});

function errorsOf(s: unknown) {
  return validateSpec(s).errors;
}

/** The ClusterConfiguration of a master's kubeadm-config.yaml. */
function clusterConfig(s: ClusterSpec, node = 'master-1'): any {
  const text = render(s).get(node)!.get('etc/kubernetes/kubeadm-config.yaml')!.content;
  return parseAllDocuments(text).map((d) => d.toJSON()).find((d) => d.kind === 'ClusterConfiguration');
}

const leaf = (s: ClusterSpec, node: string, id: string) => pkiProfile(planCluster(s)).nodes.find((n) => n.node === node)!.leaves.find((l) => l.id === id)!;

describe('a DNS name as the endpoint with a load balancer', () => {
  test('without loadBalancer.vip it is refused with a fix that names loadBalancer.vip (a field that exists)', () => {
    const e = errorsOf(haSpec({ controlPlaneEndpoint: { host: 'api.example.com', port: 8443 } }));
    expect(e).toHaveLength(1);
    expect(e[0]).toMatchObject({ path: 'controlPlaneEndpoint.host', value: 'api.example.com' });
    expect(e[0].problem).toMatch(/DNS name/);
    expect(e[0].fix).toMatch(/loadBalancer\.vip/);
    expect(e[0].fix).not.toMatch(/cert SANs/);
  });

  test('with loadBalancer.vip it is valid, without warnings', () => {
    expect(validateSpec(dnsEndpoint())).toEqual({ errors: [], warnings: [] });
  });

  test('keepalived holds the VIP; kubeadm\'s controlPlaneEndpoint names the DNS name; both are certSANs', () => {
    const s = dnsEndpoint();
    const plan = planCluster(s);
    expect(plan.loadBalancer!.vip).toBe(VIP);
    expect(plan.endpoint).toEqual({ host: 'api.example.com', port: 8443 });
    const ka = render(s).get('master-1')!.get('etc/keepalived/keepalived.conf')!.content;
    expect(ka).toContain(`${VIP}/24 dev eth0`);
    expect(ka).not.toContain('api.example.com');
    const cc = clusterConfig(s);
    expect(cc.controlPlaneEndpoint).toBe('api.example.com:8443');
    expect(cc.apiServer.certSANs).toEqual(['api.example.com', VIP, 'master-1', '192.168.10.11', 'master-2', '192.168.10.12', 'master-3', '192.168.10.13']);
  });

  test('generated kubeconfigs name the DNS name; the apiserver certificate has both the name and the VIP', () => {
    const s = dnsEndpoint({ pki: { mode: 'generate' } });
    const admin = leaf(s, 'master-1', 'admin.conf');
    expect(admin.output).toMatchObject({ kind: 'kubeconfig', server: 'https://api.example.com:8443' });
    const api = leaf(s, 'master-2', 'apiserver');
    expect(api.dnsNames).toContain('api.example.com');
    expect(api.ipAddresses).toContain(VIP);
  });

  test('vip-only: clients reach the API server itself on the VIP, so its certificate and the kubeadm config carry the VIP', () => {
    const s = dnsEndpoint({ controlPlaneEndpoint: { host: 'api.example.com', port: 6443 }, loadBalancer: { type: 'vip-only', vip: VIP }, pki: { mode: 'generate' } });
    expect(validateSpec(s)).toEqual({ errors: [], warnings: [] });
    const cc = clusterConfig({ ...s, pki: undefined });
    expect(cc.controlPlaneEndpoint).toBe('api.example.com:6443');
    expect(cc.apiServer.certSANs).toEqual(expect.arrayContaining(['api.example.com', VIP]));
    for (const m of ['master-1', 'master-2', 'master-3']) {
      const api = leaf(s, m, 'apiserver');
      expect(api.dnsNames).toContain('api.example.com');
      expect(api.ipAddresses).toContain(VIP);
    }
    expect(leaf(s, 'master-1', 'admin.conf').output).toMatchObject({ kind: 'kubeconfig', server: 'https://api.example.com:6443' });
  });

  test('the VIP is still the endpoint when loadBalancer.vip is not given (IP host)', () => {
    const plan = planCluster(haSpec());
    expect(plan.loadBalancer!.vip).toBe(VIP);
    expect(clusterConfig(haSpec()).controlPlaneEndpoint).toBe(`${VIP}:8443`);
  });

  test('loadBalancer.vip must be an IP address no master owns', () => {
    expect(errorsOf(dnsEndpoint({ loadBalancer: { vip: 'vip.example.com' } }))).toEqual([
      expect.objectContaining({ path: 'loadBalancer.vip', value: 'vip.example.com', problem: 'is not an IP address' }),
    ]);
    expect(errorsOf(dnsEndpoint({ loadBalancer: { vip: '192.168.10.12' } }))).toEqual([
      expect.objectContaining({ path: 'loadBalancer.vip', value: '192.168.10.12', problem: expect.stringMatching(/is masters\[1\]\.address/) }),
    ]);
  });

  test('loadBalancer.vip is checked against the LB nodes\' subnet like an IP endpoint', () => {
    const e = errorsOf(dnsEndpoint({ loadBalancer: { vip: '10.9.9.9' } }));
    expect(e).toEqual([expect.objectContaining({ path: 'loadBalancer.vip', value: '10.9.9.9', problem: expect.stringMatching(/is in the subnet 10\.9\.9\.0\/24 .*none of the masters/) })]);
  });

  test('an IP endpoint other than loadBalancer.vip is warned about', () => {
    const w = validateSpec(haSpec({ loadBalancer: { vip: '192.168.10.101' } })).warnings;
    expect(w).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.host', value: VIP, fix: expect.stringMatching(/set controlPlaneEndpoint\.host to the VIP/) })]);
  });
});

describe('apiServer.certSANs', () => {
  test('follow our SANs in the kubeadm config, without repeating any', () => {
    const s = haSpec({ apiServer: { certSANs: ['api.example.com', VIP, 'master-2', '203.0.113.10', 'fd00::10'] } });
    expect(clusterConfig(s).apiServer.certSANs).toEqual([VIP, 'master-1', '192.168.10.11', 'master-2', '192.168.10.12', 'master-3', '192.168.10.13', 'api.example.com', '203.0.113.10', 'fd00::10']);
  });

  test('two spellings of one IPv6 address are one SAN', () => {
    const s = spec({ controlPlaneEndpoint: { host: 'fd00::100' }, masters: [{ name: 'm1', address: 'fd00::11' }], apiServer: { certSANs: ['fd00:0:0::100'] } });
    expect(clusterConfig(s, 'm1').apiServer.certSANs).toEqual(['fd00::100', 'm1', 'fd00::11']);
  });

  test('go into the apiserver certificate pki.mode generate issues', async () => {
    const s = haSpec({ pki: { mode: 'generate' }, apiServer: { certSANs: ['api.example.com', '*.apps.example.com', '203.0.113.10'] } });
    const l = leaf(s, 'master-1', 'apiserver');
    expect(l.dnsNames).toEqual(expect.arrayContaining(['api.example.com', '*.apps.example.com']));
    expect(l.ipAddresses).toContain('203.0.113.10');
    const validity = { now: new Date(), days: 1, backdateMinutes: 0 };
    const ca = await createCa({ id: 'ca', commonName: 'kubernetes' }, 'ECDSA-P256', validity);
    const { cert } = await issueLeaf(l, ca, 'ECDSA-P256', validity);
    const facts = await certFacts(cert.toString('pem'), ca);
    expect(facts.dnsNames).toEqual(expect.arrayContaining(['api.example.com', '*.apps.example.com', 'master-1']));
    expect(facts.ipAddresses).toEqual(expect.arrayContaining(['203.0.113.10', VIP]));
  });

  test.each([
    ['not a list', 'api.example.com', 'apiServer.certSANs', /is not a list/],
    ['an upper-case name', ['API.example.com'], 'apiServer.certSANs[0]', /is not a DNS name or an IP address/],
    ['a URL', ['https://api.example.com'], 'apiServer.certSANs[0]', /is not a DNS name or an IP address/],
    ['a CIDR', ['10.0.0.0/24'], 'apiServer.certSANs[0]', /is not a DNS name or an IP address/],
    ['a number (the schema: a string)', [42], 'apiServer.certSANs[0]', /^is not a string$/],
    ['a duplicate name', ['a.example.com', 'b.example.com', 'a.example.com'], 'apiServer.certSANs[2]', /is the same as apiServer\.certSANs\[0\]/],
    ['a duplicate IPv6 address in another spelling', ['fd00::1', 'fd00:0::1'], 'apiServer.certSANs[1]', /is the same as apiServer\.certSANs\[0\]/],
  ])('%s is refused', (_n, sans, path, problem) => {
    const e = errorsOf(spec({ apiServer: { certSANs: sans as any } }));
    expect(e).toEqual([expect.objectContaining({ path, value: path.endsWith(']') ? (sans as unknown[])[Number(/\[(\d+)\]$/.exec(path)![1])] : sans, problem: expect.stringMatching(problem) })]);
    expect(e[0].fix).toMatch(/./);
  });

  test('the error reaches planCluster as a SpecError naming the field', () => {
    expect(() => planCluster(spec({ apiServer: { certSANs: ['bad name'] } }))).toThrow(SpecError);
    expect(() => planCluster(spec({ apiServer: { certSANs: ['bad name'] } }))).toThrow(/apiServer\.certSANs\[0\]: "bad name" is not a DNS name or an IP address/);
  });

});
