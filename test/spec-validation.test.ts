import { planCluster, SpecError } from '../lib';
import { validateSpec } from '../lib/plan/validate';
import { KUBERNETES_PROFILES } from '../lib/plan/versions';
import { spec } from './util';

function errorOf(input: unknown): SpecError {
  try {
    planCluster(input as any);
  } catch (e) {
    if (e instanceof SpecError) return e;
    throw new Error(`expected a SpecError, got ${String(e)}`);
  }
  throw new Error('expected a SpecError, got none');
}

describe('invalid specs fail with the field, the value and the fix', () => {
  const cases: [string, any, RegExp][] = [
    ['not an object', 42, /\(spec\): 42 is not a mapping \(fix: write a mapping with name, controlPlaneEndpoint and masters\)/],
    ['bad name', spec({ name: 'Prod_1' }), /name: "Prod_1" is not a DNS label/],
    ['unsupported version', spec({ kubernetesVersion: '1.32' }), /kubernetesVersion: "1\.32" is not a supported Kubernetes version \(fix: use one of 1\.33, 1\.34, 1\.35, 1\.36, 1\.37/],
    ['garbage version', spec({ kubernetesVersion: 'latest' }), /kubernetesVersion: "latest"/],
    ['missing endpoint', { ...spec(), controlPlaneEndpoint: undefined }, /controlPlaneEndpoint: undefined is missing/],
    ['bad endpoint host', spec({ controlPlaneEndpoint: { host: 'not a host!' } }), /controlPlaneEndpoint\.host: "not a host!"/],
    ['bad endpoint port', spec({ controlPlaneEndpoint: { host: '10.0.0.1', port: 70000 } }), /controlPlaneEndpoint\.port: 70000 is not a TCP port/],
    ['no masters', spec({ masters: [] }), /masters: \[\] must be a non-empty list/],
    ['bad address', spec({ masters: [{ name: 'a', address: '10.0.0.300' }] }), /masters\[0\]\.address: "10\.0\.0\.300" is not an IPv4\/IPv6 address/],
    ['duplicate name', spec({ masters: [{ name: 'a', address: '10.0.0.1' }, { name: 'a', address: '10.0.0.2' }, { name: 'c', address: '10.0.0.3' }] }), /masters\[1\]\.name: "a" is the same as masters\[0\]\.name/],
    ['duplicate address', spec({ masters: [{ name: 'a', address: '10.0.0.1' }, { name: 'b', address: '10.0.0.1' }, { name: 'c', address: '10.0.0.3' }] }), /masters\[1\]\.address: "10\.0\.0\.1" is the same as masters\[0\]\.address/],
    ['mixed families', spec({ masters: [{ name: 'a', address: '10.0.0.1' }, { name: 'b', address: 'fd00::2' }, { name: 'c', address: '10.0.0.3' }] }), /masters: .* mix IPv4 and IPv6/],
    ['bad etcd state', spec({ masters: [{ name: 'a', address: '10.0.0.1', etcdState: 'joining' as any }] }), /masters\[0\]\.etcdState: "joining"/],
    ['all existing', spec({ masters: [{ name: 'a', address: '10.0.0.1', etcdState: 'existing' }] }), /no member starts the cluster/],
    ['a lone replacement', spec({ masters: [{ name: 'a', address: '10.0.0.1', etcdState: 'replacement' }] }), /masters\[0\]\.etcdState: "replacement" joins a running cluster, but it is the only master: there is no member to join \(fix: use "new"/],
    ['bad subnet', spec({ networking: { serviceSubnet: '10.96.0.0/33' } }), /networking\.serviceSubnet: "10\.96\.0\.0\/33" is not a CIDR/],
    ['overlapping subnets', spec({ networking: { serviceSubnet: '10.96.0.0/12', podSubnet: '10.100.0.0/16' } }), /networking\.podSubnet: "10\.100\.0\.0\/16" overlaps networking\.serviceSubnet/],
    ['pod subnet overlapping the default service subnet', spec({ networking: { podSubnet: '10.96.0.0/16' } }), /networking\.podSubnet: "10\.96\.0\.0\/16" overlaps networking\.serviceSubnet \(default 10\.96\.0\.0\/12\)/],
    ['IPv6 zone id', spec({ masters: [{ name: 'a', address: 'fe80::1%eth0' }] }), /masters\[0\]\.address: "fe80::1%eth0" is not an IPv4\/IPv6 address/],
    ['bad dns domain', spec({ networking: { dnsDomain: 'Cluster Local' } }), /networking\.dnsDomain/],
    ['relative certificatesDir', spec({ certificatesDir: 'pki' }), /certificatesDir: "pki" is not an absolute path/],
    ['local and external etcd', spec({ etcd: { local: {}, external: { endpoints: ['https://a:2379'], caFile: '/a', certFile: '/b', keyFile: '/c' } } }), /etcd: .* sets both local and external/],
    ['bad external endpoint', spec({ etcd: { external: { endpoints: ['10.0.0.1:2379'], caFile: '/a', certFile: '/b', keyFile: '/c' } } }), /etcd\.external\.endpoints\[0\]: "10\.0\.0\.1:2379" is not an etcd client URL/],
    ['unsupported etcd version', spec({ etcd: { local: { version: '3.3.0' } } }), /etcd\.local\.version: "3\.3\.0" is not a supported etcd version/],
    ['unknown component field', spec({ apiServer: { extraArg: [] } as any }), /apiServer\.extraArg: \[\] is not a known field/],
    ['extra arg with dashes', spec({ apiServer: { extraArgs: [{ name: '--v', value: '2' }] } }), /apiServer\.extraArgs\[0\]: .*\(fix: write the flag name without dashes/],
    ['numeric extra arg value', spec({ apiServer: { extraArgs: [{ name: 'v', value: 2 as any }] } }), /apiServer\.extraArgs\[0\]\.value: 2 is not a string/],
    ['bad bind port', spec({ apiServer: { bindPort: 0 } }), /apiServer\.bindPort: 0 is not a TCP port/],
    ['volume without source', spec({ apiServer: { extraVolumes: [{ name: 'v', mountPath: '/v' }] } }), /apiServer\.extraVolumes\[0\]: .* needs exactly one of hostPath and emptyDir/],
    ['env with value and valueFrom', spec({ apiServer: { extraEnvs: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'x' } } }] } }), /apiServer\.extraEnvs\[0\]: .* needs exactly one of value and valueFrom/],
  ];

  test.each(cases)('%s', (_name, input, message) => {
    const e = errorOf(input);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/\(fix: .+\)$/m);
    expect(e.issues.length).toBeGreaterThan(0);
  });

  test('reports every problem at once: all schema problems, then (once they are fixed) all semantic ones', () => {
    const schema = errorOf({ name: 'X', controlPlaneEndpoint: { host: '', port: -1 }, masters: [{ name: 'a', address: 'nope', role: 'master' }] });
    expect(schema.issues.map((i) => i.path)).toEqual(['controlPlaneEndpoint.port', 'masters[0].role']);
    expect(schema.message).toMatch(/invalid cluster spec \(2 problems\)/);
    const semantic = errorOf({ name: 'X', controlPlaneEndpoint: { host: '', port: 6443 }, masters: [{ name: 'a', address: 'nope' }] });
    expect(semantic.issues.map((i) => i.path)).toEqual(['name', 'controlPlaneEndpoint.host', 'masters[0].address']);
    expect(semantic.message).toMatch(/invalid cluster spec \(3 problems\)/);
  });

  test('semantic rules never see data that failed the schema (no follow-on errors, no crash)', () => {
    // masters of the wrong type: one error about masters, not about the priorities that count them.
    expect(validateSpec({ ...spec(), masters: 5 }).errors.map((i) => i.path)).toEqual(['masters']);
    expect(validateSpec({ ...spec(), masters: [{ name: 'a', address: 5 }] }).errors.map((i) => `${i.path}: ${i.problem}`)).toEqual(['masters[0].address: is not a string']);
  });
});

