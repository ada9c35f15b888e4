import { args } from '../plan/args';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { Arg } from '../spec/types';
import { componentPod, kubeconfigArgs, kubeconfigVolume, localBindAddress, pkiAndCaVolumes } from './common';
import { PodDescription } from './pod';

/** Where kubeadm installs FlexVolume drivers (mounted until 1.36). */
export const FLEXVOLUME_DIR = '/usr/libexec/kubernetes/kubelet-plugins/volume/exec';

/** The controller manager's kubeconfig (kubeadm's controller-manager.conf). */
export const CONTROLLER_MANAGER_KUBECONFIG = '/etc/kubernetes/controller-manager.conf';

/** kube-controller-manager's flags as kubeadm's getControllerManagerCommand sets them (before the profile's and the user's). */
export function controllerManagerArgs(plan: ClusterPlan): Arg[] {
  const P = plan.certificatesDir;
  const pod = plan.networking.podSubnet;
  return args({
    ...kubeconfigArgs(CONTROLLER_MANAGER_KUBECONFIG),
    'bind-address': '127.0.0.1',
    'client-ca-file': `${P}/ca.crt`,
    'cluster-name': plan.clusterName,
    'cluster-signing-cert-file': `${P}/ca.crt`,
    'cluster-signing-key-file': `${P}/ca.key`,
    'controllers': '*,bootstrapsigner,tokencleaner',
    'leader-elect': 'true',
    'requestheader-client-ca-file': `${P}/front-proxy-ca.crt`,
    'root-ca-file': `${P}/ca.crt`,
    'service-account-private-key-file': `${P}/sa.key`,
    'use-service-account-credentials': 'true',
    // With a pod network the controller manager allocates node CIDRs from it.
    'allocate-node-cidrs': pod ? 'true' : undefined,
    'cluster-cidr': pod,
    'service-cluster-ip-range': pod ? plan.networking.serviceSubnet : undefined,
  });
}

/**
 * kube-controller-manager as kubeadm writes it, leader-elected: /healthz probes (liveness and startup)
 * on port 10257 of its bind address, the PKI, CA directories, its kubeconfig and (before 1.36) the
 * FlexVolume directory mounted. The same on every master.
 */
export function controllerManagerPod(plan: ClusterPlan, _master?: MasterPlan): PodDescription {
  const probe = { host: localBindAddress(plan.controllerManager.overrides.extraArgs), path: '/healthz', port: 10257, scheme: 'HTTPS' as const };
  return {
    ...componentPod(plan, 'kube-controller-manager', 'controllerManager', plan.controllerManager, controllerManagerArgs(plan)),
    requests: { cpu: '200m' },
    volumes: [
      ...pkiAndCaVolumes(plan),
      kubeconfigVolume(CONTROLLER_MANAGER_KUBECONFIG),
      ...(plan.profile.flexvolumeDir ? [{ name: 'flexvolume-dir', hostPath: FLEXVOLUME_DIR, type: 'DirectoryOrCreate' as const }] : []),
    ],
    probes: { liveness: probe, startup: probe },
  };
}
