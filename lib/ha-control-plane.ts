import * as path from 'node:path';
import { App } from 'cdk8s';
import { Construct } from 'constructs';
import type * as AnsibleFiles from './ansible/files';
import { StaticPodApp } from './bundle/app';
import { clusterStateDir, loadOrGenerateEncryptionKey, newEncryptionKeyWarning, readEncryptionKeyFile, StateKey } from './bundle/encryption-key';
import { pkiSummary } from './pki/summary';
import { LOAD_BALANCER_TYPES, LoadBalancerPlan } from './plan/lb-plan';
import { ClusterPlan, planCluster } from './plan/plan';
import { renderKubeadmConfig } from './render/kubeadm-config';
import { PreparedPki } from './pki/prepare';
import { formatIssue, InputError, SpecError, SpecIssue } from './spec/errors';
import { ClusterSpec } from './spec/types';
import { Etcd } from './constructs/etcd';
import { HostFile } from './constructs/host-file';
import { Keepalived } from './constructs/keepalived';
import { KubeApiServer } from './constructs/kube-apiserver';
import { KubeControllerManager } from './constructs/kube-controller-manager';
import { KubeScheduler } from './constructs/kube-scheduler';
import { LvsDrVip } from './constructs/lvs-dr-vip';
import { NodeChart } from './constructs/node-chart';
import { StandaloneKubelet } from './constructs/standalone-kubelet';
import { TcpProxy } from './constructs/tcp-proxy';
import { loadBalancerProxy, workerProxy } from './components/tcp-proxy';

/** Props of a highly available control plane. */
export interface HaControlPlaneProps {
  /**
   * The cluster spec (validated and planned here; invalid input throws SpecError before anything is
   * built). Give this or `plan`.
   * @default none: `plan` is given
   */
  readonly spec?: ClusterSpec;
  /**
   * The spec already planned (`planCluster(spec)`, or `readSpecFile(file).plan`), so it is not validated
   * or planned again. Give this or `spec`.
   * @default planCluster(spec)
   */
  readonly plan?: ClusterPlan;
  /**
   * Security profile `hardened`: the base64 encoding of the 32-byte key that encrypts Secrets at rest.
   * Given here, nothing is read from or written to disk (tests, keys from a secret store).
   * @default the key of `security.encryptionKeyFile`, else `<baseDir>/ha-control-plane-state/<name>/encryption-key` (generated once when missing)
   */
  readonly encryptionKey?: string;
  /**
   * Directory that relative paths in the spec (`security.encryptionKeyFile`) and the cluster state
   * directory `ha-control-plane-state/<name>/` are resolved from. The CLI passes the spec file's directory.
   * @default process.cwd()
   */
  readonly baseDir?: string;
  /**
   * The generated PKI (`await preparePki(spec, ...)` or `await preparePkiForPlan(plan, ...)`), required when `spec.pki.mode` is `generate`:
   * each node's certificates, keys and kubeconfigs become host files of its bundle.
   * @default none (pki.mode kubeadm: the bundles hold no key material)
   */
  readonly pki?: PreparedPki;
  /**
   * The spec's warnings as read from a file (`readSpecFile(...).warnings`, with their place in it), for
   * the synth's report.
   * @default the plan's warnings (the same findings, without a file position)
   */
  readonly warnings?: readonly SpecIssue[];
}

/** Where each master's kubeadm config goes. */
export const KUBEADM_CONFIG_PATH = '/etc/kubernetes/kubeadm-config.yaml';

/**
 * A highly available control plane: one NodeChart per master holding etcd (stacked), kube-apiserver,
 * kube-controller-manager, kube-scheduler and its kubeadm config; with `loadBalancer`, keepalived and
 * haproxy|nginx on the masters or on dedicated LB hosts (or, for LVS direct routing, keepalived on the LB
 * hosts and the loopback VIP on the masters; for vip-only, keepalived alone on the masters); with
 * `workerProxy`, a local proxy per worker.
 *
 * ```ts
 * const app = new StaticPodApp();
 * new HaControlPlane(app, 'prod', { spec });
 * app.synth();   // dist/<spec.name>/<node>/...
 * ```
 */
export class HaControlPlane extends Construct {
  /** The resolved plan the charts were built from. */
  public readonly plan: ClusterPlan;
  /** One chart per master, by node name. */
  public readonly masters: ReadonlyMap<string, NodeChart>;
  /** One chart per dedicated load-balancer host, by name. */
  public readonly loadBalancerHosts: ReadonlyMap<string, NodeChart>;
  /** One chart per worker with a local proxy, by name. */
  public readonly workers: ReadonlyMap<string, NodeChart>;
  /**
   * Hardened profile: the state file of an encryption key this synth generated because none was found
   * (undefined when the key was read or given). A cluster that already runs needs its old key there.
   */
  public readonly generatedEncryptionKeyFile?: string;

