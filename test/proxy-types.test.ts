/**
 * The proxy and load-balancer types are data (lib/proxies/registry.ts, lib/plan/lb-plan.ts): this
 * suite walks the records, so a type added there is tested here with no new test code. Every proxy
 * type renders a config that names every API server, runs as a pod with its record's command, image
 * and config, is tracked by keepalived under its record's process name, works as a worker proxy, and
 * has a config check (which test/lb-checkers.test.ts runs with the real daemon). Every load-balancer
 * type plans and renders a bundle. The spec's literal unions, and so the JSON Schema's enums, name
 * exactly the records' keys.
 */
import { posix } from 'node:path';
import { parse } from 'yaml';
import { ClusterSpec, LoadBalancerType, planCluster } from '../lib';
import { CLUSTER_SPEC_SCHEMA } from '../lib/spec/schema-check';
import { LB_IMAGES, LOAD_BALANCER_TYPES, LoadBalancerKind } from '../lib/plan/lb-plan';
import { generatedBy, ProxyConfig } from '../lib/proxies/proxy';
import { isProxyType, PROXY_TYPE_NAMES, PROXY_TYPES, ProxyType } from '../lib/proxies/registry';
import { haSpec, render, spec } from './util';

const proxies = PROXY_TYPE_NAMES.map((t) => [t, PROXY_TYPES[t]] as const);
const lbTypes = (Object.keys(LOAD_BALANCER_TYPES) as LoadBalancerType[]).map((t) => [t, LOAD_BALANCER_TYPES[t]] as const);
const workers = [{ name: 'worker-1', address: '192.168.10.31' }, { name: 'worker-2', address: '192.168.10.32' }];
const lbHosts = [{ name: 'lb-1', address: '192.168.10.21' }, { name: 'lb-2', address: '192.168.10.22' }];

/** A valid spec for each kind of load-balancer type (a new kind needs one here). */
const SPEC_OF_KIND: Readonly<Record<LoadBalancerKind, (type: LoadBalancerType) => ClusterSpec>> = {
  'keepalived+proxy': (type) => haSpec({ loadBalancer: { type } }),
  'lvs-dr': (type) => haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancers: lbHosts, loadBalancer: { type } }),
  'vip-only': (type) => haSpec({ controlPlaneEndpoint: { host: '192.168.10.100', port: 6443 }, loadBalancer: { type } }),
};

const CONFIG: ProxyConfig = {
  listen: ['127.0.0.1', '::1'],
  port: 7443,
  backends: [{ name: 'master-1', address: '192.168.10.11', port: 6443 }, { name: 'master-2', address: 'fd00:10::12', port: 6444 }],
  check: { path: '/readyz', intervalMs: 500, fall: 2, rise: 2 },
  idleTimeoutSeconds: 3600,
};

test('there are proxy types, and each one is a load-balancer type behind the VIP', () => {
  expect(PROXY_TYPE_NAMES).toEqual(expect.arrayContaining(['haproxy', 'nginx']));
  for (const t of PROXY_TYPE_NAMES) expect(LOAD_BALANCER_TYPES[t]).toEqual({ description: PROXY_TYPES[t].description, kind: 'keepalived+proxy', proxy: t, vipOnMasterLoopback: false });
  expect(Object.keys(LOAD_BALANCER_TYPES)).toEqual([...PROXY_TYPE_NAMES, 'lvs-dr', 'vip-only']);
});

test('the JSON Schema\'s enums are the records\' keys', () => {
  const defs = CLUSTER_SPEC_SCHEMA.definitions as Record<string, { enum?: string[]; properties?: Record<string, { enum?: string[] }> }>;
  expect(defs.LoadBalancerType.enum).toEqual(Object.keys(LOAD_BALANCER_TYPES));
  expect([...defs.WorkerProxySpec.properties!.type.enum!].sort()).toEqual([...PROXY_TYPE_NAMES].sort());
});

test('isProxyType takes the records\' keys only', () => {
  for (const t of PROXY_TYPE_NAMES) expect(isProxyType(t)).toBe(true);
  for (const v of ['lvs-dr', 'vip-only', 'HAProxy', 'toString', '__proto__', '', undefined, 1]) expect(isProxyType(v)).toBe(false);
});

test('the config paths are distinct, so two proxy types never share a file', () => {
  const paths = proxies.map(([, p]) => p.configPath);
  expect(new Set(paths).size).toBe(paths.length);
  const names = paths.map((p) => posix.basename(p));
  expect(new Set(names).size).toBe(names.length);
});

