import { DEFAULTS, KUBEADM_ETCD_IMAGE } from './defaults';
import { cidrContains, cidrsOverlap, ipFamily, ipToBigInt, isDnsLabel, isDnsSubdomain, parseCidr, sameIp } from '../util/net';
import { DEFAULT_KUBERNETES_MINOR, kubernetesProfile, KubernetesProfile, parseEtcdVersion, etcdProfile, SUPPORTED_MINORS, ETCD_PROFILES } from './versions';
import { SpecIssue } from '../spec/errors';
import { checkPort, hasControlChar, isObj, known, Obj, Report } from './check';
import { checkLoadBalancing } from './validate-lb';
import { checkPki } from './validate-pki';
import { ClusterSpec, ComponentSpec } from '../spec/types';

/** Result of validation: hard errors and advisory warnings (both in the same path/value/fix form). */
export interface ValidationResult {
  readonly errors: SpecIssue[];
  readonly warnings: SpecIssue[];
}



/**
 * Semantic checks of a cluster spec. Works on untrusted input (plain JavaScript users, YAML), so it
 * checks the type of every field it reads before using it, and never throws.
 */
export function validateSpec(input: unknown): ValidationResult {
  const errors: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  const err = (path: string, value: unknown, problem: string, fix: string) => errors.push({ path, value, problem, fix });
  const warn = (path: string, value: unknown, problem: string, fix: string) => warnings.push({ path, value, problem, fix });

  if (!isObj(input)) {
    err('(spec)', input, 'is not an object', 'pass a ClusterSpec object with name, controlPlaneEndpoint and masters');
    return { errors, warnings };
  }
  const spec = input as Partial<ClusterSpec> & Obj;

  if (typeof spec.name !== 'string' || !isDnsLabel(spec.name)) {
    err('name', spec.name, 'is not a DNS label', 'use lower-case letters, digits and "-", at most 63 characters, e.g. "prod"');
  }

  const m = typeof spec.kubernetesVersion === 'string' ? /^v?(\d+\.\d+)(\.\d+)?$/.exec(spec.kubernetesVersion) : null;
  const specProfile = m ? kubernetesProfile(m[1]) : undefined;
  // The minor the version-dependent messages speak for: the spec's, else the default (an unsupported version has its own error).
  const profile = specProfile ?? kubernetesProfile(DEFAULT_KUBERNETES_MINOR)!;
  if (spec.kubernetesVersion !== undefined) {
    const v = spec.kubernetesVersion;
    if (!m || !specProfile) {
      err('kubernetesVersion', v, 'is not a supported Kubernetes version', `use one of ${SUPPORTED_MINORS.join(', ')} (a minor, or a full version such as "1.37.1")`);
    } else if (m[2] && Number(m[2].slice(1)) > Number(profile.latestPatch.split('.')[2])) {
      warn('kubernetesVersion', v, `is a patch the version table does not know (its newest ${m[1]} patch is ${profile.latestPatch}), so the image tag v${m[1]}${m[2]} is unverified`,
        `use "${m[1]}" (patch ${profile.latestPatch}) or "${profile.latestPatch}", or make sure ${m[1]}${m[2]} is released and its images are in your registry`);
    }
  }

  // Control-plane endpoint.
  const ep = spec.controlPlaneEndpoint;
  if (!isObj(ep)) {
    err('controlPlaneEndpoint', ep, 'is missing or not an object', 'set controlPlaneEndpoint: { host: <VIP or DNS name>, port: 6443 }');
  } else {
    if (typeof ep.host !== 'string' || (ipFamily(ep.host) === 0 && !isDnsSubdomain(ep.host))) {
      err('controlPlaneEndpoint.host', ep.host, 'is not an IP address or DNS name', 'use the VIP (e.g. "10.0.0.100") or a DNS name (e.g. "api.example.com")');
    }
    checkPort(err, 'controlPlaneEndpoint.port', ep.port);
    if (ep.external !== undefined && typeof ep.external !== 'boolean') {
      err('controlPlaneEndpoint.external', ep.external, 'is not true or false', 'write external: true when a load balancer outside this spec holds the endpoint, or leave it out');
    }
  }

  // Masters.
  const masters = spec.masters;
  if (!Array.isArray(masters) || masters.length === 0) {
    err('masters', masters, 'must be a non-empty list', 'list the control-plane nodes: [{ name: "master-1", address: "10.0.0.11" }, ...]');
  } else {
    const names = new Map<string, number>();
    const addresses = new Map<string, number>();
    masters.forEach((m, i) => {
      const p = `masters[${i}]`;
      if (!isObj(m)) {
        err(p, m, 'is not an object', 'write { name: "master-1", address: "10.0.0.11" }');
        return;
      }
      if (typeof m.name !== 'string' || !isDnsSubdomain(m.name)) {
        err(`${p}.name`, m.name, 'is not a valid node name', 'use a lower-case DNS name, e.g. "master-1"');
      } else if (names.has(m.name)) {
        err(`${p}.name`, m.name, `is the same as masters[${names.get(m.name)}].name`, 'give every master a distinct name');
      } else {
        names.set(m.name, i);
      }
      if (typeof m.address !== 'string' || ipFamily(m.address) === 0) {
        err(`${p}.address`, m.address, 'is not an IPv4/IPv6 address', 'use the node\'s IP address, e.g. "10.0.0.11"');
      } else if (addresses.has(m.address)) {
        err(`${p}.address`, m.address, `is the same as masters[${addresses.get(m.address)}].address`, 'give every master its own address');
      } else {
        addresses.set(m.address, i);
      }
      if (m.etcdState !== undefined && m.etcdState !== 'new' && m.etcdState !== 'existing') {
        err(`${p}.etcdState`, m.etcdState, 'is not "new" or "existing"', 'use "new" for a fresh cluster, "existing" for a member joining a running one');
      }
    });
    const families = new Set(masters.filter(isObj).map((m) => ipFamily(String(m.address))).filter((f) => f !== 0));
    if (families.size > 1) {
      err('masters', masters.map((m) => (isObj(m) ? m.address : m)), 'mix IPv4 and IPv6 addresses', 'give all masters addresses of one family (etcd peers must reach each other)');
    }
    if (isObj(ep) && typeof ep.host === 'string' && addresses.has(ep.host)) {
      warn('controlPlaneEndpoint.host', ep.host, `is masters[${addresses.get(ep.host)}].address, so the control plane is not highly available`, 'use a virtual IP or a DNS name that reaches every master');
    }
    const stacked = !isObj(spec.etcd) || spec.etcd.external === undefined;
    if (stacked && masters.length % 2 === 0) {
      warn('masters', masters.length, 'is an even number of etcd members: it tolerates no more failures than one member fewer', 'run 3 or 5 masters (an even count is fine only while replacing a member)');
    }
    if (stacked && masters.every((m) => isObj(m) && m.etcdState === 'existing')) {
      err('masters', masters.length, 'are all etcdState "existing": no member starts the cluster', 'mark the members of the running cluster as "new" (the default) and only the joining ones "existing"');
    }
  }

  checkNetworking(err, spec.networking, nodeAddresses(spec));

  if (spec.imageRepository !== undefined && (typeof spec.imageRepository !== 'string' || !/^[a-z0-9]([-a-z0-9._:/]*[a-z0-9])?$/i.test(spec.imageRepository))) {
    err('imageRepository', spec.imageRepository, 'is not a registry path', 'use a registry host and path, e.g. "registry.example.com/k8s"');
  }
  for (const field of ['certificatesDir'] as const) {
    if (spec[field] !== undefined && !isAbsPath(spec[field])) {
      err(field, spec[field], 'is not an absolute path', 'use an absolute path such as "/etc/kubernetes/pki"');
    }
  }
  if (spec.clusterName !== undefined && (typeof spec.clusterName !== 'string' || !isDnsSubdomain(spec.clusterName))) {
    err('clusterName', spec.clusterName, 'is not a DNS name', 'use a lower-case DNS name such as "kubernetes"');
  }
  if (spec.caCertificatePaths !== undefined) {
    if (!Array.isArray(spec.caCertificatePaths)) {
      err('caCertificatePaths', spec.caCertificatePaths, 'is not a list', 'list absolute directories, e.g. ["/etc/pki"]');
    } else {
      spec.caCertificatePaths.forEach((p, i) => {
        if (!isAbsPath(p)) err(`caCertificatePaths[${i}]`, p, 'is not an absolute path', 'use an absolute directory such as "/etc/pki"');
      });
    }
  }

  const apiRefs = apiReferenceReason(profile);
  checkEtcd(err, warn, spec.etcd, apiRefs);
  if (spec.apiServer !== undefined) {
    checkComponent(err, 'apiServer', spec.apiServer, ['bindPort', 'certSANs'], apiRefs);
    if (isObj(spec.apiServer)) {
      checkPort(err, 'apiServer.bindPort', spec.apiServer.bindPort);
      checkCertSans(err, spec.apiServer.certSANs);
    }
  }
  if (spec.controllerManager !== undefined) checkComponent(err, 'controllerManager', spec.controllerManager, [], apiRefs);
  if (spec.scheduler !== undefined) checkComponent(err, 'scheduler', spec.scheduler, [], apiRefs);
  checkLoadBalancing(err, warn, spec);
  checkSecurity(err, spec);
  checkPki(err, spec.pki);

  return { errors, warnings };
}