  constructor(scope: Construct, id: string, props: HaControlPlaneProps) {
    super(scope, id);
    requireStaticPodApp(this, id);
    const plan = planOf(props);
    this.plan = plan;
    const lb = plan.loadBalancer;
    const pkiFiles = checkPki(plan, props.pki);
    const chart = (name: string, role: NodeChart['role']) => {
      const c = new NodeChart(this, name, { clusterName: plan.name, nodeName: name, role });
      for (const f of pkiFiles?.get(name) ?? []) new HostFile(c, `pki${f.path.replace(/\//g, '-')}`, f);
      return c;
    };
    const stateKey = plan.security.profile === 'hardened' ? resolveEncryptionKey(plan, props) : undefined;
    const encryptionKey = stateKey?.key;
    this.generatedEncryptionKeyFile = stateKey?.generatedAt;

    const masters = new Map<string, NodeChart>();
    for (const master of plan.masters) {
      const c = chart(master.name, 'master');
      if (plan.etcd.kind === 'local') new Etcd(c, 'etcd', { plan, master });
      new KubeApiServer(c, 'kube-apiserver', { plan, master, encryptionKey });
      new KubeControllerManager(c, 'kube-controller-manager', { plan, master });
      new KubeScheduler(c, 'kube-scheduler', { plan, master });
      new HostFile(c, 'kubeadm-config', { path: KUBEADM_CONFIG_PATH, content: renderKubeadmConfig(plan, master), mode: 0o600 });
      if (lb?.placement === 'masters') addLoadBalancing(c, lb, master.name);
      if (lb && LOAD_BALANCER_TYPES[lb.type].vipOnMasterLoopback) new LvsDrVip(c, 'lvs-dr-vip', { plan });
      masters.set(master.name, c);
    }
    this.masters = masters;

    const hosts = new Map<string, NodeChart>();
    if (lb?.placement === 'hosts') {
      for (const node of lb.keepalived.nodes) {
        const c = chart(node.name, 'load-balancer');
        new StandaloneKubelet(c, 'kubelet');
        addLoadBalancing(c, lb, node.name);
        hosts.set(node.name, c);
      }
    }
    this.loadBalancerHosts = hosts;

    const workers = new Map<string, NodeChart>();
    const wp = plan.workerProxy;
    if (wp) {
      for (const w of wp.workers) {
        const c = chart(w.name, 'worker');
        new TcpProxy(c, 'proxy', workerProxy(wp));
        workers.set(w.name, c);
      }
    }
    this.workers = workers;
    // A generated key and a generated PKI are stored only when a synth has rendered every bundle
    // without error, right before it writes them (a construct-only use, as in tests, stores nothing).
    // The synth reports the spec's warnings and the state it stored (StaticPodApp's reporter).
    const app = App.of(this) as StaticPodApp;
    app.addWarnings(props.warnings ?? plan.warnings);
    if (stateKey) {
      const file = stateKey.generatedAt;
      app.addStateCommit(stateKey.persist, () => (file ? [`warning: ${newEncryptionKeyWarning(path.relative(process.cwd(), file) || file)}`] : []));
    }
    const pki = props.pki;
    if (pki) {
      app.addStateCommit(pki.commit, () => [
        ...pkiSummary(pki, false).trimEnd().split('\n'),
        ...pki.report.warnings.map((w) => `warning: ${formatIssue(w)}`),
        `warning: ${path.join(path.relative(process.cwd(), app.outdir) || '.', plan.name)}/ now holds private keys and kubeconfigs: keep it out of version control, copy each node's directory only to that node over a secure channel (rsync -a over ssh), and delete it when done; the CAs stay in ${pki.dir}`,
      ]);
    }
    // The Ansible inventory and playbooks that install the tarballs node by node (with `tarballs`).
    // Made (and its code loaded) only by a synth that writes the tarballs, which the playbooks install.
    app.addClusterFiles(plan.name, () => (require('./ansible/files') as typeof AnsibleFiles).ansibleFiles(plan));
  }
}

/**
 * Thrown when a HaControlPlane is built in an App that is not a {@link StaticPodApp}: a plain cdk8s
 * `App` (the `cdk8s init` template's) would write only the Pods, without the host files they mount.
 * Its stack is the message and the caller's line only, so an uncaught one reads as a message, not a trace.
 */
