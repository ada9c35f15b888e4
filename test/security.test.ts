/**
 * The hardened security profile: each manifest's flags as the CIS Kubernetes Benchmark v1.12 text asks,
 * the host files the flags point to (shipped, 0600, mounted with the right hostPath type), the encryption
 * key as state, health checks that the anonymous policy allows, version differences, spec errors, and
 * the real etcd binaries accepting the hardened etcd flags.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ClusterSpec, HaControlPlane, HostFile, SpecError, StaticPodApp } from '../lib';
import { loadOrCreateEncryptionKey, readEncryptionKeyFile } from '../lib/bundle/encryption-key';
import { ANONYMOUS_PATHS, STRONG_TLS_CIPHER_SUITES } from '../lib/plan/security';
import { runCli } from '../lib/cli';
import { SUPPORTED_MINORS } from '../lib/plan/versions';
import { compareOp, findFlagValue } from './cis-evaluator';
import { BIN_DIR, toolVersions } from './harness/binaries';
import { flags, haSpec, spec } from './util';

const KEY = Buffer.alloc(32, 0x2a).toString('base64');
const HARDENED = { security: { profile: 'hardened' as const } };

type Files = Map<string, Map<string, { content: string; mode: number }>>;

/** Renders in memory with the key given in props (no disk side effects). */
function renderWith(s: ClusterSpec, encryptionKey: string | null = KEY, baseDir?: string): Files {
  const app = new StaticPodApp({ reporter: false, outdir: '/nonexistent' });
  new HaControlPlane(app, s.name, { spec: s, encryptionKey: encryptionKey ?? undefined, baseDir });
  const out: Files = new Map();
  for (const [node, files] of app.renderBundles().get(s.name)!) out.set(node, new Map(files.map((f) => [f.path, { content: f.content, mode: f.mode }])));
  return out;
}
const podOf = (files: Files, node: string, name: string) => parse(files.get(node)!.get(`etc/kubernetes/manifests/${name}.yaml`)!.content);
const hardened = (o: Partial<ClusterSpec> = {}) => renderWith(haSpec({ ...HARDENED, ...o }));

let tmp = '';
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hacp-sec-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('kube-bench evaluator semantics', () => {
  test.each([
    ['eq', 'FALSE', 'false', true], ['eq', 'true', 'false', false], ['noteq', 'false', 'false', false],
    ['gte', '30', '30', true], ['gte', '29', '30', false], ['gte', 'abc', '30', false], ['lte', '5', '10', true],
    ['has', 'Node,RBAC', 'RBAC', true], ['nothave', 'AlwaysAllow,RBAC', 'AlwaysAllow', false],
    ['valid_elements', 'a,b', 'a,b,c', true], ['valid_elements', 'a,d', 'a,b,c', false], ['valid_elements', '', 'a', false],
    ['bitmask', '600', '600', true], ['bitmask', '400', '600', true], ['bitmask', '644', '600', false], ['bitmask', '700', '600', false],
  ])('%s %j vs %j is %s', (op, value, expected, result) => {
    expect(compareOp(op, value, expected)).toBe(result);
  });

  test('flag values are read as kube-bench reads them', () => {
    expect(findFlagValue('x --profiling=false --y=1', '--profiling', true)).toBe('false');
    expect(findFlagValue('x --profiling --y=1', '--profiling', true)).toBe('true');
    expect(findFlagValue('x --y=1', '--profiling', false)).toBeUndefined();
    expect(findFlagValue('permissions=600', 'permissions', true)).toBe('600');
  });
});

