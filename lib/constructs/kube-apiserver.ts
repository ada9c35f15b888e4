import { Construct } from 'constructs';
import { apiServerPod } from '../components/kube-apiserver';
import { ClusterPlan, MasterPlan } from '../plan/plan';
import { StaticPod } from './static-pod';

export { externalEtcdCertVolumes } from '../components/kube-apiserver';

/** Props of kube-apiserver. */
export interface KubeApiServerProps {
  /** The cluster plan. */
  readonly plan: ClusterPlan;
  /** The master it runs on (its address is the advertise address). */
  readonly master: MasterPlan;
  /**
   * Security profile `hardened`: the base64 encoding of the 32-byte key that encrypts Secrets; the
   * hardening config files become host files of this pod, mounted.
   * @default none (no hardening files; ApiServerHardening can add them)
   */
  readonly encryptionKey?: string;
}

/** kube-apiserver as kubeadm writes it: the pod of apiServerPod (lib/components/kube-apiserver.ts). */
export class KubeApiServer extends StaticPod {
  constructor(scope: Construct, id: string, props: KubeApiServerProps) {
    super(scope, id, apiServerPod(props.plan, props.master, props.encryptionKey));
  }
}