describe('warnings', () => {
  test('an even number of stacked etcd members', () => {
    const w = validateSpec(spec({ masters: [{ name: 'a', address: '10.0.0.1' }, { name: 'b', address: '10.0.0.2' }] })).warnings;
    expect(w.map((x) => x.path)).toEqual(['masters']);
    expect(w[0].problem).toMatch(/even number of etcd members/);
  });

  test('an endpoint that is one master\'s address', () => {
    const w = validateSpec(spec({ controlPlaneEndpoint: { host: '192.168.10.11' } })).warnings;
    expect(w.map((x) => x.path)).toContain('controlPlaneEndpoint.host');
  });

  test('the default example has none', () => {
    expect(validateSpec(spec())).toEqual({ errors: [], warnings: [] });
  });
});

describe('API-object references: refused on every minor, for that minor\'s reason (versions.ts staticPodApiReferences)', () => {
  const secretVolume = { apiServer: { extraVolumes: [{ name: 's', mountPath: '/s', secret: { secretName: 'x' } }] } } as any;
  const mirror = 'the API server refuses its mirror pod \\(NodeRestriction\\), so the node may not read the object';
  const reasons: Record<string, RegExp> = {
    // 1.33: the kubelet checks only ClusterTrustBundle projections and ResourceClaims.
    '1.33': new RegExp(`secret volume, which a static pod cannot use: the kubelet 1\\.33 runs the manifest, but ${mirror} \\(fix:`),
    // 1.34-1.36: the beta gate PreventStaticPodAPIReferences, on by default, can be turned off.
    '1.34': new RegExp(`cannot use: the kubelet 1\\.34 refuses the manifest \\(feature gate PreventStaticPodAPIReferences, on by default\\); with the gate off, ${mirror} \\(fix:`),
    '1.35': new RegExp(`cannot use: the kubelet 1\\.35 refuses the manifest \\(feature gate PreventStaticPodAPIReferences, on by default\\); with the gate off, ${mirror} \\(fix:`),
    '1.36': new RegExp(`cannot use: the kubelet 1\\.36 refuses the manifest \\(feature gate PreventStaticPodAPIReferences, on by default\\); with the gate off, ${mirror} \\(fix:`),
    // 1.37: the gate is gone, the refusal unconditional.
    '1.37': /secret volume, which a static pod cannot use: the kubelet 1\.37 refuses the manifest \(fix:/,
  };

  test('every supported minor has its reason here', () => {
    expect(Object.keys(reasons)).toEqual(KUBERNETES_PROFILES.map((p) => p.minor));
  });

  test.each(KUBERNETES_PROFILES.map((p) => p.minor))('%s (the minor and a full version of it)', (minor) => {
    const patch = KUBERNETES_PROFILES.find((p) => p.minor === minor)!.latestPatch;
    for (const kubernetesVersion of [minor, patch]) {
      const e = errorOf(spec({ kubernetesVersion, ...secretVolume }));
      expect(e.issues.map((i) => i.path)).toEqual(['apiServer.extraVolumes[0].secret']);
      expect(e.message).toMatch(reasons[minor]);
    }
  });

  test('the same reason for a ServiceAccount, envFrom and a secretKeyRef; without a version, the default minor\'s; with an unsupported one, that error and the default minor\'s reason', () => {
    const e = errorOf(spec({
      kubernetesVersion: '1.35',
      scheduler: { serviceAccountName: 'x', envFrom: [], extraEnvs: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] } as any,
    }));
    expect(e.issues.map((i) => i.path)).toEqual(['scheduler.serviceAccountName', 'scheduler.envFrom', 'scheduler.extraEnvs[0].valueFrom.secretKeyRef']);
    for (const i of e.issues) expect(i.problem).toMatch(/which a static pod cannot use: the kubelet 1\.35 refuses the manifest \(feature gate PreventStaticPodAPIReferences/);
    const { kubernetesVersion: _, ...noVersion } = spec(secretVolume);
    expect(errorOf(noVersion).message).toMatch(reasons['1.37']);
    // The secret volume is a schema problem, reported alone (the version is a semantic one, reported once the schema passes).
    const unsupported = errorOf(spec({ kubernetesVersion: '1.32', ...secretVolume }));
    expect(unsupported.issues.map((i) => i.path)).toEqual(['apiServer.extraVolumes[0].secret']);
    expect(unsupported.message).toMatch(reasons['1.37']);
  });
});
