/**
 * Table tests on the pure component functions of lib/components, kubeadm-style (manifests_test.go's
 * TestGetAPIServerCommand, TestGetEtcdCertVolumes, TestGetEtcdProbeEndpoint): a plan in, a pod
 * description out, no construct, no synth. Every supported Kubernetes minor is covered.
 */
import { KUBERNETES_PROFILES } from '../lib/plan/versions';
import { ApiServerHardening, ClusterPlan, ClusterSpec, Etcd, KubeApiServer, NodeChart, planCluster, StaticPod, StaticPodApp } from '../lib';
import { apiServerHardening } from '../lib/components/api-server-hardening';
import { etcdPod, etcdProbeEndpoint } from '../lib/components/etcd';
import { keepalivedPod } from '../lib/components/keepalived';
import { apiServerArgs, apiServerPod, externalEtcdCertVolumes } from '../lib/components/kube-apiserver';
import { controllerManagerPod, FLEXVOLUME_DIR } from '../lib/components/kube-controller-manager';
import { schedulerPod } from '../lib/components/kube-scheduler';
import { lvsDrVipPod } from '../lib/components/lvs-dr-vip';
import { PodDescription } from '../lib/components/pod';
import { standaloneKubeletFiles, STANDALONE_KUBELET_CONFIG } from '../lib/components/standalone-kubelet';
import { loadBalancerProxy, tcpProxyPod, workerProxy } from '../lib/components/tcp-proxy';
import { haSpec, spec, TEST_ENCRYPTION_KEY } from './util';

const plan = (s: ClusterSpec): ClusterPlan => planCluster(s);
/** Two LVS directors in front of the example's masters, which hold the VIP on loopback. */
const lvsSpec = (overrides: Partial<ClusterSpec> = {}) => haSpec({
  loadBalancers: [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }],
  loadBalancer: { type: 'lvs-dr' },
  controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 },
  ...overrides,
});
const master = (p: ClusterPlan, i = 0) => p.masters[i];
const flagNames = (pod: PodDescription) => pod.command.slice(1).map((a) => a.slice(2, a.indexOf('=')));
const flag = (pod: PodDescription, name: string) => pod.command.find((a) => a.startsWith(`--${name}=`))?.split('=').slice(1).join('=');

/** What changes between minors, per kubeadm (lib/plan/versions.ts states it once; this table restates it). */
const MINORS: readonly { minor: string; patch: string; etcd: string; pause: string; named: boolean; nullTimestamp: boolean; flexvolume: boolean; etcdFlags: string[] }[] = [
  { minor: '1.33', patch: '1.33.13', etcd: '3.5.24-0', pause: '3.10', named: false, nullTimestamp: true, flexvolume: true, etcdFlags: ['experimental-initial-corrupt-check', 'experimental-watch-progress-notify-interval'] },
  { minor: '1.34', patch: '1.34.4', etcd: '3.6.5-0', pause: '3.10.1', named: true, nullTimestamp: false, flexvolume: true, etcdFlags: ['feature-gates', 'watch-progress-notify-interval'] },
  { minor: '1.35', patch: '1.35.4', etcd: '3.6.6-0', pause: '3.10.1', named: true, nullTimestamp: false, flexvolume: true, etcdFlags: ['feature-gates', 'watch-progress-notify-interval'] },
  { minor: '1.36', patch: '1.36.3', etcd: '3.6.8-0', pause: '3.10.2', named: true, nullTimestamp: false, flexvolume: false, etcdFlags: ['feature-gates', 'watch-progress-notify-interval'] },
  { minor: '1.37', patch: '1.37.2', etcd: '3.7.0-0', pause: '3.10.2', named: true, nullTimestamp: false, flexvolume: false, etcdFlags: ['feature-gates', 'watch-progress-notify-interval'] },
];

test('the table covers every supported minor', () => {
  expect(MINORS.map((m) => m.minor)).toEqual(KUBERNETES_PROFILES.map((p) => p.minor));
});

