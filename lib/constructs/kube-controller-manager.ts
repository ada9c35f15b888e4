import { Construct } from 'constructs';
import { args } from '../plan/args';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { componentPodProps, kubeconfigArgs, kubeconfigVolume, localBindAddress, pkiAndCaVolumes } from './common';
import { StaticPod } from './static-pod';

/** Props of kube-controller-manager. */
export interface KubeControllerManagerProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master it runs on. */
  readonly master: MasterPlan;
}

/** Where kubeadm installs FlexVolume drivers (mounted until 1.36). */
export const FLEXVOLUME_DIR = '/usr/libexec/kubernetes/kubelet-plugins/volume/exec';

/** kube-controller-manager as kubeadm writes it (getControllerManagerCommand), leader-elected. */
export class KubeControllerManager extends StaticPod {
  constructor(scope: Construct, id: string, props: KubeControllerManagerProps) {
    const { plan } = props;
    const P = plan.certificatesDir;
    const kubeconfig = '/etc/kubernetes/controller-manager.conf';
    const pod = plan.networking.podSubnet;
    const defaults = args({
      ...kubeconfigArgs(kubeconfig),
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
    const probe = { host: localBindAddress(plan.controllerManager.overrides.extraArgs), path: '/healthz', port: 10257, scheme: 'HTTPS' as const };
    super(scope, id, {
      ...componentPodProps(plan, 'kube-controller-manager', 'controllerManager', plan.controllerManager, defaults),
      requests: { cpu: '200m' },
      volumes: [
        ...pkiAndCaVolumes(plan),
        kubeconfigVolume(kubeconfig),
        ...(plan.profile.flexvolumeDir ? [{ name: 'flexvolume-dir', hostPath: FLEXVOLUME_DIR, type: 'DirectoryOrCreate' as const }] : []),
      ],
      probes: { liveness: probe, startup: probe },
    });
  }
}