export class NotAStaticPodAppError extends InputError {
  constructor(message: string, caller?: string) {
    super(message);
    this.stack = `error: ${message}${caller ? `\n${caller}` : ''}`;
  }
}

// On the prototype, not the instance: an uncaught one prints no `{ name: ... }` after its message.
Object.defineProperty(NotAStaticPodAppError.prototype, 'name', { value: 'NotAStaticPodAppError' });

/** Refuses an App other than StaticPodApp, before anything is built or stored. */
function requireStaticPodApp(cp: HaControlPlane, id: string): void {
  const app = App.of(cp);
  if (StaticPodApp.isStaticPodApp(app)) return;
  const where = new Error();
  Error.captureStackTrace(where, HaControlPlane);
  const caller = where.stack?.split('\n').find((l) => /^\s+at /.test(l));
  const kind = app instanceof App ? `a plain cdk8s ${app.constructor.name === 'App' ? 'App' : `App (${app.constructor.name})`}` : 'a construct tree without an App';
  throw new NotAStaticPodAppError(
    `HaControlPlane ${JSON.stringify(id)} is in ${kind}, whose synth would write only the Pods, not the host files they mount ` +
    '(haproxy.cfg, keepalived.conf, the check script, kubeadm-config.yaml, ...), so the kubelet could not start them ' +
    '(fix: make the app a StaticPodApp: `import { StaticPodApp } from \'cdk8s-ha-control-plane\'; const app = new StaticPodApp();` ' +
    'in place of `new App()`; it writes dist/<cluster>/<node>/ with every file, and your other charts as <chart>.k8s.yaml as before)',
    caller,
  );
}

/** The plan of the props: the given one, or the spec's (validated and planned here). */
function planOf(props: HaControlPlaneProps): ClusterPlan {
  if (props.plan !== undefined && props.spec !== undefined) {
    throw new InputError('HaControlPlane takes a spec or its plan, not both (fix: pass `plan` alone when you have one, e.g. readSpecFile(file).plan, else `spec`)');
  }
  if (props.plan !== undefined) return props.plan;
  if (props.spec === undefined) throw new InputError('HaControlPlane needs a spec or a plan (fix: pass `spec`, your ClusterSpec, or `plan`, e.g. readSpecFile(file).plan)');
  return planCluster(props.spec);
}

/** The encryption key of a hardened cluster: from the props, the spec's key file, or the state directory. */
function resolveEncryptionKey(plan: ClusterPlan, props: HaControlPlaneProps): StateKey {
  const given = (key: string): StateKey => ({ key, persist: () => {} });
  if (props.encryptionKey !== undefined) return given(props.encryptionKey);
  const baseDir = props.baseDir ?? process.cwd();
  const file = plan.security.encryptionKeyFile;
  if (file !== undefined) return given(readEncryptionKeyFile(path.resolve(baseDir, file)));
  return loadOrGenerateEncryptionKey(clusterStateDir(baseDir, plan.name));
}

/** The PKI files by node when pki.mode is generate; an error when the prop and the mode disagree. */
function checkPki(plan: ClusterPlan, pki: PreparedPki | undefined): PreparedPki['files'] | undefined {
  if (plan.pki.mode === 'kubeadm') {
    if (pki) throw new SpecError([{ path: 'pki.mode', value: 'kubeadm', problem: 'is kubeadm but a generated PKI was passed', fix: 'set pki.mode: generate, or leave out the pki prop' }]);
    return undefined;
  }
  if (!pki) {
    throw new SpecError([{ path: 'pki.mode', value: 'generate', problem: 'needs the generated PKI, which was not passed', fix: 'const pki = await preparePki(spec); new HaControlPlane(app, id, { spec, pki })' }]);
  }
  if (pki.cluster !== plan.name) {
    throw new SpecError([{ path: 'name', value: plan.name, problem: `does not match the cluster the PKI was prepared for (${pki.cluster})`, fix: 'prepare the PKI from the same spec' }]);
  }
  return pki.files;
}

/** keepalived and the load-balancer type's proxy (none for lvs-dr and vip-only) on one LB node: a master, or a dedicated host. */
function addLoadBalancing(chart: NodeChart, lb: LoadBalancerPlan, nodeName: string): void {
  const node = lb.keepalived.nodes.find((n) => n.name === nodeName)!;
  const proxy = loadBalancerProxy(lb);
  if (proxy) new TcpProxy(chart, 'load-balancer', proxy);
  new Keepalived(chart, 'keepalived', { lb, node });
}
