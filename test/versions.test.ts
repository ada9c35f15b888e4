import { parse } from 'yaml';
import { SpecError } from '../lib';
import { KUBERNETES_PROFILES } from '../lib/plan/versions';
import { LIBRARY_VERSION, VERSION_ANNOTATION } from '../lib/version';
import { flags, pod, render, spec } from './util';

const kcmVolumes = (v: string) => pod(spec({ kubernetesVersion: v }), 'kube-controller-manager').spec.volumes.map((x: any) => x.name);

describe('version table', () => {
  test('covers 1.33 to 1.37, default 1.37', () => {
    expect(KUBERNETES_PROFILES.map((p) => p.minor)).toEqual(['1.33', '1.34', '1.35', '1.36', '1.37']);
    expect(pod(spec({ kubernetesVersion: undefined }), 'kube-apiserver').spec.containers[0].image).toBe('registry.k8s.io/kube-apiserver:v1.37.2');
  });

  test('1.33: numeric probe ports, creationTimestamp null, flexvolume-dir, etcd 3.5 experimental flags', () => {
    const s = spec({ kubernetesVersion: '1.33' });
    const api = pod(s, 'kube-apiserver');
    expect(api.metadata).toHaveProperty('creationTimestamp', null);
    expect(api.spec.containers[0].ports).toBeUndefined();
    expect(api.spec.containers[0].livenessProbe.httpGet.port).toBe(6443);
    expect(api.spec.containers[0].image).toBe('registry.k8s.io/kube-apiserver:v1.33.13');
    expect(kcmVolumes('1.33')).toContain('flexvolume-dir');
    const kcm = pod(s, 'kube-controller-manager');
    expect(kcm.spec.containers[0].volumeMounts).toContainEqual({ name: 'flexvolume-dir', mountPath: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec' });
    const etcd = pod(s, 'etcd');
    expect(etcd.spec.containers[0].image).toBe('registry.k8s.io/etcd:3.5.24-0');
    const f = flags(etcd);
    expect(f['experimental-initial-corrupt-check']).toBe('true');
    expect(f['experimental-watch-progress-notify-interval']).toBe('5s');
    expect(f['feature-gates']).toBeUndefined();
    expect(f['watch-progress-notify-interval']).toBeUndefined();
    expect(etcd.spec.containers[0].livenessProbe.httpGet).toMatchObject({ path: '/livez', port: 2381 });
  });

  test('1.35: probe-port, no creationTimestamp, still flexvolume-dir, etcd 3.6 spellings', () => {
    const s = spec({ kubernetesVersion: '1.35' });
    const api = pod(s, 'kube-apiserver');
    expect(api.metadata.creationTimestamp).toBeUndefined();
    expect(api.spec.containers[0].livenessProbe.httpGet.port).toBe('probe-port');
    expect(kcmVolumes('1.35')).toContain('flexvolume-dir');
    const f = flags(pod(s, 'etcd'));
    expect(pod(s, 'etcd').spec.containers[0].image).toBe('registry.k8s.io/etcd:3.6.6-0');
    expect(f['feature-gates']).toBe('InitialCorruptCheck=true');
    expect(f['experimental-initial-corrupt-check']).toBeUndefined();
  });

  test('1.36: flexvolume-dir gone', () => {
    expect(kcmVolumes('1.36')).not.toContain('flexvolume-dir');
    expect(kcmVolumes('1.35')).toContain('flexvolume-dir');
    expect(pod(spec({ kubernetesVersion: '1.36' }), 'etcd').spec.containers[0].image).toBe('registry.k8s.io/etcd:3.6.8-0');
  });

  test('1.37: etcd 3.7.0-0, no experimental etcd flags', () => {
    const e = pod(spec({ kubernetesVersion: '1.37' }), 'etcd');
    expect(e.spec.containers[0].image).toBe('registry.k8s.io/etcd:3.7.0-0');
    expect(e.spec.containers[0].command.some((a: string) => a.startsWith('--experimental-'))).toBe(false);
  });

  test('a full version picks that patch for every image', () => {
    const s = spec({ kubernetesVersion: '1.36.4' });
    for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      expect(pod(s, c).spec.containers[0].image).toBe(`registry.k8s.io/${c}:v1.36.4`);
    }
  });

  test('image repository override applies to every component', () => {
    const s = spec({ imageRepository: 'mirror.example.com/k8s' });
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      expect(pod(s, c).spec.containers[0].image.startsWith('mirror.example.com/k8s/')).toBe(true);
    }
  });
});