describe.each(MINORS)('Kubernetes $minor', (v) => {
  const p = plan(spec({ kubernetesVersion: v.minor }));
  const m = master(p, 1);

  test('kube-apiserver: kubeadm\'s getAPIServerCommand, volumes, probes on the advertise address', () => {
    const pod = apiServerPod(p, m);
    expect(pod.name).toBe('kube-apiserver');
    expect(pod.image).toBe(`registry.k8s.io/kube-apiserver:v${v.patch}`);
    expect(pod.command).toEqual([
      'kube-apiserver',
      '--advertise-address=192.168.10.12',
      '--allow-privileged=true',
      '--authorization-mode=Node,RBAC',
      '--client-ca-file=/etc/kubernetes/pki/ca.crt',
      '--enable-admission-plugins=NodeRestriction',
      '--enable-bootstrap-token-auth=true',
      '--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt',
      '--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt',
      '--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key',
      '--etcd-servers=https://127.0.0.1:2379',
      '--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt',
      '--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key',
      '--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname',
      '--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt',
      '--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key',
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-username-headers=X-Remote-User',
      '--secure-port=6443',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-account-key-file=/etc/kubernetes/pki/sa.pub',
      '--service-account-signing-key-file=/etc/kubernetes/pki/sa.key',
      '--service-cluster-ip-range=10.96.0.0/12',
      '--tls-cert-file=/etc/kubernetes/pki/apiserver.crt',
      '--tls-private-key-file=/etc/kubernetes/pki/apiserver.key',
      // Not kubeadm's: the library's own flag (LIBRARY_ARGS), in the kubeadm config's extraArgs too.
      '--shutdown-watch-termination-grace-period=5s',
    ]);
    expect(pod.annotations).toEqual({ 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': '192.168.10.12:6443' });
    expect(pod.requests).toEqual({ cpu: '250m' });
    expect(pod.volumes).toEqual([
      { name: 'k8s-certs', hostPath: '/etc/kubernetes/pki', type: 'DirectoryOrCreate', readOnly: true },
      { name: 'ca-certs', hostPath: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true },
      { name: 'etc-ca-certificates', hostPath: '/etc/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
      { name: 'usr-local-share-ca-certificates', hostPath: '/usr/local/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
      { name: 'usr-share-ca-certificates', hostPath: '/usr/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
    ]);
    const probe = (path: string) => ({ host: '192.168.10.12', path, port: 6443, scheme: 'HTTPS' });
    expect(pod.probes).toEqual({ liveness: probe('/livez'), readiness: probe('/readyz'), startup: probe('/livez') });
    expect([pod.namedProbePort, pod.creationTimestampNull]).toEqual([v.named, v.nullTimestamp]);
    expect(pod.files).toBeUndefined();
  });

  test('kube-controller-manager: its flags, kubeconfig, the flexvolume directory only where kubeadm mounts it', () => {
    const pod = controllerManagerPod(p, m);
    expect(pod.image).toBe(`registry.k8s.io/kube-controller-manager:v${v.patch}`);
    expect(flagNames(pod)).toEqual([
      'allocate-node-cidrs', 'authentication-kubeconfig', 'authorization-kubeconfig', 'bind-address', 'client-ca-file', 'cluster-cidr',
      'cluster-name', 'cluster-signing-cert-file', 'cluster-signing-key-file', 'controllers', 'kubeconfig', 'leader-elect',
      'requestheader-client-ca-file', 'root-ca-file', 'service-account-private-key-file', 'service-cluster-ip-range', 'use-service-account-credentials',
    ]);
    expect(flag(pod, 'cluster-cidr')).toBe('10.244.0.0/16');
    expect(pod.volumes!.map((x) => x.name)).toEqual([
      'k8s-certs', 'ca-certs', 'etc-ca-certificates', 'usr-local-share-ca-certificates', 'usr-share-ca-certificates', 'kubeconfig',
      ...(v.flexvolume ? ['flexvolume-dir'] : []),
    ]);
    if (v.flexvolume) expect(pod.volumes!.at(-1)).toEqual({ name: 'flexvolume-dir', hostPath: FLEXVOLUME_DIR, type: 'DirectoryOrCreate' });
    const probe = { host: '127.0.0.1', path: '/healthz', port: 10257, scheme: 'HTTPS' };
    expect(pod.probes).toEqual({ liveness: probe, startup: probe });
    expect(pod.requests).toEqual({ cpu: '200m' });
  });

  test('kube-scheduler: its flags, kubeconfig, probes on 127.0.0.1:10259', () => {
    const pod = schedulerPod(p, m);
    expect(pod.image).toBe(`registry.k8s.io/kube-scheduler:v${v.patch}`);
    expect(pod.command).toEqual([
      'kube-scheduler',
      '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf',
      '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf',
      '--bind-address=127.0.0.1',
      '--kubeconfig=/etc/kubernetes/scheduler.conf',
      '--leader-elect=true',
    ]);
    expect(pod.volumes).toEqual([{ name: 'kubeconfig', hostPath: '/etc/kubernetes/scheduler.conf', type: 'FileOrCreate', readOnly: true }]);
    const probe = (path: string) => ({ host: '127.0.0.1', path, port: 10259, scheme: 'HTTPS' });
    expect(pod.probes).toEqual({ liveness: probe('/livez'), readiness: probe('/readyz'), startup: probe('/livez') });
  });

  test('etcd: the image of the minor, flags spelled for its etcd, data then certificates (unsorted), probes on 2381', () => {
    const pod = etcdPod(p, m);
    expect(pod.image).toBe(`registry.k8s.io/etcd:${v.etcd}`);
    expect(flagNames(pod)).toEqual([
      'advertise-client-urls', 'cert-file', 'client-cert-auth', 'data-dir', ...v.etcdFlags.slice(0, 1), 'initial-advertise-peer-urls',
      'initial-cluster', 'initial-cluster-state', 'key-file', 'listen-client-urls', 'listen-metrics-urls', 'listen-peer-urls', 'name',
      'peer-cert-file', 'peer-client-cert-auth', 'peer-key-file', 'peer-trusted-ca-file', 'snapshot-count', 'trusted-ca-file', ...v.etcdFlags.slice(1),
    ].sort());
    expect(flag(pod, 'initial-cluster')).toBe('master-1=https://192.168.10.11:2380,master-2=https://192.168.10.12:2380,master-3=https://192.168.10.13:2380');
    expect(flag(pod, 'listen-client-urls')).toBe('https://127.0.0.1:2379,https://192.168.10.12:2379');
    expect(pod.annotations).toEqual({ 'kubeadm.kubernetes.io/etcd.advertise-client-urls': 'https://192.168.10.12:2379' });
    expect(pod.volumes).toEqual([
      { name: 'etcd-data', hostPath: '/var/lib/etcd', type: 'DirectoryOrCreate' },
      { name: 'etcd-certs', hostPath: '/etc/kubernetes/pki/etcd', type: 'DirectoryOrCreate' },
    ]);
    expect(pod.sortMounts).toBe(false);
    const probe = (path: string) => ({ host: '127.0.0.1', port: 2381, scheme: 'HTTP', path });
    expect(pod.probes).toEqual({ liveness: probe('/livez'), readiness: probe('/readyz'), startup: probe('/readyz') });
    expect(pod.requests).toEqual({ cpu: '100m', memory: '100Mi' });
  });

  test('hardened kube-apiserver: the AuthenticationConfiguration version of the minor', () => {
    const hardened = plan(spec({ kubernetesVersion: v.minor, security: { profile: 'hardened' } }));
    const auth = apiServerPod(hardened, master(hardened), TEST_ENCRYPTION_KEY).files!.find((f) => f.volume === 'authentication-config')!;
    expect(auth.content).toContain(`apiVersion: apiserver.config.k8s.io/${v.minor === '1.33' ? 'v1beta1' : 'v1'}\n`);
  });

  test('lvs-dr loopback VIP: the pause image of the minor', () => {
    const lvs = plan(lvsSpec({ kubernetesVersion: v.minor }));
    expect(lvsDrVipPod(lvs).image).toBe(`registry.k8s.io/pause:${v.pause}`);
  });
});

describe('external etcd certificate volumes (kubeadm\'s TestGetEtcdCertVolumes)', () => {
  const ext = (caFile: string, certFile: string, keyFile: string) =>
    plan(spec({ etcd: { external: { endpoints: ['https://10.1.0.1:2379'], caFile, certFile, keyFile } } }));
  const vol = (i: number, dir: string) => ({ name: `etcd-certs-${i}`, hostPath: dir, type: 'DirectoryOrCreate', readOnly: true });
  const cases: [string, [string, string, string], unknown[]][] = [
    ['one directory outside the PKI', ['/etc/etcd/pki/ca.pem', '/etc/etcd/pki/c.pem', '/etc/etcd/pki/c-key.pem'], [vol(0, '/etc/etcd/pki')]],
    ['a directory inside another is dropped', ['/var/lib/certs/etcd/ca.pem', '/var/lib/certs/c.pem', '/var/lib/certs/private/c-key.pem'], [vol(0, '/var/lib/certs')]],
    ['distinct directories, sorted', ['/etc/certs/etcd/my-etcd-ca.crt', '/var/lib/etcd/certs/etcd-cert.crt', '/etc/certs/etcd/my-etcd.key'], [vol(0, '/etc/certs/etcd'), vol(1, '/var/lib/etcd/certs')]],
    ['inside the certificates directory: nothing', ['/etc/kubernetes/pki/etcd/ca.crt', '/etc/kubernetes/pki/c.crt', '/etc/kubernetes/pki/c.key'], []],
    ['inside the CA directories kubeadm mounts: nothing', ['/etc/ssl/certs/etcd/ca.crt', '/etc/pki/ca-trust/c.crt', '/usr/share/ca-certificates/c.key'], []],
    ['a file in the root directory: the root directory', ['/ca.crt', '/etc/kubernetes/pki/c.crt', '/etc/kubernetes/pki/c.key'], [vol(0, '/')]],
  ];
  test.each(cases)('%s', (_name, [ca, cert, key], expected) => {
    const p = ext(ca, cert, key);
    expect(externalEtcdCertVolumes(p)).toEqual(expected);
    // ... and kube-apiserver mounts them after its own, reads its etcd flags from the spec.
    const pod = apiServerPod(p, master(p));
    expect(pod.volumes!.slice(5)).toEqual(expected);
    expect([flag(pod, 'etcd-cafile'), flag(pod, 'etcd-certfile'), flag(pod, 'etcd-keyfile'), flag(pod, 'etcd-servers')]).toEqual([ca, cert, key, 'https://10.1.0.1:2379']);
  });

  test('stacked etcd: no such volumes', () => {
    expect(externalEtcdCertVolumes(plan(spec()))).toEqual([]);
  });
});

describe('etcd probes follow listen-metrics-urls (kubeadm\'s TestGetEtcdProbeEndpoint)', () => {
  const cases: [string, string | undefined, boolean, { host: string; port: number; scheme: string }][] = [
    ['no flag', undefined, false, { host: '127.0.0.1', port: 2381, scheme: 'HTTP' }],
    ['no flag, IPv6', undefined, true, { host: '::1', port: 2381, scheme: 'HTTP' }],
    ['http with host and port', 'http://1.2.3.4:1234', false, { host: '1.2.3.4', port: 1234, scheme: 'HTTP' }],
    ['https, no port', 'https://1.2.3.4', false, { host: '1.2.3.4', port: 2381, scheme: 'HTTPS' }],
    ['the first of several URLs', 'http://1.2.3.4:1234,http://5.6.7.8:5678', false, { host: '1.2.3.4', port: 1234, scheme: 'HTTP' }],
    ['IPv6 host', 'https://[2001:abcd:bcda::1]:1234', true, { host: '2001:abcd:bcda::1', port: 1234, scheme: 'HTTPS' }],
    ['the unspecified address as given', 'http://0.0.0.0:2382', false, { host: '0.0.0.0', port: 2382, scheme: 'HTTP' }],
    ['not a URL: the default', 'not a url', false, { host: '127.0.0.1', port: 2381, scheme: 'HTTP' }],
  ];
  test.each(cases)('%s', (_name, value, v6, expected) => {
    const extraArgs = value === undefined ? [] : [{ name: 'listen-metrics-urls', value }];
    expect(etcdProbeEndpoint(extraArgs, v6 ? '::1' : '127.0.0.1')).toEqual(expected);
  });

  test('the pod: its probes, and its probe port, on the user\'s metrics endpoint; the last flag wins; the flag itself replaces ours', () => {
    const p = plan(spec({ etcd: { local: { extraArgs: [{ name: 'listen-metrics-urls', value: 'http://127.0.0.1:9999' }, { name: 'listen-metrics-urls', value: 'https://192.168.10.11:2382' }] } } }));
    const pod = etcdPod(p, master(p));
    for (const kind of ['liveness', 'readiness', 'startup'] as const) {
      expect(pod.probes![kind]).toMatchObject({ host: '192.168.10.11', port: 2382, scheme: 'HTTPS' });
    }
    expect(pod.command.filter((a) => a.startsWith('--listen-metrics-urls='))).toEqual(['--listen-metrics-urls=http://127.0.0.1:9999', '--listen-metrics-urls=https://192.168.10.11:2382']);
  });
});

describe('the hardened API server', () => {
  const p = plan(spec({ security: { profile: 'hardened' } }));

  test('its config files (0600, mounted as File volumes) and the audit log directory belong to its pod', () => {
    const pod = apiServerPod(p, master(p), TEST_ENCRYPTION_KEY);
    expect(pod.files!.map((f) => [f.path, f.mode, f.volume])).toEqual([
      ['/etc/kubernetes/security/admission-config.yaml', 0o600, 'admission-config'],
      ['/etc/kubernetes/security/audit-policy.yaml', 0o600, 'audit-policy'],
      ['/etc/kubernetes/security/authentication-config.yaml', 0o600, 'authentication-config'],
      ['/etc/kubernetes/security/encryption-config.yaml', 0o600, 'encryption-config'],
    ]);
    expect(pod.volumes).toContainEqual({ name: 'audit-log', hostPath: '/var/log/kubernetes/audit', type: 'DirectoryOrCreate', readOnly: false });
    expect(pod.files![3].content).toContain(TEST_ENCRYPTION_KEY);
    expect(apiServerArgs(p, master(p))).toEqual(apiServerArgs(plan(spec()), master(plan(spec()))));
    expect(flag(pod, 'encryption-provider-config')).toBe('/etc/kubernetes/security/encryption-config.yaml');
  });

  test('without a key: no files; a bad key or a plan that is not hardened is refused', () => {
    expect(apiServerPod(p, master(p)).files).toBeUndefined();
    expect(() => apiServerHardening(p, 'short')).toThrow(/^ApiServerHardening: encryptionKey is not the base64 encoding of 32 bytes/);
    expect(() => apiServerHardening(plan(spec()), TEST_ENCRYPTION_KEY)).toThrow(/needs a plan with security.profile "hardened"/);
  });
});

describe('load-balancing pods', () => {
  const ha = plan(haSpec());
  const lb = ha.loadBalancer!;

  test('keepalived with haproxy: capabilities, host PID, its config and check script mounted', () => {
    const pod = keepalivedPod(lb, lb.keepalived.nodes[0]);
    expect(pod.command).toEqual(['keepalived', '--dont-fork', '--log-console', '--log-detail', '--use-file', '/etc/keepalived/keepalived.conf']);
    expect(pod.securityContext).toEqual({ capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } });
    expect(pod.hostPid).toBe(true);
    expect(pod.files!.map((f) => [f.path, f.mode, f.volume])).toEqual([
      ['/etc/keepalived/keepalived.conf', 0o644, 'config'],
      ['/etc/keepalived/check_apiserver.sh', 0o755, 'check-script'],
    ]);
    expect(pod.files![0].content).toContain('track_process track_load_balancer');
  });

  test('keepalived as an LVS director: no check script, no host PID, the IPVS modules for boot (not mounted)', () => {
    const lvs = plan(lvsSpec()).loadBalancer!;
    const pod = keepalivedPod(lvs, lvs.keepalived.nodes[0]);
    expect(pod.hostPid).toBe(false);
    expect(pod.files!.map((f) => [f.path, f.volume])).toEqual([
      ['/etc/keepalived/keepalived.conf', 'config'],
      ['/etc/modules-load.d/ha-control-plane-ipvs.conf', undefined],
    ]);
  });

  test.each([
    ['haproxy', ['haproxy', '-W', '-db', '-f', '/etc/haproxy/haproxy.cfg'], '/etc/haproxy/haproxy.cfg'],
    ['nginx', ['nginx', '-c', '/etc/nginx/nginx.conf', '-g', 'daemon off;'], '/etc/nginx/nginx.conf'],
  ] as const)('%s: its command and config file', (type, command, path) => {
    const pod = tcpProxyPod({ type, image: 'img', config: { listen: ['*'], port: lb.port, backends: lb.backends, check: lb.check, idleTimeoutSeconds: lb.idleTimeoutSeconds } });
    expect([pod.name, pod.image, pod.command]).toEqual([type, 'img', command]);
    expect(pod.files!.map((f) => [f.path, f.mode, f.volume])).toEqual([[path, 0o644, 'config']]);
    expect(pod.requests).toEqual({ cpu: '25m', memory: '32Mi' });
  });

  test('the proxies the cluster places: on the LB tier on every address (none for lvs-dr), on a worker as kube-apiserver-proxy', () => {
    const onLb = tcpProxyPod(loadBalancerProxy(lb)!);
    expect([onLb.name, onLb.command, onLb.files!.map((f) => f.path)]).toEqual(['haproxy', ['haproxy', '-W', '-db', '-f', '/etc/haproxy/haproxy.cfg'], ['/etc/haproxy/haproxy.cfg']]);
    expect(onLb.files![0].content).toContain('  bind :::8443 v4v6\n');
    expect(loadBalancerProxy(plan(lvsSpec()).loadBalancer!)).toBeUndefined();
    const workers = [{ name: 'worker-1', address: '192.168.10.31' }];
    for (const [type, config] of [['haproxy', 'haproxy.cfg'], ['nginx', 'nginx.conf']] as const) {
      const w = tcpProxyPod(workerProxy(plan(haSpec({ workers, workerProxy: { type } })).workerProxy!));
      expect([w.name, w.files!.map((f) => [f.path, f.volume])]).toEqual(['kube-apiserver-proxy', [[`/etc/kubernetes/kube-apiserver-proxy/${config}`, 'config']]]);
      expect(w.command).toContain(`/etc/kubernetes/kube-apiserver-proxy/${config}`);
    }
  });

  test('the lvs-dr loopback VIP: an idempotent privileged init container, the arp sysctls for boot', () => {
    const p = plan(lvsSpec());
    const pod = lvsDrVipPod(p);
    expect(pod.command).toEqual(['/pause']);
    expect(pod.initContainers![0].securityContext).toEqual({ privileged: true });
    expect(pod.initContainers![0].command!.at(-1)).toContain("grep -q ' 192.168.10.100/32 ' || ip addr add 192.168.10.100/32 dev lo");
    expect(pod.files!.map((f) => [f.path, f.volume])).toEqual([['/etc/sysctl.d/90-ha-control-plane-lvs-dr.conf', undefined]]);
  });

  test('the standalone kubelet of an LB host: its config and systemd drop-in', () => {
    const files = standaloneKubeletFiles({ cgroupDriver: 'cgroupfs' });
    expect(files.map((f) => [f.path, f.mode])).toEqual([[STANDALONE_KUBELET_CONFIG, 0o600], ['/etc/systemd/system/kubelet.service.d/20-ha-control-plane-standalone.conf', 0o644]]);
    expect(files[0].content).toContain('cgroupDriver: cgroupfs');
  });
});

describe('purity', () => {
  /** Freezes a value and everything below it. */
  function deepFreeze<T>(value: T): T {
    if (value && typeof value === 'object' && !Object.isFrozen(value)) {
      Object.freeze(value);
      for (const v of Object.values(value)) deepFreeze(v);
    }
    return value;
  }

  test('the functions read a frozen plan without writing it, and give equal descriptions for equal plans', () => {
    const p = deepFreeze(plan(spec({ security: { profile: 'hardened' } })));
    const ha = deepFreeze(plan(haSpec()));
    const all = () => [
      apiServerPod(p, p.masters[0], TEST_ENCRYPTION_KEY), etcdPod(p, p.masters[0]), controllerManagerPod(p), schedulerPod(p),
      keepalivedPod(ha.loadBalancer!, ha.loadBalancer!.keepalived.nodes[0]),
    ];
    expect(all()).toStrictEqual(all());
    // Plain data: objects, arrays, strings, numbers, booleans; no class instance, no function.
    const plain = (v: unknown): boolean => v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v)
      || (Array.isArray(v) ? v.every(plain) : typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every(plain));
    expect(all().map(plain)).toEqual([true, true, true, true, true]);
    expect(plain(new Map())).toBe(false);
  });
});

describe('the constructs only render the descriptions', () => {
  const chart = () => new NodeChart(new StaticPodApp({ reporter: false, outdir: '/nonexistent' }), 'm', { clusterName: 'c', nodeName: 'm', role: 'master' });
  const files = (c: NodeChart) => c.hostFiles.map((f) => [f.absolutePath, f.mode, f.content]);

  test('new StaticPod(chart, id, etcdPod(plan, master)) is the Etcd construct', () => {
    const p = plan(spec());
    const [a, b] = [chart(), chart()];
    expect(new StaticPod(a, 'etcd', etcdPod(p, master(p))).toManifest()).toEqual(new Etcd(b, 'etcd', { plan: p, master: master(p) }).toManifest());
  });

  test('hardened: KubeApiServer with the key equals KubeApiServer plus ApiServerHardening.mountInto (same manifest, same files)', () => {
    const p = plan(spec({ security: { profile: 'hardened' } }));
    const [a, b] = [chart(), chart()];
    const own = new KubeApiServer(a, 'kube-apiserver', { plan: p, master: master(p), encryptionKey: TEST_ENCRYPTION_KEY });
    const mounted = new KubeApiServer(b, 'kube-apiserver', { plan: p, master: master(p) });
    new ApiServerHardening(b, 'security', { plan: p, encryptionKey: TEST_ENCRYPTION_KEY }).mountInto(mounted);
    expect(own.toManifest()).toEqual(mounted.toManifest());
    expect((own.toManifest() as any).metadata.annotations['ha-control-plane.io/config-checksum']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(files(a)).toEqual(files(b));
    expect(files(a)).toHaveLength(4);
  });
});
