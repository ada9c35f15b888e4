import { Pod } from 'kubernetes-models/v1/Pod';
import { parse } from 'yaml';
import { ClusterSpec } from '../lib';
import { render, spec } from './util';

/** Every generated Pod, across versions and topologies, validated against the Kubernetes Pod schema. */
const SPECS: [string, ClusterSpec][] = [
  ...['1.33', '1.34', '1.35', '1.36', '1.37'].map((v): [string, ClusterSpec] => [`stacked ${v}`, spec({ kubernetesVersion: v })]),
  ['5 masters, IPv6', spec({
    controlPlaneEndpoint: { host: 'fd00::100' },
    masters: [1, 2, 3, 4, 5].map((i) => ({ name: `m${i}`, address: `fd00::${i}` })),
    networking: { serviceSubnet: 'fd00:96::/112', podSubnet: 'fd00:244::/56' },
  })],
  ...['1.33', '1.37'].map((v): [string, ClusterSpec] => [`hardened ${v}`, spec({ kubernetesVersion: v, security: { profile: 'hardened' } })]),
  ['external etcd', spec({ etcd: { external: { endpoints: ['https://10.9.0.1:2379'], caFile: '/e/ca.crt', certFile: '/e/c.crt', keyFile: '/e/c.key' } } })],
  ['escape hatches', spec({
    apiServer: {
      extraArgs: [{ name: 'audit-log-path', value: '/var/log/kubernetes/audit.log' }],
      extraVolumes: [
        { name: 'audit-log', hostPath: '/var/log/kubernetes', mountPath: '/var/log/kubernetes', pathType: 'DirectoryOrCreate' },
        { name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' }, mountPath: '/scratch' },
      ],
      extraEnvs: [{ name: 'GOMAXPROCS', value: '4' }, { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
    },
  })],
];

function validatePod(obj: unknown): void {
  new Pod(obj as ConstructorParameters<typeof Pod>[0]).validate();
}

describe('generated Pods validate against the Kubernetes Pod schema (kubernetes-models)', () => {
  test.each(SPECS)('%s', (_name, s) => {
    let count = 0;
    for (const files of render(s).values()) {
      for (const [path, f] of files) {
        if (!path.startsWith('etc/kubernetes/manifests/')) continue;
        const obj = parse(f.content);
        expect(() => validatePod(obj)).not.toThrow();
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(s.etcd?.external ? 3 * s.masters.length : 4 * s.masters.length);
  });

  test('the validator rejects a broken Pod (it can fail)', () => {
    const obj = parse(render(spec()).get('master-1')!.get('etc/kubernetes/manifests/etcd.yaml')!.content);
    obj.spec.hostNetwork = 'yes';
    expect(() => validatePod(obj)).toThrow(/hostNetwork must be boolean/);
    const obj2 = parse(render(spec()).get('master-1')!.get('etc/kubernetes/manifests/etcd.yaml')!.content);
    obj2.spec.containers[0].ports[0].containerPort = '2381';
    expect(() => validatePod(obj2)).toThrow(/containerPort must be integer/);
  });
});