/** Flags the API server refuses next to --authentication-config (it carries their settings). */
const AUTHENTICATION_CONFIG_CONFLICTS = /^(anonymous-auth|oidc-.*)$/;

function checkSecurity(err: Report, spec: Obj): void {
  const sec = spec.security;
  if (sec === undefined) return;
  if (!isObj(sec)) {
    err('security', sec, 'is not an object', 'write { profile: "hardened" } or leave it out');
    return;
  }
  known(err, 'security', sec, ['profile', 'encryptionKeyFile']);
  if (sec.profile !== undefined && sec.profile !== 'kubeadm' && sec.profile !== 'hardened') {
    err('security.profile', sec.profile, 'is not "kubeadm" or "hardened"', 'use "hardened" for the CIS Kubernetes Benchmark profile, "kubeadm" (the default) for kubeadm\'s flags');
  }
  const hardened = sec.profile === 'hardened';
  if (sec.encryptionKeyFile !== undefined) {
    if (typeof sec.encryptionKeyFile !== 'string' || sec.encryptionKeyFile === '' || sec.encryptionKeyFile.includes('\0')) {
      err('security.encryptionKeyFile', sec.encryptionKeyFile, 'is not a file path', 'give the path of a file holding the base64 of a 32-byte key');
    } else if (!hardened) {
      err('security.encryptionKeyFile', sec.encryptionKeyFile, 'is only used by the hardened profile', 'set security.profile: "hardened", or remove encryptionKeyFile');
    }
  }
  const api = spec.apiServer;
  if (hardened && isObj(api) && Array.isArray(api.extraArgs)) {
    api.extraArgs.forEach((a, i) => {
      if (isObj(a) && typeof a.name === 'string' && AUTHENTICATION_CONFIG_CONFLICTS.test(a.name)) {
        err(`apiServer.extraArgs[${i}].name`, a.name, 'cannot be combined with the hardened profile\'s --authentication-config (the API server refuses to start)', a.name === 'anonymous-auth'
          ? 'remove it: the hardened profile allows anonymous requests only to /healthz, /livez, /readyz and cluster-info'
          : 'remove it, or set security.profile: "kubeadm" and configure authentication yourself');
      }
    });
  }
}

