/**
 * Mistakes a new user makes that used to pass silently (issue #16): each is refused, or warned about,
 * with the field, the value and the fix.
 */
import { stringify } from 'yaml';
import { loadSpec, SpecError, SpecIssue } from '../lib';
import { validateSpec } from '../lib/plan/validate';
import { kubernetesProfile } from '../lib/plan/versions';
import { ClusterSpec } from '../lib/spec/types';
import { haSpec, render, spec } from './util';

const errors = (s: unknown) => validateSpec(s).errors;
const warnings = (s: unknown) => validateSpec(s).warnings;
const paths = (issues: readonly SpecIssue[]) => issues.map((i) => i.path);
const lbHosts = [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }];
const workers = [{ name: 'worker-1', address: '192.168.10.31' }];

/** The issues loadSpec reports for a spec written as YAML. */
function loadIssues(s: unknown): readonly SpecIssue[] {
  try {
    loadSpec(stringify(s), 'cluster.yaml');
  } catch (e) {
    if (e instanceof SpecError) return e.issues;
    throw e;
  }
  return [];
}

describe('keepalived.interface left to its default', () => {
  test('warns, naming the default and the field', () => {
    const w = warnings(haSpec({ keepalived: {} }));
    expect(w).toEqual([expect.objectContaining({ path: 'keepalived.interface', value: undefined, problem: 'is not set, so keepalived puts the VIP on "eth0" on every master' })]);
    expect(w[0].fix).toMatch(/set keepalived\.interface to the NIC .* or to "eth0" to confirm it/);
  });

  test('warns without any keepalived section, on LB hosts too', () => {
    const w = warnings(haSpec({ keepalived: undefined, loadBalancers: lbHosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 } }));
    expect(w).toEqual([expect.objectContaining({ path: 'keepalived.interface', problem: expect.stringMatching(/on every load-balancer host$/) })]);
  });

  test('does not warn once it is set (even to the default) or without a load balancer', () => {
    expect(warnings(haSpec({ keepalived: { interface: 'eth0' } }))).toEqual([]);
    expect(warnings(haSpec({ keepalived: { interface: 'ens192' } }))).toEqual([]);
    expect(warnings(spec())).toEqual([]);
  });
});

describe('a load balancer, proxy or API server port that the node already uses', () => {
  test.each([
    [22, 'sshd'], [2379, 'etcd\'s clients'], [2380, 'etcd\'s peers'], [2381, 'etcd\'s metrics'],
    [10248, 'the kubelet\'s health check'], [10249, 'kube-proxy\'s metrics'], [10250, 'the kubelet'],
    [10256, 'kube-proxy\'s health check'], [10257, 'kube-controller-manager'], [10259, 'kube-scheduler'],
  ])('LB on the masters on port %d (%s) is refused', (port, user) => {
    const e = errors(haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port } }));
    expect(e).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.port', value: port, problem: `is the port of ${user} on the masters, where the haproxy load balancer listens on every address` })]);
    expect(e[0].fix).toBe('use a free port for the load balancer, e.g. 8443');
  });

  test('the API server\'s own port keeps its own message', () => {
    const e = errors(haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 7443 }, apiServer: { bindPort: 7443 } }));
    expect(e).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.port', value: 7443, problem: expect.stringMatching(/is also the API server's port \(apiServer\.bindPort\)/) })]);
  });

  test('etcd\'s ports are free on the masters with external etcd', () => {
    const external = { external: { endpoints: ['https://10.0.0.21:2379'], caFile: '/a', certFile: '/b', keyFile: '/c' } };
    expect(errors(haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 2379 }, etcd: external }))).toEqual([]);
    expect(paths(errors(haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 10257 }, etcd: external })))).toEqual(['controlPlaneEndpoint.port']);
  });

  test('on dedicated LB hosts only the kubelet\'s and sshd\'s ports are taken', () => {
    const onHosts = (port: number) => errors(haSpec({ loadBalancers: lbHosts, controlPlaneEndpoint: { host: '192.168.10.100', port } }));
    expect(onHosts(10250)).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.port', problem: 'is the port of the kubelet on the load-balancer hosts, where the haproxy load balancer listens on every address' })]);
    expect(paths(onHosts(22))).toEqual(['controlPlaneEndpoint.port']);
    expect(onHosts(2379)).toEqual([]);
    expect(onHosts(6443)).toEqual([]);
  });

  test.each([[10250, 'the kubelet'], [22, 'sshd'], [10249, 'kube-proxy\'s metrics']])('the worker proxy on port %d (%s) is refused', (port, user) => {
    const e = errors(spec({ workers, workerProxy: { port } }));
    expect(e).toEqual([expect.objectContaining({ path: 'workerProxy.port', value: port, problem: `is the port of ${user} on the workers, where the proxy listens on loopback`, fix: 'use a free port, e.g. 6443' })]);
  });

  test.each([[10250, 'the kubelet'], [2379, 'etcd\'s clients'], [10259, 'kube-scheduler']])('apiServer.bindPort %d (%s) is refused', (port, user) => {
    const e = errors(spec({ apiServer: { bindPort: port } }));
    expect(e).toEqual([expect.objectContaining({ path: 'apiServer.bindPort', value: port, problem: `is the port of ${user} on the masters, so the API server cannot listen on it` })]);
  });

  test('free ports pass', () => {
    expect(errors(haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 8443 }, apiServer: { bindPort: 6443 }, workers, workerProxy: { port: 6443 } }))).toEqual([]);
  });
});