describe.each(proxies)('proxy type %s', (type, p) => {
  test('its record is complete: a pinned image, an absolute config path, a trackable process name', () => {
    expect(p.description).toMatch(/\S/);
    expect(p.image).toMatch(/^[a-z0-9.-]+(\/[a-z0-9._-]+)+:\d+\.\d+\.\d+[\w.-]*$/);
    expect(LB_IMAGES[type]).toBe(p.image);
    expect(posix.isAbsolute(p.configPath) && posix.normalize(p.configPath) === p.configPath).toBe(true);
    // keepalived reads the name from /proc/<pid>/status, which holds at most 15 characters.
    expect(p.process).toMatch(/^[\w.-]{1,15}$/);
  });

  test('its command runs that process in the foreground on the given config', () => {
    const cmd = p.command('/x/y.conf');
    expect(cmd[0]).toBe(p.process);
    expect(cmd).toContain('/x/y.conf');
  });

  test('it has a config check: the same daemon, on the given file', () => {
    const check = p.configCheck('/x/y.conf');
    expect(check[0]).toBe(p.command('/x/y.conf')[0]);
    expect(check).toContain('/x/y.conf');
    expect(check.length).toBeGreaterThan(2);
  });

  test('it renders a config that listens where asked and names every API server', () => {
    const text = p.render(CONFIG);
    expect(text.split('\n')[0]).toBe(generatedBy(posix.basename(p.configPath)));
    expect(text).toContain('7443');
    for (const b of CONFIG.backends) {
      expect(text).toContain(b.address);
      expect(text).toContain(String(b.port));
    }
    expect(text.endsWith('\n')).toBe(true);
    expect(p.render(CONFIG)).toBe(text);
  });

  test('as loadBalancer.type: every master runs it with its record\'s image, command and config, and keepalived tracks its process', () => {
    const s = haSpec({ loadBalancer: { type } });
    expect(planCluster(s).loadBalancer!.proxy).toEqual({ type, image: p.image });
    const bundles = render(s);
    expect([...bundles.keys()]).toEqual(s.masters.map((m) => m.name));
    for (const files of bundles.values()) {
      const manifest = parse(files.get(`etc/kubernetes/manifests/${type}.yaml`)!.content);
      const container = manifest.spec.containers[0];
      expect(container.image).toBe(p.image);
      expect(container.command).toEqual(p.command(p.configPath));
      expect(container.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ mountPath: p.configPath, readOnly: true })]));
      const config = files.get(p.configPath.slice(1))!.content;
      expect(config.split('\n')[0]).toBe(generatedBy(posix.basename(p.configPath)));
      for (const m of s.masters) expect(config).toContain(m.address);
      const keepalived = files.get('etc/keepalived/keepalived.conf')!.content;
      expect(keepalived).toMatch(new RegExp(`\\n  process ${p.process}\\n`));
      // No other proxy type's file or pod on the node.
      for (const other of PROXY_TYPE_NAMES.filter((o) => o !== type)) {
        expect(files.has(PROXY_TYPES[other].configPath.slice(1))).toBe(false);
        expect(files.has(`etc/kubernetes/manifests/${other}.yaml`)).toBe(false);
      }
    }
  });

  test('as workerProxy.type: every worker runs it on loopback with its config in kube-apiserver-proxy/', () => {
    const s = spec({ workers, workerProxy: { type } });
    expect(planCluster(s).workerProxy).toEqual(expect.objectContaining({ type, image: p.image }));
    const bundles = render(s);
    for (const w of workers) {
      const files = bundles.get(w.name)!;
      const path = `/etc/kubernetes/kube-apiserver-proxy/${posix.basename(p.configPath)}`;
      const container = parse(files.get('etc/kubernetes/manifests/kube-apiserver-proxy.yaml')!.content).spec.containers[0];
      expect(container.command).toEqual(p.command(path));
      expect(container.image).toBe(p.image);
      const config = files.get(path.slice(1))!.content;
      for (const a of ['127.0.0.1', '::1', ...s.masters.map((m) => m.address)]) expect(config).toContain(a);
    }
  });
});

describe.each(lbTypes)('load-balancer type %s', (type, lb) => {
  test('its record is consistent: a proxy exactly when its kind runs one', () => {
    expect(lb.description).toMatch(/\S/);
    expect(lb.proxy !== undefined).toBe(lb.kind === 'keepalived+proxy');
    if (lb.proxy !== undefined) expect(isProxyType(lb.proxy)).toBe(true);
  });

  test('plans and renders: keepalived on every LB node, its proxy beside it, the loopback VIP pod where the record says', () => {
    const s = SPEC_OF_KIND[lb.kind](type);
    const plan = planCluster(s);
    expect(plan.warnings).toEqual([]);
    expect(plan.loadBalancer!.type).toBe(type);
    expect(plan.loadBalancer!.proxy?.type).toBe(lb.proxy);
    const bundles = render(s);
    for (const n of plan.loadBalancer!.keepalived.nodes) {
      const files = bundles.get(n.name)!;
      expect(files.has('etc/kubernetes/manifests/keepalived.yaml')).toBe(true);
      const proxyPods = PROXY_TYPE_NAMES.filter((t: ProxyType) => files.has(`etc/kubernetes/manifests/${t}.yaml`));
      expect(proxyPods).toEqual(lb.proxy ? [lb.proxy] : []);
    }
    for (const m of s.masters) {
      expect(bundles.get(m.name)!.has('etc/kubernetes/manifests/lvs-dr-vip.yaml')).toBe(lb.vipOnMasterLoopback);
    }
  });
});
