/**
 * Generated PKI in the bundles: each node gets exactly what it needs, with kubeadm's modes; the
 * manifests are the same as with kubeadm-made certificates; snapshots hold no key material.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { ClusterSpec, HaControlPlane, PreparedPki, preparePki, SpecError, StaticPodApp } from '../lib';
import { haSpec, render } from './util';

const NOW = new Date('2026-06-01T12:00:00Z');
let dir = '';
let pki: PreparedPki;
const s: ClusterSpec = haSpec({
  pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' },
  workers: [{ name: 'worker-1', address: '192.168.10.21' }],
  workerProxy: { type: 'nginx' },
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hacp-pki-bundle-'));
  pki = await preparePki(s, { dir, now: NOW });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Replaces PEM bodies and embedded base64 data with a marker, so snapshots hold no key material. */
function mask(text: string): string {
  return text
    .replace(/(-----BEGIN [A-Z ]+-----\n)[\s\S]*?(\n-----END [A-Z ]+-----)/g, '$1<masked>$2')
    .replace(/(-data: )\S+/g, '$1<masked>');
}

const pkiPaths = (files: Map<string, { content: string; mode: number }>) => [...files]
  .filter(([p]) => /^etc\/kubernetes\/(pki\/|[a-z-]+\.conf$|ha-control-plane-rbac)/.test(p))
  .sort(([a], [b]) => a.localeCompare(b)).map(([p, f]) => `${f.mode.toString(8)} /${p}`);

test('the first master: CA certificates, ca.key, sa pair, its own certificates and the five kubeconfigs, modes as kubeadm', () => {
  expect(pkiPaths(render(s, pki).get('master-1')!)).toEqual([
    '600 /etc/kubernetes/admin.conf',
    '600 /etc/kubernetes/controller-manager.conf',
    '644 /etc/kubernetes/ha-control-plane-rbac.yaml',
    '600 /etc/kubernetes/kubelet.conf',
    '644 /etc/kubernetes/pki/apiserver-etcd-client.crt', '600 /etc/kubernetes/pki/apiserver-etcd-client.key',
    '644 /etc/kubernetes/pki/apiserver-kubelet-client.crt', '600 /etc/kubernetes/pki/apiserver-kubelet-client.key',
    '644 /etc/kubernetes/pki/apiserver.crt', '600 /etc/kubernetes/pki/apiserver.key',
    '644 /etc/kubernetes/pki/ca.crt', '600 /etc/kubernetes/pki/ca.key',
    '644 /etc/kubernetes/pki/etcd/ca.crt',
    '644 /etc/kubernetes/pki/etcd/healthcheck-client.crt', '600 /etc/kubernetes/pki/etcd/healthcheck-client.key',
    '644 /etc/kubernetes/pki/etcd/peer.crt', '600 /etc/kubernetes/pki/etcd/peer.key',
    '644 /etc/kubernetes/pki/etcd/server.crt', '600 /etc/kubernetes/pki/etcd/server.key',
    '644 /etc/kubernetes/pki/front-proxy-ca.crt',
    '644 /etc/kubernetes/pki/front-proxy-client.crt', '600 /etc/kubernetes/pki/front-proxy-client.key',
    '600 /etc/kubernetes/pki/sa.key', '600 /etc/kubernetes/pki/sa.pub',
    '600 /etc/kubernetes/scheduler.conf',
    '600 /etc/kubernetes/super-admin.conf',
  ]);
});

test('other masters: no super-admin.conf and no RBAC manifest; nowhere the front-proxy or etcd CA keys', () => {
  const b = render(s, pki);
  const m2 = pkiPaths(b.get('master-2')!);
  expect(m2).not.toContain('600 /etc/kubernetes/super-admin.conf');
  expect(m2).not.toContain('644 /etc/kubernetes/ha-control-plane-rbac.yaml');
  expect(m2).toHaveLength(pkiPaths(b.get('master-1')!).length - 2);
  for (const [node, files] of b) {
    expect({ node, found: [...files.keys()].filter((p) => /(front-proxy-ca|etcd\/ca)\.key$/.test(p)) }).toEqual({ node, found: [] });
  }
});

test('a worker with a local proxy gets the cluster CA certificate and its kubelet.conf through the proxy, and no key file', () => {
  const w = render(s, pki).get('worker-1')!;
  expect(pkiPaths(w)).toEqual(['600 /etc/kubernetes/kubelet.conf', '644 /etc/kubernetes/pki/ca.crt']);
  expect([...w.keys()].filter((p) => p.endsWith('.key'))).toEqual([]);
  const k = parse(w.get('etc/kubernetes/kubelet.conf')!.content);
  expect(k.clusters[0].cluster.server).toBe('https://localhost:6443');
  expect(k.users[0].name).toBe('system:node:worker-1');
});