describe('pod and service networks that hold a node address, the VIP or the endpoint', () => {
  test('a pod subnet holding the masters: one line naming each', () => {
    const e = errors(spec({ networking: { podSubnet: '192.168.0.0/16' } }));
    expect(e).toEqual([expect.objectContaining({
      path: 'networking.podSubnet', value: '192.168.0.0/16',
      problem: 'contains masters[0].address (192.168.10.11), masters[1].address (192.168.10.12), masters[2].address (192.168.10.13), controlPlaneEndpoint.host (192.168.10.100)',
      fix: 'use a pod network that no node, VIP or endpoint address is in, e.g. "10.244.0.0/16"',
    })]);
  });

  test('the default service subnet holding a master says it is the default', () => {
    const e = errors(spec({ networking: undefined, masters: [{ name: 'm1', address: '10.96.0.5' }, { name: 'm2', address: '10.1.0.6' }, { name: 'm3', address: '10.1.0.7' }], controlPlaneEndpoint: { host: 'api.example.com' } }));
    expect(e).toEqual([expect.objectContaining({ path: 'networking.serviceSubnet', value: '10.96.0.0/12', problem: 'is the default and contains masters[0].address (10.96.0.5)' })]);
    expect(e[0].fix).toBe('set networking.serviceSubnet to a service network that no node, VIP or endpoint address is in, e.g. "172.20.0.0/16"');
  });

  test('workers, LB hosts, loadBalancer.vip and the endpoint host are checked too', () => {
    const s = haSpec({
      controlPlaneEndpoint: { host: 'api.example.com', port: 8443 },
      masters: [{ name: 'm1', address: '10.1.0.11' }, { name: 'm2', address: '10.1.0.12' }, { name: 'm3', address: '10.1.0.13' }],
      loadBalancer: { vip: '10.1.0.100' }, keepalived: { interface: 'eth0' },
      workers: [{ name: 'w1', address: '172.16.5.1' }], workerProxy: {},
      networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '172.16.0.0/16' },
    });
    expect(errors(s)).toEqual([expect.objectContaining({ path: 'networking.podSubnet', problem: 'contains workers[0].address (172.16.5.1)' })]);
    const vipInside = { ...s, workers: undefined, workerProxy: undefined, networking: { podSubnet: '10.1.0.0/24' } };
    expect(errors(vipInside)).toEqual([expect.objectContaining({ path: 'networking.podSubnet', problem: expect.stringMatching(/masters\[2\]\.address \(10\.1\.0\.13\), loadBalancer\.vip \(10\.1\.0\.100\)$/) })]);
    const lbInside = haSpec({ loadBalancers: lbHosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, networking: { podSubnet: '192.168.10.16/28' } });
    expect(errors(lbInside)).toEqual([expect.objectContaining({ path: 'networking.podSubnet', problem: 'contains loadBalancers[0].address (192.168.10.21), loadBalancers[1].address (192.168.10.22)' })]);
    const endpointInside = spec({ controlPlaneEndpoint: { host: '10.250.0.1' }, networking: { podSubnet: '10.250.0.0/16' } });
    expect(errors(endpointInside)).toEqual([expect.objectContaining({ path: 'networking.podSubnet', problem: 'contains controlPlaneEndpoint.host (10.250.0.1)' })]);
  });

  test('an IPv6 service subnet holding an IPv6 master', () => {
    const e = errors(spec({ masters: [{ name: 'm1', address: 'fd00:10:96::5' }], controlPlaneEndpoint: { host: 'api.example.com' }, networking: { serviceSubnet: 'fd00:10:96::/112' } }));
    expect(paths(e)).toEqual(['networking.serviceSubnet']);
  });

  test('the pod and service networks overlapping each other is still refused', () => {
    expect(paths(errors(spec({ networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '10.100.0.0/16' } })))).toEqual(['networking.podSubnet']);
  });
});