/** kubeadm's certSANs: DNS-1123 subdomains (a `*.` wildcard allowed, as kubeadm does) or IP addresses, each once. */
function checkCertSans(err: Report, sans: unknown): void {
  if (sans === undefined) return;
  if (!Array.isArray(sans)) {
    err('apiServer.certSANs', sans, 'is not a list', 'list DNS names or IP addresses, e.g. ["api.example.com", "203.0.113.10"]');
    return;
  }
  const seen = new Map<string, number>();
  sans.forEach((s, i) => {
    const p = `apiServer.certSANs[${i}]`;
    const family = typeof s === 'string' ? ipFamily(s) : 0;
    if (typeof s !== 'string' || (family === 0 && !isDnsSubdomain(s.startsWith('*.') ? s.slice(2) : s))) {
      err(p, s, 'is not a DNS name or an IP address', 'write a lower-case DNS name (e.g. "api.example.com", or "*.example.com") or an IPv4/IPv6 address');
      return;
    }
    const key = family === 0 ? s : `${family}:${ipToBigInt(s)}`;
    if (seen.has(key)) err(p, s, `is the same as apiServer.certSANs[${seen.get(key)}]`, 'list every name or address once');
    else seen.set(key, i);
  });
}

function isAbsPath(p: unknown): boolean {
  return typeof p === 'string' && p.startsWith('/') && !hasControlChar(p) && !p.split('/').includes('..');
}