test('the manifests and host files are the same as with kubeadm-made certificates; the kubeadm config says not to run the phases', () => {
  const withPki = render(s, pki);
  const kubeadm = render({ ...s, pki: { mode: 'kubeadm' } });
  const config = 'etc/kubernetes/kubeadm-config.yaml';
  for (const [node, files] of kubeadm) {
    for (const [p, f] of files) {
      if (p === config) continue;
      expect({ node, p, content: withPki.get(node)!.get(p)?.content }).toEqual({ node, p, content: f.content });
    }
  }
  const ours = withPki.get('master-1')!.get(config)!.content;
  expect(ours).toContain('# Certificates and kubeconfigs ship in this bundle (pki.mode generate)');
  expect(ours).not.toContain('kubeadm init phase certs all');
  expect(ours.split('\n').filter((l) => !l.startsWith('#'))).toEqual(kubeadm.get('master-1')!.get(config)!.content.split('\n').filter((l) => !l.startsWith('#')));
});

test('the RBAC manifest: kubeadm\'s bindings and the command to apply it', () => {
  const text = render(s, pki).get('master-1')!.get('etc/kubernetes/ha-control-plane-rbac.yaml')!.content;
  const docs = text.split(/^---$/m).map((d) => parse(d));
  expect(docs.map((d) => [d.kind, d.metadata.name, d.roleRef.name, d.subjects[0].kind, d.subjects[0].name])).toEqual([
    ['ClusterRoleBinding', 'kubeadm:cluster-admins', 'cluster-admin', 'Group', 'kubeadm:cluster-admins'],
    ['ClusterRoleBinding', 'kubeadm:apiserver-kubelet-client', 'system:kubelet-api-admin', 'User', 'kube-apiserver-kubelet-client'],
    ['ClusterRoleBinding', 'kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'Group', 'system:nodes'],
  ]);
  expect(text).toContain('#   kubectl --kubeconfig /etc/kubernetes/super-admin.conf apply -f /etc/kubernetes/ha-control-plane-rbac.yaml');
  expect(pki.rbacApplyCommand).toBe('kubectl --kubeconfig /etc/kubernetes/super-admin.conf apply -f /etc/kubernetes/ha-control-plane-rbac.yaml');
});

test('before the 1.36.1 backport the RBAC manifest has no kubeadm:apiserver-kubelet-client binding', async () => {
  const old = { ...s, kubernetesVersion: '1.36.0' };
  const p = await preparePki(old, { dir: join(dir, 'old'), now: NOW });
  const text = render(old, p).get('master-1')!.get('etc/kubernetes/ha-control-plane-rbac.yaml')!.content;
  expect(text).not.toContain('kubeadm:apiserver-kubelet-client');
  expect(text).toContain('kubeadm:cluster-admins');
});

test('snapshot of master-1\'s admin.conf and etcd server certificate, key material masked', () => {
  const m1 = render(s, pki).get('master-1')!;
  const snap = ['etc/kubernetes/admin.conf', 'etc/kubernetes/pki/etcd/server.crt', 'etc/kubernetes/pki/etcd/server.key']
    .map((p) => `# /${p}\n${mask(m1.get(p)!.content)}`).join('\n');
  expect(snap).not.toMatch(/[A-Za-z0-9+/=]{40}/);
  expect(snap).toContain('-----BEGIN EC PRIVATE KEY-----\n<masked>\n-----END EC PRIVATE KEY-----');
  expect(snap).toMatchSnapshot();
});

test('fails when pki.mode is generate and no PKI is passed, or a PKI is passed in kubeadm mode', () => {
  const build = (spec: ClusterSpec, p?: PreparedPki) => () => new HaControlPlane(new StaticPodApp({ reporter: false, outdir: '/nonexistent' }), spec.name, { spec, pki: p });
  expect(build(s)).toThrow(SpecError);
  expect(build(s)).toThrow(/pki\.mode: "generate" needs the generated PKI, which was not passed \(fix: const pki = await preparePki\(spec\)/);
  expect(build({ ...s, pki: { mode: 'kubeadm' } }, pki)).toThrow(/pki\.mode: "kubeadm" is kubeadm but a generated PKI was passed/);
  expect(build({ ...s, name: 'other' }, pki)).toThrow(/does not match the cluster the PKI was prepared for \(example\)/);
});