describe('a VIP that is no usable address', () => {
  test.each([
    ['the network address', '192.168.10.0', 24, /is the network address of its subnet 192\.168\.10\.0\/24/],
    ['the broadcast address', '192.168.10.255', 24, /is the broadcast address of its subnet 192\.168\.10\.0\/24/],
    ['the broadcast address of a /25', '192.168.10.127', 25, /is the broadcast address of its subnet 192\.168\.10\.0\/25/],
  ])('%s', (_n, vip, prefix, problem) => {
    const e = errors(haSpec({ controlPlaneEndpoint: { host: vip, port: 8443 }, keepalived: { interface: 'eth0', vipPrefixLength: prefix } }));
    expect(e).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.host', value: vip, problem: expect.stringMatching(problem), fix: 'pick a free host address inside the subnet' })]);
  });

  test('an IPv6 subnet\'s network address (and no broadcast rule for IPv6)', () => {
    const v6 = (vip: string) => errors(haSpec({ controlPlaneEndpoint: { host: vip, port: 8443 }, masters: [{ name: 'm1', address: 'fd00::11' }, { name: 'm2', address: 'fd00::12' }, { name: 'm3', address: 'fd00::13' }] }));
    expect(v6('fd00::')).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.host', problem: 'is the network address of its subnet fd00::/64' })]);
    expect(v6('fd00::ffff:ffff:ffff:ffff')).toEqual([]);
  });

  test('given as loadBalancer.vip, the error names that field', () => {
    const e = errors(haSpec({ controlPlaneEndpoint: { host: 'api.example.com', port: 8443 }, loadBalancer: { vip: '192.168.10.255' } }));
    expect(paths(e)).toEqual(['loadBalancer.vip']);
  });

  test('a worker\'s address', () => {
    const e = errors(haSpec({ workers: [{ name: 'w1', address: '192.168.10.100' }], workerProxy: {} }));
    expect(e).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.host', value: '192.168.10.100', problem: 'is workers[0].address; the VIP must be an address no node owns' })]);
  });
});

describe('workers without workerProxy', () => {
  test('warn that they are ignored and name workerProxy', () => {
    const w = warnings(spec({ workers }));
    expect(w).toEqual([expect.objectContaining({ path: 'workers', value: ['worker-1'], problem: 'is listed but workerProxy is not set, so it gets no bundle and nothing uses it' })]);
    expect(w[0].fix).toMatch(/add workerProxy: \{ port: 6443 \}/);
    expect(warnings(spec({ workers, workerProxy: {} }))).toEqual([]);
  });
});

describe('a Kubernetes patch the version table does not know', () => {
  const latest = kubernetesProfile('1.37')!.latestPatch;
  test('warns that the image tag is unverified and names the known patch', () => {
    const w = warnings(spec({ kubernetesVersion: '1.37.99' }));
    expect(w).toEqual([expect.objectContaining({ path: 'kubernetesVersion', value: '1.37.99', problem: `is a patch the version table does not know (its newest 1.37 patch is ${latest}), so the image tag v1.37.99 is unverified` })]);
    expect(w[0].fix).toContain(`use "1.37" (patch ${latest})`);
    expect(errors(spec({ kubernetesVersion: '1.37.99' }))).toEqual([]);
  });

  test('a known patch, a minor and an older patch do not warn', () => {
    expect(warnings(spec({ kubernetesVersion: latest }))).toEqual([]);
    expect(warnings(spec({ kubernetesVersion: '1.37' }))).toEqual([]);
    expect(warnings(spec({ kubernetesVersion: '1.37.0' }))).toEqual([]);
  });
});

describe('one master with a VIP tier', () => {
  test('warns', () => {
    const one = haSpec({ masters: [{ name: 'master-1', address: '192.168.10.11' }] });
    const w = warnings(one);
    expect(w).toEqual([expect.objectContaining({ path: 'loadBalancer', problem: expect.stringMatching(/single master: the VIP and load balancer add moving parts but no availability/) })]);
    expect(w[0].fix).toMatch(/add masters \(3 or 5\)/);
    expect(warnings(haSpec())).toEqual([]);
  });
});

