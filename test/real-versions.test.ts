/**
 * The version table tells the truth: each minor's default patch is a release served as the
 * k8s.io/kubernetes module and built here, and the image tags we write per minor are the ones that
 * patch's real kubeadm prints (`kubeadm config images list`). The built binaries report the versions
 * they were built as.
 */
import { execFileSync } from 'child_process';
import { ETCD_PROFILES, KUBERNETES_PROFILES, DEFAULT_KUBERNETES_MINOR } from '../lib/plan/versions';
import { builtVersionOf, etcdBinary, k8sBinary, toolVersions } from './harness/binaries';
import { kubeadmImages } from './harness/kubeadm';

describe.each(KUBERNETES_PROFILES.map((p) => [p.minor, p] as const))('Kubernetes %s', (minor, profile) => {
  const version = `v${profile.latestPatch}`;

  test('its default patch is the release this project builds for the minor', () => {
    expect(builtVersionOf('k8s', minor)).toBe(version);
  });

  test('the real kubeadm of that patch names the same images', () => {
    const images = kubeadmImages(version);
    expect(images.get('registry.k8s.io/kube-apiserver')).toBe(version);
    expect(images.get('registry.k8s.io/kube-controller-manager')).toBe(version);
    expect(images.get('registry.k8s.io/kube-scheduler')).toBe(version);
    expect(images.get('registry.k8s.io/etcd')).toBe(profile.etcdImageTag);
    expect(images.get('registry.k8s.io/pause')).toBe(profile.pauseImageTag);
    expect(images.get('registry.k8s.io/coredns/coredns')).toBe(profile.corednsImageTag);
  });

  test('kubeadm reports its version', () => {
    expect(execFileSync(k8sBinary('kubeadm', version), ['version', '-o', 'short'], { encoding: 'utf8' }).trim()).toBe(version);
  });
});

describe(`the default minor's components (${DEFAULT_KUBERNETES_MINOR})`, () => {
  const version = `v${KUBERNETES_PROFILES.find((p) => p.minor === DEFAULT_KUBERNETES_MINOR)!.latestPatch}`;

  test.each(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet'])('%s --version', (c) => {
    expect(execFileSync(k8sBinary(c, version), ['--version'], { encoding: 'utf8' }).trim()).toBe(`Kubernetes ${version}`);
  });

  test('kubectl version --client', () => {
    expect(execFileSync(k8sBinary('kubectl', version), ['version', '--client', '-o', 'json'], { encoding: 'utf8' })).toContain(`"gitVersion": "${version}"`);
  });
});

describe('etcd', () => {
  test('one built release for every etcd line the minors default to, newer than Debian\'s 3.4', () => {
    const lines = new Set(KUBERNETES_PROFILES.map((p) => p.etcdImageTag.split('.').slice(0, 2).join('.')));
    for (const line of lines) expect(builtVersionOf('etcd', line)).toBeDefined();
    expect(toolVersions('etcd').every((v) => ETCD_PROFILES.some((p) => v.startsWith(`v${p.line}.`)))).toBe(true);
  });

  test.each(toolVersions('etcd'))('etcd %s reports its version', (v) => {
    expect(execFileSync(etcdBinary('etcd', v), ['--version'], { encoding: 'utf8' })).toContain(`etcd Version: ${v.slice(1)}`);
    expect(execFileSync(etcdBinary('etcdctl', v), ['version'], { encoding: 'utf8' })).toContain(`etcdctl version: ${v.slice(1)}`);
  });
});
