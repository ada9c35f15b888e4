/**
 * cdk8s-ha-control-plane: a highly available Kubernetes control plane as per-node static-pod bundles.
 *
 * The public API, name by name (test/public-api.test.ts holds the list): the cluster spec and its
 * loaders, the plan, the constructs, the app that writes the bundles, the PKI step and the errors.
 * Everything else in lib/ is internal and may change in any release.
 *
 * @packageDocumentation
 */

// The cluster spec (the input format), its loaders and the errors of bad input.
export type {
  ApiServerSpec, Arg, ClusterSpec, ComponentSpec, EndpointSpec, EnvVar, EnvVarSource, EtcdSpec, ExternalEtcdSpec, ExtraVolume,
  HostPathType, KeepalivedSpec, KeyAlgorithm, LoadBalancerHostSpec, LoadBalancerSpec, LoadBalancerType, LocalEtcdSpec, MasterSpec,
  NetworkingSpec, PkiSpec, SecuritySpec, WorkerProxySpec, WorkerSpec,
} from './spec/types';
export { formatIssue, InputError, SpecError } from './spec/errors';
export type { SourceLocation, SpecIssue } from './spec/errors';
export { loadSpec, loadSpecFile, readSpec, readSpecFile } from './plan/load';
export type { LoadedSpec } from './plan/load';
/** The embedded example (three masters behind keepalived + haproxy) that `npm run synth` writes. */
export { EXAMPLE_SPEC } from './spec/example';

// The plan: the spec resolved (versions, images, defaults, every node's role).
export { planCluster } from './plan/plan';
export type {
  ClusterPlan, ComponentPlan, EtcdMember, ExternalEtcdPlan, LocalEtcdPlan, MasterPlan, PkiPlan, SecurityPlan, SecurityProfile,
} from './plan/plan';
export type { Backend, HealthCheck, KeepalivedPlan, LoadBalancerPlan, ProxyType, VrrpNode, WorkerProxyPlan } from './plan/lb-plan';
export type { EtcdProbePaths, EtcdProfile, KubernetesProfile } from './plan/versions';

// The constructs.
export { HaControlPlane, NotAStaticPodAppError } from './ha-control-plane';
export type { HaControlPlaneProps } from './ha-control-plane';
export { NodeChart } from './constructs/node-chart';
export type { NodeChartProps } from './constructs/node-chart';
export { StaticPod } from './constructs/static-pod';
export type { HostPathMount, PodDescription, PodFile, ProbeTarget, StaticPodProps } from './constructs/static-pod';
export { HostFile } from './constructs/host-file';
export type { HostFileProps } from './constructs/host-file';
export { Etcd } from './constructs/etcd';
export type { EtcdProps } from './constructs/etcd';
export { KubeApiServer } from './constructs/kube-apiserver';
export type { KubeApiServerProps } from './constructs/kube-apiserver';
export { KubeControllerManager } from './constructs/kube-controller-manager';
export type { KubeControllerManagerProps } from './constructs/kube-controller-manager';
export { KubeScheduler } from './constructs/kube-scheduler';
export type { KubeSchedulerProps } from './constructs/kube-scheduler';
export { ApiServerHardening } from './constructs/api-server-hardening';
export type { ApiServerHardeningProps } from './constructs/api-server-hardening';
export { Keepalived } from './constructs/keepalived';
export type { KeepalivedProps } from './constructs/keepalived';
export { TcpProxy } from './constructs/tcp-proxy';
export type { TcpProxyProps } from './constructs/tcp-proxy';
export type { TcpProxyOptions } from './components/tcp-proxy';
export type { ProxyConfig } from './proxies/proxy';
export { LvsDrVip } from './constructs/lvs-dr-vip';
export type { LvsDrVipProps } from './constructs/lvs-dr-vip';
export { StandaloneKubelet } from './constructs/standalone-kubelet';
export type { StandaloneKubeletProps } from './constructs/standalone-kubelet';
export type { StandaloneKubeletOptions } from './components/standalone-kubelet';

// The app that writes the bundles (and, with tarballs, the installable packages).
export { StaticPodApp } from './bundle/app';
export type { StaticPodAppProps, SynthReporter } from './bundle/app';
export type { BundleFile } from './bundle/layout';

// The PKI of pki.mode generate.
export { preparePki, preparePkiForPlan } from './pki/prepare';
export type { IssuedCert, PkiFile, PkiReport, PreparedPki, PreparePkiOptions } from './pki/prepare';