describe('control characters', () => {
  test.each([
    ['a newline in an extraArgs value', { apiServer: { extraArgs: [{ name: 'v', value: '2\n--anonymous-auth=true' }] } }, 'apiServer.extraArgs[0].value'],
    ['a tab in an extraArgs value', { controllerManager: { extraArgs: [{ name: 'v', value: '2\t' }] } }, 'controllerManager.extraArgs[0].value'],
    ['a carriage return in an etcd extraArgs value', { etcd: { local: { extraArgs: [{ name: 'log-level', value: 'info\r' }] } } }, 'etcd.local.extraArgs[0].value'],
    ['NUL in a scheduler extraArgs value', { scheduler: { extraArgs: [{ name: 'v', value: '2\u0000' }] } }, 'scheduler.extraArgs[0].value'],
    ['a newline in an extraArgs name', { apiServer: { extraArgs: [{ name: 'v\n', value: '2' }] } }, 'apiServer.extraArgs[0].name'],
  ])('%s is refused', (_n, overrides, path) => {
    const e = errors(spec(overrides as Partial<ClusterSpec>));
    expect(e).toEqual([expect.objectContaining({ path, problem: expect.stringMatching(/^contains a control character/) })]);
    expect(e[0].fix).toMatch(/one line/);
  });

  test.each([
    ['a component image', { apiServer: { image: 'registry.example.com/kube-apiserver:v1\u0001' } }, 'apiServer.image'],
    ['a worker proxy image', { workers, workerProxy: { image: 'nginx:1\u0007' } }, 'workerProxy.image'],
    ['a hostPath', { apiServer: { extraVolumes: [{ name: 'v', hostPath: '/etc/x\ny', mountPath: '/x' }] } }, 'apiServer.extraVolumes[0].hostPath'],
    ['a certificatesDir', { certificatesDir: '/etc/pki\u001b' }, 'certificatesDir'],
  ])('in %s it is refused', (_n, overrides, path) => {
    expect(paths(errors(spec(overrides as Partial<ClusterSpec>)))).toEqual([path]);
  });

  test('a value with spaces and punctuation (no control character) still passes', () => {
    expect(errors(spec({ apiServer: { extraArgs: [{ name: 'tls-cipher-suites', value: 'TLS_AES_128_GCM_SHA256, x=y "quoted"' }] } }))).toEqual([]);
  });
});

describe('a quoted number gives one error about that field', () => {
  test('controlPlaneEndpoint.port: "8443" with a load balancer on the masters', () => {
    const s = haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: '8443' as unknown as number } });
    expect(errors(s)).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.port', value: '8443' })]);
    const issues = loadIssues(s);
    expect(issues).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.port', value: '8443', problem: 'is not a TCP port' })]);
    expect(issues.map((i) => i.problem).join(' ')).not.toContain('6443');
  });

  test('apiServer.bindPort: "6443" with lvs-dr', () => {
    const s = haSpec({ loadBalancer: { type: 'lvs-dr' }, loadBalancers: lbHosts, controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, apiServer: { bindPort: '6443' as unknown as number } });
    expect(paths(errors(s))).toEqual(['apiServer.bindPort']);
    expect(paths(loadIssues(s))).toEqual(['apiServer.bindPort']);
  });

  test('workerProxy.port: "10250" is one error, not a port clash too', () => {
    const s = spec({ workers, workerProxy: { port: '10250' as unknown as number } });
    expect(paths(errors(s))).toEqual(['workerProxy.port']);
    expect(errors(s)[0].problem).toBe('is not a TCP port');
  });
});