/** Addresses of the nodes, the VIP and the endpoint, named by their field, for overlap checks. */
function nodeAddresses(spec: Obj): { path: string; address: string }[] {
  const out: { path: string; address: string }[] = [];
  for (const list of ['masters', 'workers', 'loadBalancers'] as const) {
    const hosts = spec[list];
    if (Array.isArray(hosts)) {
      hosts.forEach((h, i) => {
        if (isObj(h) && typeof h.address === 'string' && ipFamily(h.address) !== 0) out.push({ path: `${list}[${i}].address`, address: h.address });
      });
    }
  }
  if (isObj(spec.loadBalancer) && typeof spec.loadBalancer.vip === 'string' && ipFamily(spec.loadBalancer.vip) !== 0) {
    out.push({ path: 'loadBalancer.vip', address: spec.loadBalancer.vip });
  }
  if (isObj(spec.controlPlaneEndpoint) && typeof spec.controlPlaneEndpoint.host === 'string' && ipFamily(spec.controlPlaneEndpoint.host) !== 0) {
    out.push({ path: 'controlPlaneEndpoint.host', address: spec.controlPlaneEndpoint.host });
  }
  return out;
}

function checkNetworking(err: Report, netInput: unknown, nodes: readonly { path: string; address: string }[]): void {
  // An unset networking is the default service subnet, which must not hold a node address either.
  const net = netInput === undefined ? {} : netInput;
  if (!isObj(net)) {
    err('networking', net, 'is not an object', 'write { serviceSubnet: "10.96.0.0/12", podSubnet: "10.244.0.0/16" }');
    return;
  }
  const parsed: { path: string; cidr: NonNullable<ReturnType<typeof parseCidr>> }[] = [];
  for (const field of ['serviceSubnet', 'podSubnet'] as const) {
    // An unset service subnet is the default one, which a pod subnet must not overlap either.
    const v = field === 'serviceSubnet' && net[field] === undefined ? DEFAULTS.serviceSubnet : net[field];
    if (v === undefined) continue;
    const parts = typeof v === 'string' ? v.split(',') : [];
    const cidrs = parts.map((x) => parseCidr(x));
    const families = new Set(cidrs.map((c) => c?.family));
    if (parts.length === 0 || parts.length > 2 || cidrs.some((c) => c === undefined) || families.size !== parts.length) {
      err(`networking.${field}`, v, 'is not a CIDR (or an IPv4 and an IPv6 CIDR for dual stack)', 'write e.g. "10.96.0.0/12" or "10.96.0.0/12,fd00:10:96::/112"');
      continue;
    }
    cidrs.forEach((cidr) => parsed.push({ path: `networking.${field}`, cidr: cidr! }));
  }
  // A node address, the VIP or the endpoint inside the pod or service network: traffic to it would be
  // routed to pods or services. One line per network, naming every address it holds.
  for (const field of ['serviceSubnet', 'podSubnet'] as const) {
    const cidrs = parsed.filter((p) => p.path === `networking.${field}`).map((p) => p.cidr);
    const inside = nodes.filter((n) => cidrs.some((c) => cidrContains(c, n.address)));
    // The endpoint host and the VIP are one address when the VIP is the endpoint: name it once.
    const shown = inside.filter((n, i) => !inside.slice(0, i).some((o) => sameIp(o.address, n.address)));
    if (shown.length > 0) {
      const dflt = net[field] === undefined;
      // Suggest a network of the same family that holds none of the addresses and is not the other network.
      const others = parsed.filter((p) => p.path !== `networking.${field}`).map((p) => p.cidr);
      const family = cidrs[0].family;
      const candidates = (field === 'podSubnet' ? ['10.244.0.0/16', '172.16.0.0/16', '192.168.0.0/16', 'fd00:244::/56', 'fd10:244::/56'] : [DEFAULTS.serviceSubnet, '172.20.0.0/16', '192.168.240.0/20', 'fd00:96::/112', 'fd10:96::/112'])
        .map((text) => ({ text, cidr: parseCidr(text)! }))
        .filter(({ cidr }) => cidr.family === family && !nodes.some((n) => cidrContains(cidr, n.address)) && !others.some((o) => cidrsOverlap(o, cidr)));
      err(`networking.${field}`, net[field] ?? DEFAULTS.serviceSubnet, `${dflt ? 'is the default and ' : ''}contains ${shown.map((n) => `${n.path} (${n.address})`).join(', ')}`,
        `${dflt ? `set networking.${field} to ` : 'use '}a ${field === 'podSubnet' ? 'pod' : 'service'} network that no node, VIP or endpoint address is in${candidates.length ? `, e.g. "${candidates[0].text}"` : ''}`);
    }
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      if (parsed[i].path !== parsed[j].path && cidrsOverlap(parsed[i].cidr, parsed[j].cidr)) {
        err(parsed[j].path, net[parsed[j].path.split('.')[1]], `overlaps ${parsed[i].path}${net.serviceSubnet === undefined ? ` (default ${DEFAULTS.serviceSubnet})` : ''}`, 'use disjoint service and pod networks');
      }
    }
  }
  if (net.dnsDomain !== undefined && (typeof net.dnsDomain !== 'string' || !isDnsSubdomain(net.dnsDomain))) {
    err('networking.dnsDomain', net.dnsDomain, 'is not a DNS domain', 'use e.g. "cluster.local"');
  }
}

