import { SpecError } from '../lib';
import { flags, pod, render, spec } from './util';

describe('extra args', () => {
  test('override a default in place of it and add new flags after the sorted defaults, in the user\'s order', () => {
    const p = pod(spec({
      apiServer: { extraArgs: [{ name: 'v', value: '2' }, { name: 'authorization-mode', value: 'Node,RBAC,Webhook' }, { name: 'audit-log-maxage', value: '30' }] },
    }), 'kube-apiserver');
    const cmd: string[] = p.spec.containers[0].command;
    expect(cmd.slice(-3)).toEqual(['--v=2', '--authorization-mode=Node,RBAC,Webhook', '--audit-log-maxage=30']);
    expect(cmd.filter((a) => a.startsWith('--authorization-mode='))).toHaveLength(1);
    // The library's own flag (an extraArg too) comes before the user's.
    expect(cmd.at(-4)).toBe('--shutdown-watch-termination-grace-period=5s');
    const defaults = cmd.slice(1, -4).map((a) => a.split('=')[0]);
    expect(defaults).toEqual([...defaults].sort());
  });

  test('apply per component (etcd, controller manager, scheduler)', () => {
    const s = spec({
      etcd: { local: { extraArgs: [{ name: 'quota-backend-bytes', value: '8589934592' }] } },
      controllerManager: { extraArgs: [{ name: 'node-monitor-grace-period', value: '20s' }] },
      scheduler: { extraArgs: [{ name: 'bind-address', value: '0.0.0.0' }] },
    });
    expect(flags(pod(s, 'etcd'))['quota-backend-bytes']).toBe('8589934592');
    expect(flags(pod(s, 'kube-controller-manager'))['node-monitor-grace-period']).toBe('20s');
    const sched = pod(s, 'kube-scheduler');
    expect(flags(sched)['bind-address']).toBe('0.0.0.0');
    // A wildcard bind address is still probed on loopback.
    expect(sched.spec.containers[0].livenessProbe.httpGet.host).toBe('127.0.0.1');
  });
});

describe('extra volumes and env', () => {
  const s = spec({
    apiServer: {
      extraVolumes: [
        { name: 'audit', hostPath: '/etc/kubernetes/audit-policy.yaml', mountPath: '/etc/kubernetes/audit-policy.yaml', pathType: 'File', readOnly: true },
        { name: 'tmp', emptyDir: {}, mountPath: '/tmp' },
      ],
      extraEnvs: [{ name: 'GODEBUG', value: 'x509sha1=1' }, { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
    },
  });
  const c = pod(s, 'kube-apiserver').spec;

  test('hostPath and emptyDir volumes are added, sorted with the defaults', () => {
    expect(c.volumes).toContainEqual({ name: 'audit', hostPath: { path: '/etc/kubernetes/audit-policy.yaml', type: 'File' } });
    expect(c.volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
    expect(c.containers[0].volumeMounts).toContainEqual({ name: 'audit', mountPath: '/etc/kubernetes/audit-policy.yaml', readOnly: true });
    expect(c.containers[0].volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    const names = c.volumes.map((v: any) => v.name);
    expect(names).toEqual([...names].sort());
  });

  test('literal and downward-API env', () => {
    expect(c.containers[0].env).toEqual([
      { name: 'GODEBUG', value: 'x509sha1=1' },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ]);
  });

  test('an emptyDir\'s sizeLimit and a resourceFieldRef\'s divisor reach the manifest as given (cdk8s-plus-27\'s KubePod dropped them: it expects Quantity objects there)', () => {
    const p = pod(spec({
      apiServer: {
        extraVolumes: [{ name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' }, mountPath: '/scratch' }],
        extraEnvs: [{ name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } }],
      },
    }), 'kube-apiserver').spec;
    expect(p.volumes).toContainEqual({ name: 'scratch', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } });
    expect(p.containers[0].env).toEqual([{ name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } }]);
  });

  test('a volume name or mount path the component already uses is a spec error naming the extra volume', () => {
    expect(() => render(spec({ apiServer: { extraVolumes: [{ name: 'k8s-certs', hostPath: '/x', mountPath: '/x' }] } })))
      .toThrow(/apiServer\.extraVolumes\[0\]\.name: "k8s-certs" is already used by kube-apiserver's own volume "k8s-certs".*fix: choose another volume name/);
    expect(() => render(spec({ scheduler: { extraVolumes: [{ name: 'other', hostPath: '/x', mountPath: '/etc/kubernetes/scheduler.conf' }] } })))
      .toThrow(SpecError);
    expect(() => render(spec({ scheduler: { extraVolumes: [{ name: 'other', hostPath: '/x', mountPath: '/etc/kubernetes/scheduler.conf' }] } })))
      .toThrow(/scheduler\.extraVolumes\[0\]\.mountPath: "\/etc\/kubernetes\/scheduler\.conf" is already used/);
    expect(() => render(spec({ etcd: { local: { extraVolumes: [{ name: 'etcd-data', emptyDir: {}, mountPath: '/d' }] } } })))
      .toThrow(/etcd\.local\.extraVolumes\[0\]\.name: "etcd-data"/);
  });
});

describe('API-object references a static pod cannot use are rejected, naming the field', () => {
  const cases: [string, any, RegExp][] = [
    ['secret volume', { apiServer: { extraVolumes: [{ name: 's', mountPath: '/s', secret: { secretName: 'x' } }] } }, /apiServer\.extraVolumes\[0\]\.secret: .*static pod cannot use/],
    ['configMap volume', { scheduler: { extraVolumes: [{ name: 'c', mountPath: '/c', configMap: { name: 'x' } }] } }, /scheduler\.extraVolumes\[0\]\.configMap/],
    ['projected volume', { controllerManager: { extraVolumes: [{ name: 'p', mountPath: '/p', projected: { sources: [] } }] } }, /controllerManager\.extraVolumes\[0\]\.projected/],
    ['PVC volume', { apiServer: { extraVolumes: [{ name: 'p', mountPath: '/p', persistentVolumeClaim: { claimName: 'x' } }] } }, /extraVolumes\[0\]\.persistentVolumeClaim/],
    ['CSI volume', { apiServer: { extraVolumes: [{ name: 'p', mountPath: '/p', csi: { driver: 'x' } }] } }, /extraVolumes\[0\]\.csi/],
    ['secretKeyRef env', { apiServer: { extraEnvs: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] } }, /apiServer\.extraEnvs\[0\]\.valueFrom\.secretKeyRef: .*Secret/],
    ['configMapKeyRef env', { etcd: { local: { extraEnvs: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 's', key: 'k' } } }] } } }, /etcd\.local\.extraEnvs\[0\]\.valueFrom\.configMapKeyRef/],
    ['envFrom', { apiServer: { envFrom: [{ secretRef: { name: 'x' } }] } }, /apiServer\.envFrom: .*ConfigMaps or Secrets/],
    ['serviceAccountName', { scheduler: { serviceAccountName: 'x' } }, /scheduler\.serviceAccountName: "x" references a ServiceAccount/],
    ['imagePullSecrets', { apiServer: { imagePullSecrets: [{ name: 'x' }] } }, /apiServer\.imagePullSecrets: .*Secrets/],
  ];
  test.each(cases)('%s', (_n, overrides, message) => {
    let error: unknown;
    try {
      render(spec(overrides));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/fix: /);
  });
});