describe('hardened manifests carry the flags each CIS check names', () => {
  const files = hardened();
  const api = flags(podOf(files, 'master-1', 'kube-apiserver'));
  const kcm = flags(podOf(files, 'master-1', 'kube-controller-manager'));
  const sched = flags(podOf(files, 'master-1', 'kube-scheduler'));
  const etcd = flags(podOf(files, 'master-1', 'etcd'));

  test('kube-apiserver (1.2.x, 3.2.1)', () => {
    expect(api['anonymous-auth']).toBeUndefined(); // 1.2.1: see the deviation in README; authentication-config instead
    expect(api['authentication-config']).toBe('/etc/kubernetes/security/authentication-config.yaml');
    expect(api['token-auth-file']).toBeUndefined(); // 1.2.2
    expect(api['enable-admission-plugins'].split(',')).toEqual(expect.arrayContaining(['DenyServiceExternalIPs', 'EventRateLimit', 'AlwaysPullImages', 'NodeRestriction'])); // 1.2.3, 1.2.9, 1.2.11, 1.2.14
    expect(api['enable-admission-plugins']).not.toContain('AlwaysAdmit'); // 1.2.10
    expect(api['disable-admission-plugins']).toBeUndefined(); // 1.2.12, 1.2.13
    expect(api['admission-control-config-file']).toBe('/etc/kubernetes/security/admission-config.yaml'); // 1.2.9
    expect([api['kubelet-client-certificate'], api['kubelet-client-key']]).toEqual(['/etc/kubernetes/pki/apiserver-kubelet-client.crt', '/etc/kubernetes/pki/apiserver-kubelet-client.key']); // 1.2.4
    expect(api['kubelet-certificate-authority']).toBe('/etc/kubernetes/pki/ca.crt'); // 1.2.5
    expect(api['authorization-mode']).toBe('Node,RBAC'); // 1.2.6-1.2.8
    expect(api.profiling).toBe('false'); // 1.2.15
    expect(api['audit-log-path']).toBe('/var/log/kubernetes/audit/audit.log'); // 1.2.16
    expect(Number(api['audit-log-maxage'])).toBeGreaterThanOrEqual(30); // 1.2.17
    expect(Number(api['audit-log-maxbackup'])).toBeGreaterThanOrEqual(10); // 1.2.18
    expect(Number(api['audit-log-maxsize'])).toBeGreaterThanOrEqual(100); // 1.2.19
    expect(api['service-account-lookup']).toBe('true'); // 1.2.21
    expect(api['service-account-key-file']).toBe('/etc/kubernetes/pki/sa.pub'); // 1.2.22
    expect([api['etcd-certfile'], api['etcd-keyfile'], api['etcd-cafile']]).toEqual(['/etc/kubernetes/pki/apiserver-etcd-client.crt', '/etc/kubernetes/pki/apiserver-etcd-client.key', '/etc/kubernetes/pki/etcd/ca.crt']); // 1.2.23, 1.2.26
    expect([api['tls-cert-file'], api['tls-private-key-file'], api['client-ca-file']]).toEqual(['/etc/kubernetes/pki/apiserver.crt', '/etc/kubernetes/pki/apiserver.key', '/etc/kubernetes/pki/ca.crt']); // 1.2.24, 1.2.25
    expect(api['encryption-provider-config']).toBe('/etc/kubernetes/security/encryption-config.yaml'); // 1.2.27
    expect(api['tls-cipher-suites'].split(',')).toEqual([...STRONG_TLS_CIPHER_SUITES]); // 1.2.29
    for (const c of STRONG_TLS_CIPHER_SUITES) expect(c).toMatch(/^TLS_ECDHE_(RSA|ECDSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/);
    expect(api['service-account-extend-token-expiration']).toBe('false'); // 1.2.30
    expect(api['audit-policy-file']).toBe('/etc/kubernetes/security/audit-policy.yaml'); // 3.2.1
  });

  test('kube-controller-manager (1.3.x)', () => {
    expect(Number(kcm['terminated-pod-gc-threshold'])).toBeGreaterThan(0); // 1.3.1
    expect(kcm.profiling).toBe('false'); // 1.3.2
    expect(kcm['use-service-account-credentials']).toBe('true'); // 1.3.3
    expect(kcm['service-account-private-key-file']).toBe('/etc/kubernetes/pki/sa.key'); // 1.3.4
    expect(kcm['root-ca-file']).toBe('/etc/kubernetes/pki/ca.crt'); // 1.3.5
    expect(kcm['feature-gates']).toBeUndefined(); // 1.3.6: RotateKubeletServerCertificate stays on (default)
    expect(kcm['bind-address']).toBe('127.0.0.1'); // 1.3.7
  });

  test('kube-scheduler (1.4.x)', () => {
    expect(sched.profiling).toBe('false'); // 1.4.1
    expect(sched['bind-address']).toBe('127.0.0.1'); // 1.4.2
  });

  test('etcd (2.x)', () => {
    expect([etcd['cert-file'], etcd['key-file']]).toEqual(['/etc/kubernetes/pki/etcd/server.crt', '/etc/kubernetes/pki/etcd/server.key']); // 2.1
    expect(etcd['client-cert-auth']).toBe('true'); // 2.2
    expect(etcd['auto-tls']).toBe('false'); // 2.3
    expect([etcd['peer-cert-file'], etcd['peer-key-file']]).toEqual(['/etc/kubernetes/pki/etcd/peer.crt', '/etc/kubernetes/pki/etcd/peer.key']); // 2.4
    expect(etcd['peer-client-cert-auth']).toBe('true'); // 2.5
    expect(etcd['peer-auto-tls']).toBe('false'); // 2.6
    expect(etcd['trusted-ca-file']).toBe('/etc/kubernetes/pki/etcd/ca.crt'); // 2.7: etcd's own CA
  });

  test('manifests are 0600 (1.1.1, 1.1.3, 1.1.5, 1.1.7); the config files 0600; the kubeadm profile has none of them', () => {
    for (const [, node] of files) {
      for (const [p, f] of node) if (p.startsWith('etc/kubernetes/manifests/')) expect([p, f.mode.toString(8)]).toEqual([p, '600']);
    }
    const sec = [...files.get('master-1')!].filter(([p]) => p.startsWith('etc/kubernetes/security/'));
    expect(sec.map(([p, f]) => [p, f.mode.toString(8)])).toEqual([
      ['etc/kubernetes/security/admission-config.yaml', '600'],
      ['etc/kubernetes/security/audit-policy.yaml', '600'],
      ['etc/kubernetes/security/authentication-config.yaml', '600'],
      ['etc/kubernetes/security/encryption-config.yaml', '600'],
    ]);
    const plain = renderWith(haSpec(), null).get('master-1')!;
    expect([...plain.keys()].filter((p) => p.includes('security'))).toEqual([]);
    expect(Object.keys(flags(podOf(renderWith(haSpec(), null), 'master-1', 'kube-apiserver')))).not.toContain('profiling');
  });
});

describe('every file a flag points to is shipped or provided, and mounted', () => {
  test.each(SUPPORTED_MINORS)('Kubernetes %s, every master', (minor) => {
    const files = hardened({ kubernetesVersion: minor });
    for (const [node, bundle] of files) {
      for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
        const pod = podOf(files, node, name);
        const mounts: { name: string; mountPath: string; readOnly?: boolean }[] = pod.spec.containers[0].volumeMounts;
        const volumes = new Map<string, any>(pod.spec.volumes.map((v: any) => [v.name, v]));
        for (const [flag, value] of Object.entries(flags(pod))) {
          if (!value.startsWith('/')) continue;
          const mount = mounts.find((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`));
          expect({ node, name, flag, mounted: mount !== undefined }).toEqual({ node, name, flag, mounted: true });
          const shipped = bundle.get(value.slice(1));
          const hostPath = volumes.get(mount!.name).hostPath;
          if (shipped) {
            // A config the bundle ships: mounted on its own, type File, read-only, 0600.
            expect({ flag, type: hostPath.type, path: hostPath.path, readOnly: mount!.readOnly, mode: shipped.mode.toString(8) })
              .toEqual({ flag, type: 'File', path: value, readOnly: true, mode: '600' });
          } else if (flag === 'audit-log-path') {
            expect({ type: hostPath.type, path: hostPath.path, readOnly: mount!.readOnly }).toEqual({ type: 'DirectoryOrCreate', path: '/var/log/kubernetes/audit', readOnly: undefined });
          } else {
            // Made by kubeadm on the node: the PKI, the kubeconfigs, the etcd data directory.
            expect(value).toMatch(/^(\/etc\/kubernetes\/pki\/|\/etc\/kubernetes\/(controller-manager|scheduler)\.conf$|\/var\/lib\/etcd$)/);
          }
        }
      }
    }
  });

  test('the four config files are mounted with a checksum annotation that changes with the key', () => {
    const a = podOf(hardened(), 'master-1', 'kube-apiserver').metadata.annotations['ha-control-plane.io/config-checksum'];
    const b = podOf(renderWith(haSpec(HARDENED), Buffer.alloc(32, 1).toString('base64')), 'master-1', 'kube-apiserver').metadata.annotations['ha-control-plane.io/config-checksum'];
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });
});

describe('encryption at rest', () => {
  test('secretbox with the key, identity to read old data; the same file on every master', () => {
    const files = hardened();
    const contents = [...files.values()].map((n) => n.get('etc/kubernetes/security/encryption-config.yaml')!.content);
    expect(new Set(contents).size).toBe(1);
    const cfg = parse(contents[0]);
    expect(cfg).toEqual({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'key1', secret: KEY }] } }, { identity: {} }] }],
    });
  });

  test('the key is state: generated once with 32 random bytes into a 0700 dir, 0600 file; read back after', () => {
    const dir = path.join(tmp, 'state-a', 'ha-control-plane-state', 'prod');
    const k1 = loadOrCreateEncryptionKey(dir);
    expect(Buffer.from(k1, 'base64').length).toBe(32);
    expect((fs.statSync(dir).mode & 0o777).toString(8)).toBe('700');
    const file = path.join(dir, 'encryption-key');
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(loadOrCreateEncryptionKey(dir)).toBe(k1);
    expect(loadOrCreateEncryptionKey(path.join(tmp, 'state-b'))).not.toBe(k1);
  });

  /** A real synth into `<base>/out`: the encryption-config of master-2 as written, and the HaControlPlane. */
  function synthInto(s: ClusterSpec, base: string): { written: string; cp: HaControlPlane } {
    const app = new StaticPodApp({ reporter: false, outdir: path.join(base, 'out') });
    const cp = new HaControlPlane(app, s.name, { spec: s, baseDir: base });
    app.synth();
    return { written: fs.readFileSync(path.join(base, 'out', s.name, 'master-2', 'etc/kubernetes/security/encryption-config.yaml'), 'utf8'), cp };
  }

  test('HaControlPlane without a key uses <baseDir>/ha-control-plane-state/<name>/encryption-key, stored by the synth and stable across synths', () => {
    const base = path.join(tmp, 'base');
    fs.mkdirSync(base);
    const s = haSpec(HARDENED);
    const keyFile = path.join(base, 'ha-control-plane-state', s.name, 'encryption-key');
    // Rendering alone (tests, validate) stores nothing.
    renderWith(s, null, base);
    expect(fs.existsSync(keyFile)).toBe(false);
    const first = synthInto(s, base);
    expect(first.cp.generatedEncryptionKeyFile).toBe(keyFile);
    const key = fs.readFileSync(keyFile, 'utf8').trim();
    expect(parse(first.written).resources[0].providers[0].secretbox.keys[0].secret).toBe(key);
    const second = synthInto(s, base);
    expect(second.written).toBe(first.written);
    expect(second.cp.generatedEncryptionKeyFile).toBeUndefined();
  });

  test('a synth that fails at construction stores no new key', () => {
    const base = path.join(tmp, 'failing');
    fs.mkdirSync(base);
    const s = haSpec({ ...HARDENED, apiServer: { extraVolumes: [{ name: 'audit-log', hostPath: '/srv/x', mountPath: '/srv/x' }] } });
    expect(() => renderWith(s, null, base)).toThrow(SpecError);
    expect(fs.existsSync(path.join(base, 'ha-control-plane-state'))).toBe(false);
  });

  test('a synth that fails after construction (while rendering the bundles) stores no new key either', () => {
    const base = path.join(tmp, 'failing-render');
    fs.mkdirSync(base);
    const s = haSpec(HARDENED);
    const app = new StaticPodApp({ reporter: false, outdir: path.join(base, 'out') });
    const cp = new HaControlPlane(app, s.name, { spec: s, baseDir: base });
    // Two host files at one path: found only when the bundles are rendered.
    new HostFile(cp.masters.get('master-1')!, 'clash', { path: '/etc/kubernetes/kubeadm-config.yaml', content: 'x' });
    expect(() => app.synth()).toThrow(/two files at \/etc\/kubernetes\/kubeadm-config\.yaml/);
    expect(fs.existsSync(path.join(base, 'ha-control-plane-state'))).toBe(false);
    expect(fs.existsSync(path.join(base, 'out'))).toBe(false);
  });

  test('a user-supplied key file, relative to baseDir; a bad one is a SpecError that never shows the content', () => {
    const base = path.join(tmp, 'user');
    fs.mkdirSync(base);
    const good = Buffer.alloc(32, 9).toString('base64');
    fs.writeFileSync(path.join(base, 'k'), `${good}\n`, { mode: 0o600 });
    const files = renderWith(haSpec({ security: { profile: 'hardened', encryptionKeyFile: 'k' } }), null, base);
    expect(files.get('master-1')!.get('etc/kubernetes/security/encryption-config.yaml')!.content).toContain(good);
    expect(fs.existsSync(path.join(base, 'ha-control-plane-state'))).toBe(false);

    const secretish = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
    fs.writeFileSync(path.join(base, 'short'), secretish);
    let err: unknown;
    try {
      renderWith(haSpec({ security: { profile: 'hardened', encryptionKeyFile: 'short' } }), null, base);
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).message).toContain('security.encryptionKeyFile');
    expect((err as SpecError).message).toContain('does not hold the base64 encoding of a 32-byte key');
    expect((err as SpecError).message).not.toContain(secretish);
    expect(() => readEncryptionKeyFile(path.join(base, 'missing'))).toThrow(/security\.encryptionKeyFile: ".*missing" cannot be read \(ENOENT\)/);
  });

  test('a malformed key in props fails without echoing it', () => {
    expect(() => renderWith(haSpec(HARDENED), 'not-a-key-123')).toThrow(/^ApiServerHardening: encryptionKey is not the base64 encoding of 32 bytes \(fix: /);
    expect(() => renderWith(haSpec(HARDENED), 'not-a-key-123')).not.toThrow(/not-a-key-123/);
  });
});

describe('anonymous access and health checks', () => {
  test.each(SUPPORTED_MINORS)('Kubernetes %s: AuthenticationConfiguration apiVersion', (minor) => {
    const cfg = parse(hardened({ kubernetesVersion: minor }).get('master-1')!.get('etc/kubernetes/security/authentication-config.yaml')!.content);
    expect(cfg.apiVersion).toBe(minor === '1.33' ? 'apiserver.config.k8s.io/v1beta1' : 'apiserver.config.k8s.io/v1');
    expect(cfg.anonymous.conditions.map((c: { path: string }) => c.path)).toEqual(['/healthz', '/livez', '/readyz', '/api/v1/namespaces/kube-public/configmaps/cluster-info']);
  });

  const allowed = (p: string) => (ANONYMOUS_PATHS as readonly string[]).includes(p);
  const probePaths = (pod: any) => ['livenessProbe', 'readinessProbe', 'startupProbe'].map((k) => pod.spec.containers[0][k]?.httpGet?.path).filter(Boolean);

  test.each(['/readyz', '/livez', '/healthz'] as const)('haproxy checks %s, keepalived\'s script and the API server probes: all anonymous-allowed paths', (checkPath) => {
    const files = hardened({ loadBalancer: { type: 'haproxy', healthCheckPath: checkPath } });
    const m1 = files.get('master-1')!;
    const haproxy = m1.get('etc/haproxy/haproxy.cfg')!.content;
    const uris = [...haproxy.matchAll(/http-check send meth GET uri (\S+)/g)].map((m) => m[1]);
    expect(uris).toEqual([checkPath]);
    const script = m1.get('etc/keepalived/check_apiserver.sh')!.content;
    const scriptPath = new URL(/https:\/\/\S+/.exec(script)![0]).pathname;
    const probes = probePaths(podOf(files, 'master-1', 'kube-apiserver'));
    expect(probes).toEqual(['/livez', '/readyz', '/livez']);
    expect([...uris, scriptPath, ...probes].filter((p) => !allowed(p))).toEqual([]);
  });

  test('LVS-DR real-server checks and nginx (passive) need no path beyond the allowed ones', () => {
    const lvs = hardened({
      controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 },
      loadBalancer: { type: 'lvs-dr' },
      loadBalancers: [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }],
    });
    const conf = lvs.get('lb-1')!.get('etc/keepalived/keepalived.conf')!.content;
    const paths = [...conf.matchAll(/^\s+path (\S+)$/gm)].map((m) => m[1]);
    expect(paths.length).toBe(3);
    expect(paths.filter((p) => !allowed(p))).toEqual([]);
    const nginx = hardened({ loadBalancer: { type: 'nginx' } }).get('master-1')!;
    expect(nginx.get('etc/nginx/nginx.conf')!.content).not.toMatch(/GET|http_check|health/);
  });

  test.each(['/readyz', '/livez', '/healthz'] as const)('vip-only: keepalived\'s check of the local API server requests %s, an anonymous-allowed path', (checkPath) => {
    const files = hardened({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancer: { type: 'vip-only', healthCheckPath: checkPath } });
    for (const m of ['master-1', 'master-2', 'master-3']) {
      const script = files.get(m)!.get('etc/keepalived/check_apiserver.sh')!.content;
      const url = new URL(/https:\/\/\S+/.exec(script)![0]);
      expect({ path: url.pathname, port: url.port, allowed: allowed(url.pathname) }).toEqual({ path: checkPath, port: '6443', allowed: true });
    }
  });

  test('controller manager and scheduler probes stay on their own always-allowed health paths', () => {
    const files = hardened();
    expect(probePaths(podOf(files, 'master-1', 'kube-controller-manager'))).toEqual(['/healthz', '/healthz']);
    expect(probePaths(podOf(files, 'master-1', 'kube-scheduler'))).toEqual(['/livez', '/readyz', '/livez']);
  });
});

describe('kubeadm config and escape hatches', () => {
  test('the kubeadm config carries the same flags and volumes, so kubeadm writes the same manifests', () => {
    const files = hardened();
    const docs = parseAllDocuments(files.get('master-1')!.get('etc/kubernetes/kubeadm-config.yaml')!.content).map((d) => d.toJS());
    const cluster = docs.find((d) => d.kind === 'ClusterConfiguration');
    const api = flags(podOf(files, 'master-1', 'kube-apiserver'));
    for (const a of cluster.apiServer.extraArgs) expect([a.name, api[a.name]]).toEqual([a.name, a.value]);
    const pod = podOf(files, 'master-1', 'kube-apiserver');
    const podVols = new Map<string, any>(pod.spec.volumes.map((v: any) => [v.name, v.hostPath]));
    for (const v of cluster.apiServer.extraVolumes) expect([v.name, podVols.get(v.name)]).toEqual([v.name, { path: v.hostPath, type: v.pathType }]);
    expect(cluster.etcd.local.extraArgs).toEqual([{ name: 'auto-tls', value: 'false' }, { name: 'peer-auto-tls', value: 'false' }]);
    expect(docs.find((d) => d.kind === 'KubeletConfiguration')).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', serverTLSBootstrap: true });
    const plainDocs = parseAllDocuments(renderWith(haSpec(), null).get('master-1')!.get('etc/kubernetes/kubeadm-config.yaml')!.content).map((d) => d.toJS());
    expect(plainDocs.map((d) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration']);
  });

  test('a user flag replaces the profile\'s flag of the same name (once, at the user\'s place)', () => {
    const files = hardened({ controllerManager: { extraArgs: [{ name: 'terminated-pod-gc-threshold', value: '50' }] } });
    const cmd: string[] = podOf(files, 'master-1', 'kube-controller-manager').spec.containers[0].command;
    expect(cmd.filter((a) => a.startsWith('--terminated-pod-gc-threshold'))).toEqual(['--terminated-pod-gc-threshold=50']);
    expect(cmd[cmd.length - 1]).toBe('--terminated-pod-gc-threshold=50');
  });

  test('fails when a user volume takes a name or path the profile mounts, naming the field', () => {
    const clash = (v: { name: string; mountPath: string }) => {
      try {
        renderWith(spec({ ...HARDENED, apiServer: { extraVolumes: [{ hostPath: '/srv/x', ...v }] } }));
      } catch (e) { return (e as SpecError).issues?.map((i) => `${i.path}: ${i.problem}`); }
      return [];
    };
    expect(clash({ name: 'audit-log', mountPath: '/srv/x' })).toEqual(['apiServer.extraVolumes[0].name: is already used by kube-apiserver\'s own volume "audit-log" (/var/log/kubernetes/audit)']);
    expect(clash({ name: 'mine', mountPath: '/etc/kubernetes/security/audit-policy.yaml' })).toEqual(['apiServer.extraVolumes[0].mountPath: is already used by kube-apiserver\'s own volume "audit-policy" (/etc/kubernetes/security/audit-policy.yaml)']);
  });

  test('fails on flags the API server refuses next to --authentication-config, and on misplaced settings', () => {
    const bad = (s: ClusterSpec) => { try { renderWith(s); } catch (e) { return (e as SpecError).issues?.map((i) => `${i.path}: ${i.problem}`); } return []; };
    expect(bad(spec({ ...HARDENED, apiServer: { extraArgs: [{ name: 'v', value: '2' }, { name: 'anonymous-auth', value: 'false' }] } })))
      .toEqual(['apiServer.extraArgs[1].name: cannot be combined with the hardened profile\'s --authentication-config (the API server refuses to start)']);
    expect(bad(spec({ ...HARDENED, apiServer: { extraArgs: [{ name: 'oidc-issuer-url', value: 'https://x' }] } })))
      .toEqual(['apiServer.extraArgs[0].name: cannot be combined with the hardened profile\'s --authentication-config (the API server refuses to start)']);
    expect(bad(spec({ apiServer: { extraArgs: [{ name: 'anonymous-auth', value: 'false' }] } }))).toEqual([]);
    expect(bad(spec({ security: { encryptionKeyFile: 'k' } }))).toEqual(['security.encryptionKeyFile: is only used by the hardened profile']);
    expect(bad(spec({ security: { profile: 'cis' as 'hardened' } }))).toEqual(['security.profile: is not "kubeadm" or "hardened"']);
    expect(bad(spec({ security: { profile: 'hardened', keyFile: 'x' } as never }))).toEqual(['security.keyFile: is not a known field']);
  });
});

describe('CLI: the key lives next to the spec file; validate writes nothing', () => {
  const io = (cwd: string) => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: (t: string) => { out.stdout += t; }, stderr: (t: string) => { out.stderr += t; }, cwd, env: {} } };
  };
  const SPEC = `name: sec
security: { profile: hardened }
controlPlaneEndpoint: { host: 10.0.0.100, port: 8443 }
masters:
  - { name: master-1, address: 10.0.0.11 }
  - { name: master-2, address: 10.0.0.12 }
  - { name: master-3, address: 10.0.0.13 }
`;

  test('synth creates ha-control-plane-state/<name>/encryption-key beside the spec and reuses it; the key is never printed', async () => {
    const cwd = path.join(tmp, 'cli');
    fs.mkdirSync(path.join(cwd, 'specs'), { recursive: true });
    fs.writeFileSync(path.join(cwd, 'specs', 'c.yaml'), SPEC);

    const v = io(cwd);
    expect(await runCli(['validate', '--spec', 'specs/c.yaml'], v.io)).toBe(0);
    expect(fs.existsSync(path.join(cwd, 'specs', 'ha-control-plane-state'))).toBe(false);

    const a = io(cwd);
    expect(await runCli(['synth', '--spec', 'specs/c.yaml', '--out', 'out'], a.io)).toBe(0);
    const keyFile = path.join(cwd, 'specs', 'ha-control-plane-state', 'sec', 'encryption-key');
    const key = fs.readFileSync(keyFile, 'utf8').trim();
    expect((fs.statSync(keyFile).mode & 0o777).toString(8)).toBe('600');
    const enc = path.join(cwd, 'out', 'sec', 'master-3', 'etc/kubernetes/security/encryption-config.yaml');
    expect(fs.readFileSync(enc, 'utf8')).toContain(key);
    expect((fs.statSync(enc).mode & 0o777).toString(8)).toBe('600');
    expect(`${a.out.stdout}${a.out.stderr}${v.out.stdout}${v.out.stderr}`).not.toContain(key);
    // A new key is never made silently: the first synth says where it went and what a running cluster needs.
    expect(a.out.stderr).toContain('warning: security: generated a new encryption key for Secrets at rest, stored at specs/ha-control-plane-state/sec/encryption-key (fix: ');

    const b = io(cwd);
    expect(await runCli(['synth', '--spec', 'specs/c.yaml', '--out', 'out'], b.io)).toBe(0);
    expect(fs.readFileSync(enc, 'utf8')).toContain(key);
    expect(b.out.stderr).not.toContain('generated a new encryption key');
  });
});

describe('real etcd accepts the hardened etcd flags', () => {
  // Debian's 3.4 and the 3.5, 3.6 and 3.7 built from go.etcd.io/etcd (scripts/k8s-binaries.sh).
  const binaries = [['3.4.23', '/usr/bin/etcd'], ...toolVersions('etcd').map((v) => [v.slice(1), path.join(BIN_DIR, 'etcd', v, 'etcd')])];
  const command = (tag: string): string[] => podOf(hardened({ etcd: { local: { imageTag: tag } } }), 'master-1', 'etcd').spec.containers[0].command;

  test.each(binaries)('etcd %s parses the generated command (with --version: parse, print, exit 0)', (version, bin) => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/test-deps.sh`);
    const line = version.split('.').slice(0, 2).join('.');
    const args = command(`${version}-0`).slice(1);
    expect(args).toEqual(expect.arrayContaining(['--auto-tls=false', '--peer-auto-tls=false']));
    const r = spawnSync(bin, [...args, '--version'], { encoding: 'utf8', timeout: 10_000 });
    expect({ code: r.status, out: r.stdout.split('\n')[0] }).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`^etcd Version: ${line.replace('.', '\\.')}\\.`)) });
    // Control: the same parse refuses a bad value of the same flag.
    const bad = spawnSync(bin, [...args.map((a) => (a === '--auto-tls=false' ? '--auto-tls=maybe' : a)), '--version'], { encoding: 'utf8', timeout: 10_000 });
    expect({ code: bad.status, said: bad.stderr.includes('invalid boolean value "maybe" for -auto-tls') }).toEqual({ code: 2, said: true });
  });
});

test('snapshot of a hardened master (key masked)', () => {
  const files = hardened().get('master-1')!;
  const shown: Record<string, string> = {};
  for (const [p, f] of files) {
    if (p.startsWith('etc/kubernetes/security/') || p.endsWith('kube-apiserver.yaml')) shown[`${p} (${f.mode.toString(8)})`] = f.content.split(KEY).join('<masked key>');
  }
  expect(JSON.stringify(shown)).not.toContain(KEY);
  expect(shown).toMatchSnapshot();
});