describe('an endpoint VIP that nothing holds (no loadBalancer)', () => {
  const noLb = (endpoint: ClusterSpec['controlPlaneEndpoint'], over: Partial<ClusterSpec> = {}): ClusterSpec => {
    const { loadBalancer: _lb, keepalived: _ka, ...rest } = haSpec(over);
    return { ...rest, controlPlaneEndpoint: endpoint };
  };
  const unheld = (s: unknown) => warnings(s).filter((w) => /nothing in this spec will hold this VIP/.test(w.problem));

  test.each([
    ['an IPv4 VIP', noLb({ host: '10.0.0.100', port: 6443 })],
    ['an IPv6 VIP', noLb({ host: 'fd00::100' }, { masters: [{ name: 'm1', address: 'fd00::11' }, { name: 'm2', address: 'fd00::12' }, { name: 'm3', address: 'fd00::13' }] })],
    ['a VIP with workers behind a worker proxy', noLb({ host: '10.0.0.100' }, { workers: [{ name: 'w1', address: '10.0.0.31' }], workerProxy: {} })],
  ])('%s: warned, with the fix (add the LB tier, or say external: true)', (_n, s) => {
    const w = unheld(s);
    expect(w).toHaveLength(1);
    expect(w[0].path).toBe('controlPlaneEndpoint.host');
    expect(w[0].fix).toMatch(/add loadBalancer: \{ type: "haproxy" \} with keepalived\.interface .*or set controlPlaneEndpoint\.external: true/);
  });

  test.each([
    ['external: true (your own load balancer holds it)', noLb({ host: '10.0.0.100', external: true })],
    ['a DNS name (it may list every master)', noLb({ host: 'api.example.com' })],
    ['loadBalancer holds it', haSpec()],
  ])('%s: no warning', (_n, s) => {
    expect(unheld(s)).toEqual([]);
    expect(errors(s)).toEqual([]);
  });

  test('a master\'s own address gets the existing not-highly-available warning, not this one', () => {
    const s = noLb({ host: haSpec().masters[0].address });
    expect(unheld(s)).toEqual([]);
    expect(warnings(s).map((w) => w.problem)).toContainEqual(expect.stringMatching(/not highly available/));
  });

  test('external: true beside loadBalancer is refused; a non-boolean external too', () => {
    const both = haSpec({ controlPlaneEndpoint: { ...haSpec().controlPlaneEndpoint, external: true } });
    expect(errors(both)).toEqual([expect.objectContaining({ path: 'controlPlaneEndpoint.external', value: true, fix: expect.stringMatching(/remove controlPlaneEndpoint\.external to use loadBalancer/) })]);
    expect(paths(loadIssues({ ...noLb({ host: '10.0.0.100' }), controlPlaneEndpoint: { host: '10.0.0.100', external: 'yes' } }))).toContain('controlPlaneEndpoint.external');
  });
});

describe('init', () => {
  const { initSpecYaml } = jest.requireActual<typeof import('../lib/plan/init-template')>('../lib/plan/init-template');
  const { readSpec } = jest.requireActual<typeof import('../lib/plan/load')>('../lib/plan/load');
  const text = initSpecYaml('schema.json');

  test('writes the load-balancing tier on the masters: haproxy, keepalived, the VIP, an endpoint port other than 6443, the interface to edit', () => {
    const { spec: s, warnings: w } = readSpec(text, 'cluster.yaml');
    expect(w).toEqual([]);
    expect(s.loadBalancer).toEqual({ type: 'haproxy' });
    expect(s.controlPlaneEndpoint).toEqual({ host: '10.0.0.100', port: 8443 });
    expect(s.keepalived).toEqual({ interface: 'eth0' });
    expect(text).toMatch(/# EDIT THIS: the network interface that carries the masters' addresses[^\n]*\n[^\n]*\n  interface: eth0\n/);
    expect(text).toMatch(/^ {2}# external: true$/m);
  });

  test('the written spec synthesizes keepalived and haproxy on every master, haproxy on 8443', () => {
    const { spec: s } = readSpec(text, 'cluster.yaml');
    const bundles = render(s);
    for (const m of ['master-1', 'master-2', 'master-3']) {
      const files = bundles.get(m)!;
      expect(files.has('etc/kubernetes/manifests/keepalived.yaml')).toBe(true);
      expect(files.has('etc/kubernetes/manifests/haproxy.yaml')).toBe(true);
      expect(files.get('etc/haproxy/haproxy.cfg')!.content).toMatch(/bind \S*:8443/);
      expect(files.get('etc/keepalived/keepalived.conf')!.content).toMatch(/interface eth0/);
    }
  });

  test('without its LB tier (deleted as its comment says), the spec warns that nothing holds the VIP', () => {
    const bare = text.replace(/^loadBalancer:\n(?: {2}.*\n)*\n^keepalived:\n(?: {2}.*\n)*/m, '');
    expect(bare).not.toMatch(/^(loadBalancer|keepalived):/m);
    expect(readSpec(bare, 'cluster.yaml').warnings.map((w) => w.path)).toEqual(['controlPlaneEndpoint.host']);
    expect(readSpec(bare.replace('  # external: true', '  external: true'), 'cluster.yaml').warnings).toEqual([]);
  });
});
