/**
 * The real kubeadm of every supported minor reads each master's generated kubeadm-config.yaml
 * (`kubeadm config validate`), then writes the control-plane and local-etcd manifests for it (the
 * phases `kubeadm init` runs); ours must equal them byte for byte but for the deliberate differences
 * listed in test/fixtures/kubeadm-differences.yaml. Needs root (a private mount namespace) and the
 * kubeadm binaries of scripts/k8s-binaries.sh.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { ClusterSpec, loadSpecFile } from '../lib';
import { manifestYaml } from '../lib/bundle/app';
import { KUBERNETES_PROFILES } from '../lib/plan/versions';
import { toolVersions } from './harness/binaries';
import { kubeadmManifests } from './harness/kubeadm';
import { diffManifests, ManifestDifference } from './harness/manifest-diff';
import { render } from './util';

interface Difference {
  readonly what: string;
  readonly kubeadm: string;
  readonly here: string;
  readonly why: string;
  readonly match?: readonly { file: string; path: string; side?: 'ours' | 'kubeadm' }[];
  readonly tested?: string;
}

const DIFFERENCES: readonly Difference[] = parse(readFileSync(join(__dirname, 'fixtures', 'kubeadm-differences.yaml'), 'utf8'));
const KUBEADM_FILES = ['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml'];
const example = (f: string): ClusterSpec => loadSpecFile(join(__dirname, '..', 'examples', f));

/** The examples the issue names, and the two inputs kubeadm treats specially. */
const CASES: Record<string, ClusterSpec> = {
  'default (keepalived + haproxy)': example('keepalived-haproxy.yaml'),
  hardened: example('hardened.yaml'),
  'external etcd': example('external-etcd.yaml'),
  'external etcd, certificates outside the PKI directory': {
    ...example('external-etcd.yaml'),
    etcd: { external: { endpoints: ['https://10.0.1.21:2379'], caFile: '/etc/etcd/pki/ca.pem', certFile: '/etc/etcd/pki/client.pem', keyFile: '/etc/etcd/pki/client-key.pem' } },
  },
  'IPv6, 5 masters': example('stacked-5-ipv6.yaml'),
  'etcd metrics on another port': {
    ...example('stacked-3.yaml'),
    etcd: { local: { extraArgs: [{ name: 'listen-metrics-urls', value: 'http://0.0.0.0:2382' }] } },
  },
};

/** Which entry explains a difference, or undefined. */
function explain(d: ManifestDifference): Difference | undefined {
  const side = d.kubeadm === undefined ? 'ours' : d.ours === undefined ? 'kubeadm' : undefined;
  return DIFFERENCES.find((e) => e.match?.some((m) => new RegExp(m.file).test(d.file) && new RegExp(m.path).test(d.path) && (m.side === undefined || m.side === side)));
}

const explained = new Set<string>();

describe.each(KUBERNETES_PROFILES.map((p) => [p.minor, `v${p.latestPatch}`] as const))('kubeadm %s (%s)', (minor, version) => {
  test('is built by this project', () => {
    expect(toolVersions('k8s')).toContain(version);
  });

  test.each(Object.keys(CASES))('%s: kubeadm accepts the config and writes our manifests', (name) => {
    const spec = { ...CASES[name], kubernetesVersion: minor };
    const bundles = render(spec);
    const masters = [spec.masters[0], spec.masters[spec.masters.length - 1]];
    const unexplained: string[] = [];
    for (const m of masters) {
      const files = bundles.get(m.name)!;
      const config = files.get('etc/kubernetes/kubeadm-config.yaml')!.content;
      const local = !spec.etcd?.external;
      const real = kubeadmManifests(version, config, local);
      const ours = new Map([...files].filter(([p]) => KUBEADM_FILES.some((f) => p === `etc/kubernetes/manifests/${f}`)).map(([p, f]) => [p.split('/').pop()!, f.content]));
      expect([...real.manifests.keys()].sort()).toEqual([...ours.keys()].sort());
      for (const [file, text] of real.manifests) {
        // Our serializer writes kubeadm's bytes for the same content: structural equality is byte equality.
        expect(manifestYaml(parse(text))).toBe(text);
        expect(manifestYaml(parse(ours.get(file)!))).toBe(ours.get(file));
        for (const d of diffManifests(file, parse(text), parse(ours.get(file)!))) {
          const e = explain(d);
          if (e) explained.add(e.what);
          else unexplained.push(`${m.name} ${d.file} ${d.path}: kubeadm ${JSON.stringify(d.kubeadm)}, ours ${JSON.stringify(d.ours)}`);
        }
      }
    }
    expect(unexplained).toEqual([]);
  });
});

describe('the list of differences', () => {
  test('every entry with a match explained at least one real difference (none is stale)', () => {
    const stale = DIFFERENCES.filter((e) => e.match && !explained.has(e.what)).map((e) => e.what);
    expect(stale).toEqual([]);
    expect(explained.size).toBeGreaterThan(0);
  });

  test('every entry says how it is held: a match or the test that holds it', () => {
    for (const e of DIFFERENCES) expect(Boolean(e.match) || Boolean(e.tested)).toBe(true);
  });

  test('the README table lists exactly these entries, in order', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const section = readme.split('\n## Differences from kubeadm\n')[1].split('\n## ')[0];
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| what |'));
    expect(rows).toEqual(DIFFERENCES.map((e) => `| ${e.what} | ${e.kubeadm} | ${e.here} | ${e.why} |`));
  });
});
