/**
 * Validate once (issue #17): the JSON Schema check runs first and the semantic rules only on data that
 * passed it. For every field of a spec that sets every field, a value of the wrong kind gives exactly the
 * schema's answer: one issue at that field (or a field under it), with a fix, and nothing from the
 * semantic rules (which read typed data and would otherwise add follow-on errors or crash).
 */
import { stringify } from 'yaml';
import { readSpec, SpecError, SpecIssue } from '../lib';
import { apiReferenceReasonOf, validateSpec } from '../lib/plan/validate';
import { checkSchema } from '../lib/spec/schema-check';
import { formatPath } from '../lib/spec/source';
import { ClusterSpec } from '../lib/spec/types';

/** A valid spec that sets every field of the schema at least once (external etcd aside). */
const FULL: ClusterSpec = {
  name: 'prod',
  kubernetesVersion: '1.37',
  controlPlaneEndpoint: { host: '192.168.10.100', port: 8443 },
  masters: [{ name: 'm1', address: '192.168.10.11', etcdState: 'new' }, { name: 'm2', address: '192.168.10.12' }, { name: 'm3', address: '192.168.10.13' }],
  networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '10.244.0.0/16', dnsDomain: 'cluster.local' },
  imageRepository: 'registry.k8s.io',
  certificatesDir: '/etc/kubernetes/pki',
  clusterName: 'kubernetes',
  caCertificatePaths: ['/etc/pki'],
  etcd: { local: { imageTag: '3.6.8-0', dataDir: '/var/lib/etcd', extraArgs: [{ name: 'v', value: '2' }] } },
  apiServer: {
    bindPort: 6443,
    certSANs: ['api.example.com'],
    extraArgs: [{ name: 'v', value: '2' }],
    extraVolumes: [{ name: 'a', hostPath: '/a', mountPath: '/a', pathType: 'Directory', readOnly: true }, { name: 'e', mountPath: '/e', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }],
    extraEnvs: [{ name: 'A', value: 'b' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'status.podIP', apiVersion: 'v1' } } }],
    image: 'registry.example.com/kube-apiserver:v1.37.2',
  },
  controllerManager: { extraArgs: [] },
  scheduler: {},
  loadBalancer: { type: 'haproxy', healthCheckPath: '/readyz', checkIntervalMs: 500, fall: 2, rise: 2, idleTimeoutSeconds: 3600, image: 'haproxy:3.2' },
  keepalived: { interface: 'eth0', virtualRouterId: 51, vrrpVersion: 3, advertIntervalMs: 100, peering: 'unicast', priorities: [150, 100, 50], vipPrefixLength: 24, image: 'keepalived:2.3' },
  workers: [{ name: 'w1', address: '192.168.10.31' }],
  workerProxy: { type: 'haproxy', port: 6443, image: 'haproxy:3.2' },
  security: { profile: 'kubeadm' },
  pki: { mode: 'kubeadm', dir: 'state', keyAlgorithm: 'RSA-2048', certificateValidityDays: 365, caCertificateValidityDays: 3650, renewBeforeDays: 30, backdateMinutes: 5 },
};

type Path = (string | number)[];

/** Every path to a value in the spec (the root excluded). */
function paths(o: unknown, p: Path = []): Path[] {
  if (o === null || typeof o !== 'object') return [];
  return Object.entries(o).flatMap(([k, v]) => {
    const q = [...p, Array.isArray(o) ? Number(k) : k];
    return [q, ...paths(v, q)];
  });
}

function withValue(path: Path, value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(FULL)) as Record<string | number, unknown>;
  let cur = copy;
  for (const s of path.slice(0, -1)) cur = cur[s] as Record<string | number, unknown>;
  cur[path[path.length - 1]] = value;
  return copy;
}

/** A value of another kind than the one at the path (a mapping for a scalar or a list, a number for a mapping...). */
function wrongKinds(current: unknown): unknown[] {
  if (Array.isArray(current)) return [{ a: 1 }, 'x', null];
  if (typeof current === 'object' && current !== null) return [['x'], 5, null];
  if (typeof current === 'string') return [{ a: 1 }, ['x'], null];
  return [{ a: 1 }, ['x'], 'x', null];
}

const isUnder = (issue: string, field: string) => issue === field || issue.startsWith(`${field}.`) || issue.startsWith(`${field}[`);

const cases = paths(FULL).flatMap((p) => {
  const current = p.reduce<unknown>((c, s) => (c as Record<string | number, unknown>)[s], FULL);
  return wrongKinds(current).map((v) => [formatPath(p), v, withValue(p, v)] as [string, unknown, unknown]);
});

test('the spec is valid and the cases cover the schema (the check is not vacuous)', () => {
  expect(validateSpec(FULL)).toEqual({ errors: [], warnings: [] });
  expect(cases.length).toBeGreaterThan(250);
});

describe.each(cases)('%s = %j', (field, _value, data) => {
  test('validateSpec: the schema\'s issues only, each at or under the field, one per path, each with a fix', () => {
    const { errors, warnings } = validateSpec(data);
    expect(errors.length).toBeGreaterThan(0);
    expect(warnings).toEqual([]);
    expect(errors.map((e) => e.path).filter((p) => !isUnder(p, field))).toEqual([]);
    expect(new Set(errors.map((e) => e.path)).size).toBe(errors.length);
    for (const e of errors) expect(e.fix).toMatch(/\S/);
    // Exactly what the schema check says: no semantic rule ran on this data.
    expect(errors.map((e) => `${e.path}: ${e.problem}`)).toEqual(checkSchema(data, apiReferenceReasonOf(data)).map((i) => `${formatPath(i.segments)}: ${i.problem}`));
  });

  test('readSpec: the same issues, located in the file', () => {
    let issues: readonly SpecIssue[] = [];
    try {
      readSpec(stringify(data), 'c.yaml');
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      issues = e.issues;
    }
    expect(issues.map((i) => i.path).sort()).toEqual(validateSpec(data).errors.map((i) => i.path).sort());
    for (const i of issues) expect(i.location).toEqual(expect.objectContaining({ file: 'c.yaml' }));
  });
});
