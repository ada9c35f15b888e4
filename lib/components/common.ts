import { argsToCommand, lastArgValue } from '../plan/args';
import { ClusterPlan } from '../plan/plan';
import { effectiveExtraArgs, SecuredComponent } from '../plan/security';
import { Arg, ComponentSpec } from '../spec/types';
import { HostPathMount, PodDescription } from './pod';

/** Name kubeadm gives a volume for a host path: the path with '/' turned into '-' (e.g. etc-ca-certificates). */
export function volumeNameForPath(path: string): string {
  return path.replace(/^\/+|\/+$/g, '').replace(/\//g, '-').toLowerCase();
}

/**
 * The volumes kube-apiserver and kube-controller-manager share in kubeadm: the PKI (k8s-certs),
 * /etc/ssl/certs (ca-certs) and the CA directories it may link into, all read-only.
 */
export function pkiAndCaVolumes(plan: ClusterPlan): HostPathMount[] {
  return [
    { name: 'k8s-certs', hostPath: plan.certificatesDir, type: 'DirectoryOrCreate', readOnly: true },
    { name: 'ca-certs', hostPath: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true },
    ...plan.caCertificatePaths.map((p): HostPathMount => ({ name: volumeNameForPath(p), hostPath: p, type: 'DirectoryOrCreate', readOnly: true })),
  ];
}

/** A kubeconfig mounted read-only at the same path (kubeadm: FileOrCreate). */
export function kubeconfigVolume(path: string): HostPathMount {
  return { name: 'kubeconfig', hostPath: path, type: 'FileOrCreate', readOnly: true };
}

/** The three kubeconfig flags kube-controller-manager and kube-scheduler take, all the same file. */
export function kubeconfigArgs(path: string): Record<string, string> {
  return { 'authentication-kubeconfig': path, 'authorization-kubeconfig': path, 'kubeconfig': path };
}

/**
 * kube-controller-manager and kube-scheduler bind to 127.0.0.1 (kubeadm, whatever the address family);
 * their probes follow a user's --bind-address unless it is the unspecified address.
 */
export function localBindAddress(extraArgs: readonly { name: string; value: string }[] | undefined): string {
  const user = lastArgValue(extraArgs, 'bind-address');
  return user && user !== '0.0.0.0' && user !== '::' ? user : '127.0.0.1';
}

/**
 * What every kubeadm component pod derives the same way from the plan: its name (also the binary),
 * image, command (sorted defaults, then the security profile's flags and the user's extraArgs, as kubeadm
 * orders extraArgs), the user's extra volumes and env, and the version's manifest details.
 */
export function componentPod(plan: ClusterPlan, name: SecuredComponent, specPath: string, component: { readonly image: string; readonly overrides: ComponentSpec }, defaults: readonly Arg[]): ComponentPod {
  const o = component.overrides;
  return {
    name,
    image: component.image,
    command: [name, ...argsToCommand(defaults, effectiveExtraArgs(plan, name, o.extraArgs))],
    extraVolumes: o.extraVolumes,
    specPath,
    env: o.extraEnvs,
    namedProbePort: plan.profile.namedProbePort,
    creationTimestampNull: plan.profile.creationTimestampNull,
  };
}

/** The part of a PodDescription that componentPod fills. */
export type ComponentPod = Pick<PodDescription, 'name' | 'image' | 'command' | 'extraVolumes' | 'specPath' | 'env' | 'namedProbePort' | 'creationTimestampNull'>;