describe('etcd spelled for the etcd actually deployed', () => {
  test('etcd 3.5 pinned on 1.37 gets the --experimental-* spellings (kubeadm 1.36+ would write 3.6 ones)', () => {
    const f = flags(pod(spec({ etcd: { local: { imageTag: '3.5.24-0' } } }), 'etcd'));
    expect(f['experimental-initial-corrupt-check']).toBe('true');
    expect(f['feature-gates']).toBeUndefined();
  });

  test('etcd 3.6 pinned on 1.33 gets the 3.6 spellings', () => {
    const f = flags(pod(spec({ kubernetesVersion: '1.33', etcd: { local: { imageTag: '3.6.6-0' } } }), 'etcd'));
    expect(f['feature-gates']).toBe('InitialCorruptCheck=true');
    expect(f['watch-progress-notify-interval']).toBe('5s');
  });

  test('etcd before 3.5.11 has no /livez: probes use /health', () => {
    for (const tag of ['3.4.23-0', '3.5.10-0']) {
      const c = pod(spec({ etcd: { local: { imageTag: tag } } }), 'etcd').spec.containers[0];
      expect(c.livenessProbe.httpGet.path).toBe('/health?exclude=NOSPACE&serializable=true');
      expect(c.startupProbe.httpGet.path).toBe('/health?serializable=false');
    }
    expect(pod(spec({ etcd: { local: { imageTag: '3.5.11-0' } } }), 'etcd').spec.containers[0].livenessProbe.httpGet.path).toBe('/livez');
  });

  test('a custom image: version from its tag, or from etcd.local.version', () => {
    const c = pod(spec({ etcd: { local: { image: 'mirror:5000/etcd:v3.5.30' } } }), 'etcd').spec.containers[0];
    expect(c.image).toBe('mirror:5000/etcd:v3.5.30');
    expect(c.command).toContain('--experimental-initial-corrupt-check=true');
    const d = pod(spec({ etcd: { local: { image: 'mirror/etcd@sha256:abcd', version: '3.6.9' } } }), 'etcd').spec.containers[0];
    expect(d.command).toContain('--feature-gates=InitialCorruptCheck=true');
  });

  test('fails when the etcd version cannot be told, naming the field and the fix', () => {
    expect(() => render(spec({ etcd: { local: { image: 'mirror/etcd@sha256:abcd' } } })))
      .toThrow(/etcd\.local\.image: "mirror\/etcd@sha256:abcd" does not tell which etcd version runs.*fix: set etcd\.local\.version/);
    expect(() => render(spec({ etcd: { local: { imageTag: 'latest' } } }))).toThrow(SpecError);
    expect(() => render(spec({ etcd: { local: { imageTag: '3.8.0-0' } } }))).toThrow(/etcd\.local\.imageTag: "3\.8\.0-0"/);
  });
});

describe('the library version stamp', () => {
  // Equality with kubeadm itself is measured with the real kubeadm of every minor: test/kubeadm-fidelity.test.ts.
  test('every control-plane manifest carries it', () => {
    const bundle = render(spec()).get('master-1')!;
    for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      expect(parse(bundle.get(`etc/kubernetes/manifests/${c}.yaml`)!.content).metadata.annotations[VERSION_ANNOTATION]).toBe(LIBRARY_VERSION);
    }
  });
});