function checkEtcd(err: Report, warn: Report, etcd: unknown, apiRefs: string): void {
  if (etcd === undefined) return;
  if (!isObj(etcd)) {
    err('etcd', etcd, 'is not an object', 'write { local: {...} } or { external: {...} }');
    return;
  }
  if (etcd.local !== undefined && etcd.external !== undefined) {
    err('etcd', Object.keys(etcd), 'sets both local and external', 'keep one: local (stacked on the masters) or external');
  }
  if (etcd.local !== undefined) {
    checkComponent(err, 'etcd.local', etcd.local, ['imageTag', 'version', 'dataDir'], apiRefs);
    if (isObj(etcd.local)) {
      const local = etcd.local;
      if (local.dataDir !== undefined && !isAbsPath(local.dataDir)) {
        err('etcd.local.dataDir', local.dataDir, 'is not an absolute path', 'use e.g. "/var/lib/etcd"');
      }
      if (local.imageTag !== undefined && (typeof local.imageTag !== 'string' || !/^[\w][\w.-]{0,127}$/.test(local.imageTag))) {
        err('etcd.local.imageTag', local.imageTag, 'is not an image tag', 'use a tag such as "3.5.24-0"');
      }
      if (typeof local.image === 'string' && !KUBEADM_ETCD_IMAGE.test(local.image)) {
        warn('etcd.local.image', local.image, 'cannot be written as kubeadm\'s etcd imageRepository + "/etcd:" + imageTag, so kubeadm-config.yaml leaves the etcd image to kubeadm\'s default; the bundles\' etcd manifests use your image, but a `kubeadm join --control-plane` or `kubeadm upgrade` would not',
          'publish the image as <repository>/etcd:<tag> and give that, or keep kubeadm away from the etcd manifests');
      }
      if (local.version !== undefined) {
        const v = typeof local.version === 'string' ? parseEtcdVersion(local.version) : undefined;
        if (!v || !etcdProfile(v.line)) {
          err('etcd.local.version', local.version, 'is not a supported etcd version', `use a version of etcd ${ETCD_PROFILES.map((p) => p.line).join(', ')}, e.g. "3.5.24"`);
        }
      }
    }
  }
  if (etcd.external !== undefined) {
    const ext = etcd.external;
    if (!isObj(ext)) {
      err('etcd.external', ext, 'is not an object', 'write { endpoints: [...], caFile, certFile, keyFile }');
      return;
    }
    if (!Array.isArray(ext.endpoints) || ext.endpoints.length === 0) {
      err('etcd.external.endpoints', ext.endpoints, 'must be a non-empty list', 'list the etcd client URLs, e.g. ["https://10.0.0.21:2379"]');
    } else {
      ext.endpoints.forEach((e, i) => {
        if (typeof e !== 'string' || !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(e)) {
          err(`etcd.external.endpoints[${i}]`, e, 'is not an etcd client URL', 'write e.g. "https://10.0.0.21:2379"');
        }
      });
    }
    for (const f of ['caFile', 'certFile', 'keyFile'] as const) {
      if (!isAbsPath(ext[f])) err(`etcd.external.${f}`, ext[f], 'is not an absolute path', 'give the file\'s absolute path on the masters, e.g. "/etc/kubernetes/pki/etcd/ca.crt"');
    }
  }
}

