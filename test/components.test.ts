import { parse, parseAllDocuments } from 'yaml';
import { ClusterSpec } from '../lib';
import { LIBRARY_ARGS, SecuredComponent } from '../lib/plan/security';
import { flags, haSpec, pod, render, spec } from './util';

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

describe('default example bundle', () => {
  const bundles = render(haSpec());

  test('one directory per master: the control plane, keepalived + haproxy, their host files, the kubeadm config', () => {
    expect([...bundles.keys()]).toEqual(['master-1', 'master-2', 'master-3']);
    for (const files of bundles.values()) {
      expect([...files.keys()].sort()).toEqual([
        'etc/haproxy/haproxy.cfg',
        'etc/keepalived/check_apiserver.sh',
        'etc/keepalived/keepalived.conf',
        'etc/kubernetes/kubeadm-config.yaml',
        ...[...COMPONENTS, 'haproxy', 'keepalived'].sort().map((c) => `etc/kubernetes/manifests/${c}.yaml`),
      ]);
      for (const [p, f] of files) {
        if (p.includes('/manifests/') || p.endsWith('kubeadm-config.yaml')) expect(f.mode).toBe(0o600);
      }
      expect(files.get('etc/keepalived/check_apiserver.sh')!.mode).toBe(0o755);
      expect(files.get('etc/haproxy/haproxy.cfg')!.mode).toBe(0o644);
    }
  });

  test.each(COMPONENTS)('%s matches its snapshot', (c) => {
    expect(bundles.get('master-1')!.get(`etc/kubernetes/manifests/${c}.yaml`)!.content).toMatchSnapshot();
  });

  test.each(COMPONENTS)('%s has kubeadm\'s shared pod fields', (c) => {
    const p = parse(bundles.get('master-2')!.get(`etc/kubernetes/manifests/${c}.yaml`)!.content);
    expect(p.apiVersion).toBe('v1');
    expect(p.kind).toBe('Pod');
    expect(p.metadata).toMatchObject({ name: c, namespace: 'kube-system', labels: { component: c, tier: 'control-plane' } });
    expect(p.metadata.creationTimestamp).toBeUndefined();
    expect(p.spec).toMatchObject({
      hostNetwork: true, priority: 2000001000, priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(p.spec.containers).toHaveLength(1);
    expect(p.spec.containers[0]).toMatchObject({ name: c, imagePullPolicy: 'IfNotPresent' });
    expect(p.spec.containers[0].resources.limits).toBeUndefined();
    expect(p.status).toEqual({});
  });

  test('kubeadm\'s flags are sorted by name, as kubeadm writes them; the library\'s own extraArgs follow them', () => {
    for (const c of COMPONENTS) {
      const names = Object.keys(flags(pod(spec(), c)));
      const own = (LIBRARY_ARGS[c as SecuredComponent] ?? []).map((a) => a.name);
      expect(names.slice(names.length - own.length)).toEqual(own);
      const defaults = names.slice(0, names.length - own.length);
      expect(defaults).toEqual([...defaults].sort());
    }
    expect(LIBRARY_ARGS['kube-apiserver']).toEqual([{ name: 'shutdown-watch-termination-grace-period', value: '5s' }]);
  });
});

describe('kube-apiserver', () => {
  const p = pod(spec(), 'kube-apiserver', 'master-2');
  const f = flags(p);
  const c = p.spec.containers[0];

  test('closes its watches within 5 s of SIGTERM (the library\'s own flag), stated in the kubeadm config too; a user value replaces it', () => {
    expect(f['shutdown-watch-termination-grace-period']).toBe('5s');
    const clusterConfig = (s: ClusterSpec) => parseAllDocuments(render(s).get('master-1')!.get('etc/kubernetes/kubeadm-config.yaml')!.content)
      .map((d) => d.toJS()).find((d) => d.kind === 'ClusterConfiguration');
    expect(clusterConfig(spec()).apiServer.extraArgs).toEqual([{ name: 'shutdown-watch-termination-grace-period', value: '5s' }]);
    const mine = spec({ apiServer: { extraArgs: [{ name: 'v', value: '2' }, { name: 'shutdown-watch-termination-grace-period', value: '0s' }] } });
    expect(clusterConfig(mine).apiServer.extraArgs).toEqual([{ name: 'v', value: '2' }, { name: 'shutdown-watch-termination-grace-period', value: '0s' }]);
    const cmd: string[] = pod(mine, 'kube-apiserver').spec.containers[0].command;
    expect(cmd.filter((a) => a.startsWith('--shutdown-watch-termination-grace-period'))).toEqual(['--shutdown-watch-termination-grace-period=0s']);
    expect(cmd.slice(-2)).toEqual(['--v=2', '--shutdown-watch-termination-grace-period=0s']);
  });

  test('advertises the node address and talks to the local etcd member', () => {
    expect(f['advertise-address']).toBe('192.168.10.12');
    expect(f['etcd-servers']).toBe('https://127.0.0.1:2379');
    expect(f['secure-port']).toBe('6443');
    expect(f['service-cluster-ip-range']).toBe('10.96.0.0/12');
    expect(f['service-account-issuer']).toBe('https://kubernetes.default.svc.cluster.local');
    expect(f['authorization-mode']).toBe('Node,RBAC');
    expect(f['enable-admission-plugins']).toBe('NodeRestriction');
    expect(f['bind-address']).toBeUndefined();
    expect(p.metadata.annotations['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint']).toBe('192.168.10.12:6443');
    expect(c.image).toBe('registry.k8s.io/kube-apiserver:v1.37.2');
    expect(c.resources.requests).toEqual({ cpu: '250m' });
  });

  test('probes /livez, /readyz, /livez over HTTPS on the advertise address via probe-port', () => {
    expect(c.ports).toEqual([{ containerPort: 6443, name: 'probe-port', protocol: 'TCP' }]);
    const get = (probe: any) => probe.httpGet;
    expect(get(c.livenessProbe)).toEqual({ host: '192.168.10.12', path: '/livez', port: 'probe-port', scheme: 'HTTPS' });
    expect(get(c.readinessProbe)).toEqual({ host: '192.168.10.12', path: '/readyz', port: 'probe-port', scheme: 'HTTPS' });
    expect(get(c.startupProbe)).toEqual({ host: '192.168.10.12', path: '/livez', port: 'probe-port', scheme: 'HTTPS' });
    expect(c.livenessProbe).toMatchObject({ initialDelaySeconds: 10, timeoutSeconds: 15, failureThreshold: 8, periodSeconds: 10 });
    expect(c.readinessProbe).toMatchObject({ timeoutSeconds: 15, failureThreshold: 3, periodSeconds: 1 });
    expect(c.readinessProbe.initialDelaySeconds).toBeUndefined();
    expect(c.startupProbe).toMatchObject({ initialDelaySeconds: 10, timeoutSeconds: 15, failureThreshold: 24, periodSeconds: 10 });
  });

  test('mounts the PKI and CA directories read-only', () => {
    expect(p.spec.volumes).toEqual([
      { name: 'ca-certs', hostPath: { path: '/etc/ssl/certs', type: 'DirectoryOrCreate' } },
      { name: 'etc-ca-certificates', hostPath: { path: '/etc/ca-certificates', type: 'DirectoryOrCreate' } },
      { name: 'k8s-certs', hostPath: { path: '/etc/kubernetes/pki', type: 'DirectoryOrCreate' } },
      { name: 'usr-local-share-ca-certificates', hostPath: { path: '/usr/local/share/ca-certificates', type: 'DirectoryOrCreate' } },
      { name: 'usr-share-ca-certificates', hostPath: { path: '/usr/share/ca-certificates', type: 'DirectoryOrCreate' } },
    ]);
    expect(c.volumeMounts.every((m: any) => m.readOnly === true)).toBe(true);
  });

  test('external etcd: endpoints and files from the spec', () => {
    const ext = spec({ etcd: { external: { endpoints: ['https://10.1.0.1:2379', 'https://10.1.0.2:2379'], caFile: '/etc/etcd/ca.pem', certFile: '/etc/etcd/c.pem', keyFile: '/etc/etcd/c-key.pem' } } });
    const ef = flags(pod(ext, 'kube-apiserver'));
    expect(ef['etcd-servers']).toBe('https://10.1.0.1:2379,https://10.1.0.2:2379');
    expect(ef['etcd-cafile']).toBe('/etc/etcd/ca.pem');
    expect(ef['etcd-certfile']).toBe('/etc/etcd/c.pem');
    expect(ef['etcd-keyfile']).toBe('/etc/etcd/c-key.pem');
    expect([...render(ext).get('master-1')!.keys()]).not.toContain('etc/kubernetes/manifests/etcd.yaml');
  });
});

describe('kube-controller-manager', () => {
  const p = pod(spec(), 'kube-controller-manager');
  const f = flags(p);
  const c = p.spec.containers[0];

  test('leader-elected, binds loopback, allocates node CIDRs from the pod subnet', () => {
    expect(f['leader-elect']).toBe('true');
    expect(f['bind-address']).toBe('127.0.0.1');
    expect(f.kubeconfig).toBe('/etc/kubernetes/controller-manager.conf');
    expect(f['authentication-kubeconfig']).toBe(f.kubeconfig);
    expect(f['authorization-kubeconfig']).toBe(f.kubeconfig);
    expect(f['allocate-node-cidrs']).toBe('true');
    expect(f['cluster-cidr']).toBe('10.244.0.0/16');
    expect(f['service-cluster-ip-range']).toBe('10.96.0.0/12');
    expect(f.controllers).toBe('*,bootstrapsigner,tokencleaner');
    expect(f['cluster-name']).toBe('kubernetes');
    expect(c.resources.requests).toEqual({ cpu: '200m' });
  });

  test('without a pod subnet no CIDR flags', () => {
    const g = flags(pod(spec({ networking: {} }), 'kube-controller-manager'));
    expect(g['allocate-node-cidrs']).toBeUndefined();
    expect(g['cluster-cidr']).toBeUndefined();
    expect(g['service-cluster-ip-range']).toBeUndefined();
  });

  test('probes /healthz on 127.0.0.1:10257 (liveness and startup, no readiness)', () => {
    expect(c.livenessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/healthz', port: 'probe-port', scheme: 'HTTPS' });
    expect(c.startupProbe.httpGet).toEqual(c.livenessProbe.httpGet);
    expect(c.readinessProbe).toBeUndefined();
    expect(c.ports).toEqual([{ containerPort: 10257, name: 'probe-port', protocol: 'TCP' }]);
  });

  test('mounts its kubeconfig FileOrCreate read-only and no flexvolume dir on 1.37', () => {
    expect(p.spec.volumes).toContainEqual({ name: 'kubeconfig', hostPath: { path: '/etc/kubernetes/controller-manager.conf', type: 'FileOrCreate' } });
    expect(c.volumeMounts).toContainEqual({ name: 'kubeconfig', mountPath: '/etc/kubernetes/controller-manager.conf', readOnly: true });
    expect(p.spec.volumes.map((v: any) => v.name)).not.toContain('flexvolume-dir');
  });
});

describe('kube-scheduler', () => {
  const p = pod(spec(), 'kube-scheduler');
  const c = p.spec.containers[0];

  test('leader-elected with its own kubeconfig', () => {
    expect(flags(p)).toEqual({
      'authentication-kubeconfig': '/etc/kubernetes/scheduler.conf',
      'authorization-kubeconfig': '/etc/kubernetes/scheduler.conf',
      'bind-address': '127.0.0.1',
      'kubeconfig': '/etc/kubernetes/scheduler.conf',
      'leader-elect': 'true',
    });
    expect(c.resources.requests).toEqual({ cpu: '100m' });
  });

  test('probes /livez, /readyz, /livez on 127.0.0.1:10259', () => {
    expect(c.livenessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/livez', port: 'probe-port', scheme: 'HTTPS' });
    expect(c.readinessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/readyz', port: 'probe-port', scheme: 'HTTPS' });
    expect(c.startupProbe.httpGet.path).toBe('/livez');
    expect(c.ports[0].containerPort).toBe(10259);
  });
});

describe('etcd (stacked)', () => {
  const s = spec();
  const p = pod(s, 'etcd', 'master-3');
  const f = flags(p);
  const c = p.spec.containers[0];

  test('every member gets the full initial cluster, state new', () => {
    expect(f['initial-cluster']).toBe('master-1=https://192.168.10.11:2380,master-2=https://192.168.10.12:2380,master-3=https://192.168.10.13:2380');
    expect(f['initial-cluster-state']).toBe('new');
    expect(f.name).toBe('master-3');
    expect(f['listen-client-urls']).toBe('https://127.0.0.1:2379,https://192.168.10.13:2379');
    expect(f['advertise-client-urls']).toBe('https://192.168.10.13:2379');
    expect(f['listen-peer-urls']).toBe('https://192.168.10.13:2380');
    expect(f['initial-advertise-peer-urls']).toBe('https://192.168.10.13:2380');
    expect(f['listen-metrics-urls']).toBe('http://127.0.0.1:2381');
    expect(f['client-cert-auth']).toBe('true');
    expect(f['peer-client-cert-auth']).toBe('true');
    expect(p.metadata.annotations['kubeadm.kubernetes.io/etcd.advertise-client-urls']).toBe('https://192.168.10.13:2379');
  });

  test('1.37 runs etcd 3.7 with the 3.6+ flag spellings and no experimental flags', () => {
    expect(c.image).toBe('registry.k8s.io/etcd:3.7.0-0');
    expect(f['feature-gates']).toBe('InitialCorruptCheck=true');
    expect(f['watch-progress-notify-interval']).toBe('5s');
    expect(Object.keys(f).filter((k) => k.startsWith('experimental-'))).toEqual([]);
  });

  test('probes /livez, /readyz, /readyz over HTTP on 127.0.0.1:2381', () => {
    expect(c.livenessProbe.httpGet).toEqual({ host: '127.0.0.1', path: '/livez', port: 'probe-port', scheme: 'HTTP' });
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.startupProbe.httpGet.path).toBe('/readyz');
    expect(c.ports).toEqual([{ containerPort: 2381, name: 'probe-port', protocol: 'TCP' }]);
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '100Mi' });
  });

  test('data and certs read-write; mounts in kubeadm order (data first), volumes sorted', () => {
    expect(c.volumeMounts).toEqual([
      { name: 'etcd-data', mountPath: '/var/lib/etcd' },
      { name: 'etcd-certs', mountPath: '/etc/kubernetes/pki/etcd' },
    ]);
    expect(p.spec.volumes.map((v: any) => v.name)).toEqual(['etcd-certs', 'etcd-data']);
  });

  test('a joining member lists the founding members, earlier joiners and itself, state existing', () => {
    const j = spec({
      masters: [
        { name: 'm1', address: '10.0.0.1' }, { name: 'm2', address: '10.0.0.2' }, { name: 'm3', address: '10.0.0.3' },
        { name: 'm4', address: '10.0.0.4', etcdState: 'existing' }, { name: 'm5', address: '10.0.0.5', etcdState: 'existing' },
      ],
    });
    const f4 = flags(pod(j, 'etcd', 'm4'));
    expect(f4['initial-cluster-state']).toBe('existing');
    expect(f4['initial-cluster']).toBe('m1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380,m3=https://10.0.0.3:2380,m4=https://10.0.0.4:2380');
    const f5 = flags(pod(j, 'etcd', 'm5'));
    expect(f5['initial-cluster']).toBe(`${f4['initial-cluster']},m5=https://10.0.0.5:2380`);
    expect(flags(pod(j, 'etcd', 'm2'))['initial-cluster']).toBe('m1=https://10.0.0.1:2380,m2=https://10.0.0.2:2380,m3=https://10.0.0.3:2380');
  });

  const five = (states: Record<string, 'new' | 'existing' | 'replacement'>) => spec({
    masters: ['m1', 'm2', 'm3', 'm4', 'm5'].filter((n) => n in states)
      .map((n) => ({ name: n, address: `10.0.0.${n.slice(1)}`, ...(states[n] === 'new' ? {} : { etcdState: states[n] }) })),
  });
  const url = (...ns: string[]) => ns.map((n) => `${n}=https://10.0.0.${n.slice(1)}:2380`).join(',');

  test('a replacement, wherever it stands in masters, lists every master and joins with state existing', () => {
    for (const [states, node] of [
      [{ m1: 'replacement', m2: 'new', m3: 'new' }, 'm1'],
      [{ m1: 'new', m2: 'new', m3: 'replacement' }, 'm3'],
      [{ m1: 'new', m2: 'new', m3: 'replacement', m4: 'existing', m5: 'existing' }, 'm3'],
      [{ m1: 'new', m2: 'new', m3: 'new', m4: 'replacement', m5: 'existing' }, 'm4'],
    ] as const) {
      const names = Object.keys(states);
      const f = flags(pod(five(states), 'etcd', node));
      expect({ states, node, cluster: f['initial-cluster'], state: f['initial-cluster-state'] })
        .toEqual({ states, node, cluster: url(...names), state: 'existing' });
    }
  });

  /** The files of each master that differ between two specs' bundles. */
  const changed = (a: ClusterSpec, b: ClusterSpec) => {
    const [x, y] = [render(a), render(b)];
    return Object.fromEntries([...x].map(([node, files]) => [node, [...files].filter(([path, f]) => y.get(node)!.get(path)?.content !== f.content).map(([path]) => path)]));
  };
  const etcdYaml = ['etc/kubernetes/manifests/etcd.yaml'];

  test('replacing a founding member under its name and address changes its etcd manifest and no file of any other master', () => {
    const cases: Record<string, 'new' | 'existing' | 'replacement'>[] = [{ m1: 'new', m2: 'new', m3: 'new' }, { m1: 'new', m2: 'new', m3: 'new', m4: 'existing', m5: 'existing' }];
    for (const before of cases) {
      for (const node of ['m1', 'm2', 'm3']) {
        const diff = changed(five(before), five({ ...before, [node]: 'replacement' }));
        expect({ node, diff }).toEqual({ node, diff: Object.fromEntries(Object.keys(before).map((n) => [n, n === node ? etcdYaml : []])) });
      }
    }
  });

  test('a joiner replaced: the last one stays "existing" (nothing changes); an earlier one is a "replacement", which the founding members then list', () => {
    const before = { m1: 'new', m2: 'new', m3: 'new', m4: 'existing', m5: 'existing' } as const;
    expect(flags(pod(five(before), 'etcd', 'm5'))['initial-cluster']).toBe(url('m1', 'm2', 'm3', 'm4', 'm5'));
    const diff = changed(five(before), five({ ...before, m4: 'replacement' }));
    expect(diff).toEqual({ m1: etcdYaml, m2: etcdYaml, m3: etcdYaml, m4: etcdYaml, m5: [] });
  });

  test('a joining member lists the founding members wherever they stand, the joiners before it, and itself', () => {
    const j = spec({
      masters: [
        { name: 'm4', address: '10.0.0.4', etcdState: 'existing' }, { name: 'm1', address: '10.0.0.1' },
        { name: 'm3', address: '10.0.0.3', etcdState: 'replacement' }, { name: 'm5', address: '10.0.0.5', etcdState: 'existing' },
      ],
    });
    expect(flags(pod(j, 'etcd', 'm4'))['initial-cluster']).toBe(url('m4', 'm1', 'm3'));
    expect(flags(pod(j, 'etcd', 'm5'))['initial-cluster']).toBe(url('m4', 'm1', 'm3', 'm5'));
    expect(flags(pod(j, 'etcd', 'm1'))['initial-cluster']).toBe(url('m1', 'm3'));
    expect(flags(pod(j, 'etcd', 'm1'))['initial-cluster-state']).toBe('new');
  });

  test('IPv6 masters: bracketed URLs and ::1 loopback', () => {
    const v6 = spec({
      controlPlaneEndpoint: { host: 'fd00::100', port: 8443 },
      masters: [{ name: 'a', address: 'fd00::11' }, { name: 'b', address: 'fd00::12' }, { name: 'c', address: 'fd00::13' }],
      networking: { serviceSubnet: 'fd00:96::/112' },
    });
    const g = flags(pod(v6, 'etcd', 'b'));
    expect(g['listen-client-urls']).toBe('https://[::1]:2379,https://[fd00::12]:2379');
    expect(g['initial-cluster']).toBe('a=https://[fd00::11]:2380,b=https://[fd00::12]:2380,c=https://[fd00::13]:2380');
    expect(g['listen-metrics-urls']).toBe('http://[::1]:2381');
    const e = pod(v6, 'etcd', 'b').spec.containers[0];
    expect(e.livenessProbe.httpGet.host).toBe('::1');
    const api = pod(v6, 'kube-apiserver', 'b');
    expect(flags(api)['etcd-servers']).toBe('https://[::1]:2379');
    expect(api.metadata.annotations['kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint']).toBe('[fd00::12]:6443');
  });
});

describe('StaticPod writes the manifest JSON itself', () => {
  test('a typed securityContext is written as given: cdk8s-plus-27\'s SecurityContext has the JSON field names and no class values', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { k8s } = require('cdk8s-plus-27') as typeof import('cdk8s-plus-27');
    const full: import('cdk8s-plus-27').k8s.SecurityContext = {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      privileged: false,
      procMount: 'Default',
      readOnlyRootFilesystem: true,
      runAsGroup: 2,
      runAsNonRoot: true,
      runAsUser: 1,
      seLinuxOptions: { level: 'l', role: 'r', type: 't', user: 'u' },
      seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' },
      windowsOptions: { gmsaCredentialSpec: 'g', gmsaCredentialSpecName: 'n', hostProcess: false, runAsUserName: 'w' },
    };
    expect(k8s.toJson_SecurityContext(full)).toEqual(full);
    const keepalived = parse(render(haSpec()).get('master-1')!.get('etc/kubernetes/manifests/keepalived.yaml')!.content);
    expect(keepalived.spec.containers[0].securityContext).toEqual({ capabilities: { add: ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW'] } });
    expect(keepalived.spec.hostNetwork).toBe(true);
  });
});