/**
 * Why a static pod cannot reference API objects, on `profile`'s minor (versions.ts,
 * staticPodApiReferences): refused on every minor, the reason differs.
 */
export function apiReferenceReason(profile: KubernetesProfile): string {
  const mirror = 'the API server refuses its mirror pod (NodeRestriction), so the node may not read the object';
  switch (profile.staticPodApiReferences) {
    case 'refuses': return `the kubelet ${profile.minor} refuses the manifest`;
    case 'refuses-by-default': return `the kubelet ${profile.minor} refuses the manifest (feature gate PreventStaticPodAPIReferences, on by default); with the gate off, ${mirror}`;
    case 'runs': return `the kubelet ${profile.minor} runs the manifest, but ${mirror}`;
  }
}

/** Fields of a pod that reference API objects (pkg/api/pod HasAPIObjectReference), which a static pod may not use. */
const API_OBJECT_FIELDS: Record<string, string> = {
  serviceAccountName: 'a ServiceAccount',
  serviceAccount: 'a ServiceAccount',
  imagePullSecrets: 'Secrets',
  envFrom: 'ConfigMaps or Secrets',
};
const API_VOLUME_SOURCES = ['secret', 'configMap', 'projected', 'persistentVolumeClaim', 'csi', 'ephemeral'];

function checkComponent(err: Report, path: string, value: unknown, ownFields: string[], apiRefs: string): void {
  if (!isObj(value)) {
    err(path, value, 'is not an object', 'write { extraArgs: [...], extraVolumes: [...], extraEnvs: [...] }');
    return;
  }
  const c = value as Obj & ComponentSpec;
  const known = new Set(['extraArgs', 'extraVolumes', 'extraEnvs', 'image', ...ownFields]);
  for (const key of Object.keys(c)) {
    if (API_OBJECT_FIELDS[key]) {
      err(`${path}.${key}`, c[key], `references ${API_OBJECT_FIELDS[key]}, which a static pod cannot use: ${apiRefs}`, 'put the data in a host file and mount it with extraVolumes (hostPath), or use literal extraEnvs');
    } else if (!known.has(key)) {
      err(`${path}.${key}`, c[key], 'is not a known field', `use one of ${[...known].join(', ')}`);
    }
  }
  if (c.image !== undefined && (typeof c.image !== 'string' || !/^[^\s]+$/.test(c.image) || hasControlChar(c.image))) {
    err(`${path}.image`, c.image, 'is not an image reference', 'use e.g. "registry.example.com/kube-apiserver:v1.37.1"');
  }
  if (c.extraArgs !== undefined) {
    if (!Array.isArray(c.extraArgs)) {
      err(`${path}.extraArgs`, c.extraArgs, 'is not a list', 'write a list of { name, value }, e.g. [{ name: "v", value: "2" }]');
    } else {
      c.extraArgs.forEach((a, i) => {
        if (isObj(a) && typeof a.name === 'string' && hasControlChar(a.name)) {
          err(`${path}.extraArgs[${i}].name`, a.name, 'contains a control character (a newline, tab, ...), which would break the flag out of its line', 'write the flag name on one line, without dashes, e.g. "audit-log-maxage"');
        } else if (!isObj(a) || typeof a.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/i.test(a.name)) {
          err(`${path}.extraArgs[${i}]`, a, 'is not { name, value } with a flag name', 'write the flag name without dashes, e.g. { name: "audit-log-maxage", value: "30" }');
        } else if (typeof a.value !== 'string') {
          err(`${path}.extraArgs[${i}].value`, a.value, 'is not a string', `quote the value, e.g. value: "${String(a.value)}"`);
        } else if (hasControlChar(a.value)) {
          err(`${path}.extraArgs[${i}].value`, a.value, 'contains a control character (a newline, tab, ...), which would break the flag out of its line in the manifest and kubeadm config', 'write the value on one line; for a list use the flag\'s separator (usually ","), for a file\'s content mount the file with extraVolumes');
        }
      });
    }
  }
  if (c.extraVolumes !== undefined) {
    if (!Array.isArray(c.extraVolumes)) {
      err(`${path}.extraVolumes`, c.extraVolumes, 'is not a list', 'write a list of { name, hostPath, mountPath }');
    } else {
      const names = new Set<string>();
      c.extraVolumes.forEach((v, i) => checkVolume(err, `${path}.extraVolumes[${i}]`, v, names, apiRefs));
    }
  }
  if (c.extraEnvs !== undefined) {
    if (!Array.isArray(c.extraEnvs)) {
      err(`${path}.extraEnvs`, c.extraEnvs, 'is not a list', 'write a list of { name, value }');
    } else {
      c.extraEnvs.forEach((e, i) => checkEnv(err, `${path}.extraEnvs[${i}]`, e, apiRefs));
    }
  }
}

function checkVolume(err: Report, p: string, v: unknown, names: Set<string>, apiRefs: string): void {
  if (!isObj(v)) {
    err(p, v, 'is not an object', 'write { name, hostPath, mountPath, readOnly }');
    return;
  }
  for (const src of API_VOLUME_SOURCES) {
    if (v[src] !== undefined) {
      err(`${p}.${src}`, v[src], `is a ${src} volume, which a static pod cannot use: ${apiRefs}`, 'write the content to a host file and use hostPath, or use emptyDir');
      return;
    }
  }
  if (typeof v.name !== 'string' || !isDnsLabel(v.name)) {
    err(`${p}.name`, v.name, 'is not a DNS label', 'use a lower-case name such as "audit-policy"');
  } else if (names.has(v.name)) {
    err(`${p}.name`, v.name, 'is used by another extra volume', 'give every volume its own name');
  } else {
    names.add(v.name);
  }
  if (!isAbsPath(v.mountPath)) err(`${p}.mountPath`, v.mountPath, 'is not an absolute path', 'use the path inside the container, e.g. "/etc/kubernetes/audit"');
  const hasHost = v.hostPath !== undefined;
  const hasEmpty = v.emptyDir !== undefined;
  if (hasHost === hasEmpty) {
    err(p, Object.keys(v), 'needs exactly one of hostPath and emptyDir', 'add hostPath: "/path/on/host" (or emptyDir: {})');
  }
  if (hasHost && !isAbsPath(v.hostPath)) err(`${p}.hostPath`, v.hostPath, 'is not an absolute path', 'use the absolute path on the host');
  const types = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
  if (v.pathType !== undefined && !types.includes(v.pathType as string)) {
    err(`${p}.pathType`, v.pathType, 'is not a hostPath type', `use one of ${types.filter(Boolean).join(', ')}`);
  }
  if (hasEmpty && !isObj(v.emptyDir)) err(`${p}.emptyDir`, v.emptyDir, 'is not an object', 'write emptyDir: {} or { medium: "Memory" }');
  if (v.readOnly !== undefined && typeof v.readOnly !== 'boolean') err(`${p}.readOnly`, v.readOnly, 'is not true or false', 'write readOnly: true');
}

function checkEnv(err: Report, p: string, e: unknown, apiRefs: string): void {
  if (!isObj(e) || typeof e.name !== 'string' || !/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) {
    err(isObj(e) ? `${p}.name` : p, isObj(e) ? e.name : e, 'is not an environment variable name', 'write { name: "GOGC", value: "100" }');
    return;
  }
  const hasValue = e.value !== undefined;
  const from = e.valueFrom;
  if (hasValue === (from !== undefined)) {
    err(p, Object.keys(e), 'needs exactly one of value and valueFrom', 'write a literal value: "..." or a downward-API valueFrom');
    return;
  }
  if (hasValue && typeof e.value !== 'string') err(`${p}.value`, e.value, 'is not a string', 'quote the value');
  if (from !== undefined) {
    if (!isObj(from)) {
      err(`${p}.valueFrom`, from, 'is not an object', 'write { fieldRef: { fieldPath: "status.podIP" } }');
      return;
    }
    for (const key of Object.keys(from)) {
      if (key === 'secretKeyRef' || key === 'configMapKeyRef') {
        err(`${p}.valueFrom.${key}`, from[key], `reads a ${key === 'secretKeyRef' ? 'Secret' : 'ConfigMap'}, which a static pod cannot use: ${apiRefs}`, 'use a literal value, or mount a host file with extraVolumes');
      } else if (key !== 'fieldRef' && key !== 'resourceFieldRef') {
        err(`${p}.valueFrom.${key}`, from[key], 'is not a downward-API source', 'use fieldRef or resourceFieldRef');
      }
    }
  }
}
