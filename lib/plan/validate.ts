import { DEFAULTS, KUBEADM_ETCD_IMAGE } from './defaults';
import { cidrContains, cidrsOverlap, ipFamily, ipToBigInt, isDnsLabel, isDnsSubdomain, parseCidr, sameIp } from '../util/net';
import { DEFAULT_KUBERNETES_MINOR, kubernetesProfile, KubernetesProfile, parseEtcdVersion, parseKubernetesVersion, etcdProfile, SUPPORTED_MINORS, ETCD_PROFILES } from './versions';
import { SpecIssue } from '../spec/errors';
import { checkSchema } from '../spec/schema-check';
import { formatPath } from '../spec/source';
import { hasControlChar, Report } from './check';
import { checkLoadBalancing } from './validate-lb';
import { checkPki } from './validate-pki';
import { ClusterSpec, ComponentSpec, EnvVar, EtcdSpec, ExtraVolume, NetworkingSpec } from '../spec/types';

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

/**
 * {@link apiReferenceReason} for unchecked input: the minor of its kubernetesVersion when that is a
 * supported one, else the default minor's (an unsupported version has its own error).
 */
export function apiReferenceReasonOf(input: unknown): string {
  const v = typeof input === 'object' && input !== null ? (input as { kubernetesVersion?: unknown }).kubernetesVersion : undefined;
  return apiReferenceReason((typeof v === 'string' ? parseKubernetesVersion(v)?.profile : undefined) ?? kubernetesProfile(DEFAULT_KUBERNETES_MINOR)!);
}

/** Result of validation: hard errors and advisory warnings (both in the same path/value/fix form). */
export interface ValidationResult {
  readonly errors: SpecIssue[];
  readonly warnings: SpecIssue[];
}

/**
 * Checks a cluster spec from untrusted input (plain JavaScript users, YAML) and never throws: first
 * against the JSON Schema (schema/cluster-spec.schema.json: types, required and known fields, allowed
 * values, ranges), then, only when that passed, the semantic rules (checkSemantics). Schema problems
 * are returned alone: the semantic rules read typed data.
 */
export function validateSpec(input: unknown): ValidationResult {
  const schemaIssues = checkSchema(input, apiReferenceReasonOf(input));
  if (schemaIssues.length > 0) {
    return { errors: schemaIssues.map((i) => ({ path: formatPath(i.segments), value: i.value, problem: i.problem, fix: i.fix })), warnings: [] };
  }
  return checkSemantics(input as ClusterSpec);
}

/**
 * The semantic rules of a spec that passed the schema check: names, addresses and networks, what static
 * pods and kubeadm accept, and what the load-balancing tier needs (validate-lb.ts).
 */
export function checkSemantics(spec: ClusterSpec): ValidationResult {
  const errors: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  const err = (path: string, value: unknown, problem: string, fix: string) => errors.push({ path, value, problem, fix });
  const warn = (path: string, value: unknown, problem: string, fix: string) => warnings.push({ path, value, problem, fix });

  if (!isDnsLabel(spec.name)) {
    err('name', spec.name, 'is not a DNS label', 'use lower-case letters, digits and "-", at most 63 characters, e.g. "prod"');
  }

  if (spec.kubernetesVersion !== undefined) {
    const v = spec.kubernetesVersion;
    const parts = parseKubernetesVersion(v);
    const profile = parts?.profile;
    if (!parts || !profile) {
      err('kubernetesVersion', v, 'is not a supported Kubernetes version', `use one of ${SUPPORTED_MINORS.join(', ')} (a minor, or a full version such as "1.37.1")`);
    } else if (parts.patch && Number(parts.patch.slice(1)) > Number(profile.latestPatch.split('.')[2])) {
      const { minor, patch } = parts;
      warn('kubernetesVersion', v, `is a patch the version table does not know (its newest ${minor} patch is ${profile.latestPatch}), so the image tag v${minor}${patch} is unverified`,
        `use "${minor}" (patch ${profile.latestPatch}) or "${profile.latestPatch}", or make sure ${minor}${patch} is released and its images are in your registry`);
    }
  }

  // Control-plane endpoint (its port and `external` are the schema's).
  const ep = spec.controlPlaneEndpoint;
  if (ipFamily(ep.host) === 0 && !isDnsSubdomain(ep.host)) {
    err('controlPlaneEndpoint.host', ep.host, 'is not an IP address or DNS name', 'use the VIP (e.g. "10.0.0.100") or a DNS name (e.g. "api.example.com")');
  }

  // Masters.
  const masters = spec.masters;
  if (masters.length === 0) {
    err('masters', masters, 'must be a non-empty list', 'list the control-plane nodes: [{ name: "master-1", address: "10.0.0.11" }, ...]');
  } else {
    const names = new Map<string, number>();
    const addresses = new Map<string, number>();
    masters.forEach((m, i) => {
      const p = `masters[${i}]`;
      if (!isDnsSubdomain(m.name)) {
        err(`${p}.name`, m.name, 'is not a valid node name', 'use a lower-case DNS name, e.g. "master-1"');
      } else if (names.has(m.name)) {
        err(`${p}.name`, m.name, `is the same as masters[${names.get(m.name)}].name`, 'give every master a distinct name');
      } else {
        names.set(m.name, i);
      }
      if (ipFamily(m.address) === 0) {
        err(`${p}.address`, m.address, 'is not an IPv4/IPv6 address', 'use the node\'s IP address, e.g. "10.0.0.11"');
      } else if (addresses.has(m.address)) {
        err(`${p}.address`, m.address, `is the same as masters[${addresses.get(m.address)}].address`, 'give every master its own address');
      } else {
        addresses.set(m.address, i);
      }
    });
    const families = new Set(masters.map((m) => ipFamily(m.address)).filter((f) => f !== 0));
    if (families.size > 1) {
      err('masters', masters.map((m) => m.address), 'mix IPv4 and IPv6 addresses', 'give all masters addresses of one family (etcd peers must reach each other)');
    }
    if (addresses.has(ep.host)) {
      warn('controlPlaneEndpoint.host', ep.host, `is masters[${addresses.get(ep.host)}].address, so the control plane is not highly available`, 'use a virtual IP or a DNS name that reaches every master');
    }
    const stacked = spec.etcd?.external === undefined;
    if (stacked && masters.length % 2 === 0) {
      warn('masters', masters.length, 'is an even number of etcd members: it tolerates no more failures than one member fewer', 'run 3 or 5 masters (an even count is fine only while replacing a member)');
    }
    if (stacked && masters.every((m) => m.etcdState === 'existing')) {
      err('masters', masters.length, 'are all etcdState "existing": no member starts the cluster', 'mark the members of the running cluster as "new" (the default) and only the joining ones "existing"');
    } else if (stacked && masters.length === 1 && masters[0].etcdState === 'replacement') {
      err('masters[0].etcdState', 'replacement', 'joins a running cluster, but it is the only master: there is no member to join', 'use "new" (a one-member etcd that lost its member starts again from a snapshot: etcdutl snapshot restore)');
    }
  }

  // An unset networking is the default service subnet, which must not hold a node address either.
  checkNetworking(err, spec.networking ?? {}, nodeAddresses(spec));

  if (spec.imageRepository !== undefined && !/^[a-z0-9]([-a-z0-9._:/]*[a-z0-9])?$/i.test(spec.imageRepository)) {
    err('imageRepository', spec.imageRepository, 'is not a registry path', 'use a registry host and path, e.g. "registry.example.com/k8s"');
  }
  if (spec.certificatesDir !== undefined && !isAbsPath(spec.certificatesDir)) {
    err('certificatesDir', spec.certificatesDir, 'is not an absolute path', 'use an absolute path such as "/etc/kubernetes/pki"');
  }
  if (spec.clusterName !== undefined && !isDnsSubdomain(spec.clusterName)) {
    err('clusterName', spec.clusterName, 'is not a DNS name', 'use a lower-case DNS name such as "kubernetes"');
  }
  (spec.caCertificatePaths ?? []).forEach((p, i) => {
    if (!isAbsPath(p)) err(`caCertificatePaths[${i}]`, p, 'is not an absolute path', 'use an absolute directory such as "/etc/pki"');
  });

  checkEtcd(err, warn, spec.etcd);
  if (spec.apiServer !== undefined) {
    checkComponent(err, 'apiServer', spec.apiServer);
    checkCertSans(err, spec.apiServer.certSANs ?? []);
  }
  if (spec.controllerManager !== undefined) checkComponent(err, 'controllerManager', spec.controllerManager);
  if (spec.scheduler !== undefined) checkComponent(err, 'scheduler', spec.scheduler);
  checkLoadBalancing(err, warn, spec);
  checkSecurity(err, spec);
  checkPki(err, spec.pki);

  return { errors, warnings };
}

/** Flags the API server refuses next to --authentication-config (it carries their settings). */
const AUTHENTICATION_CONFIG_CONFLICTS = /^(anonymous-auth|oidc-.*)$/;

function checkSecurity(err: Report, spec: ClusterSpec): void {
  const sec = spec.security;
  if (sec === undefined) return;
  const hardened = sec.profile === 'hardened';
  if (sec.encryptionKeyFile !== undefined) {
    if (sec.encryptionKeyFile === '' || sec.encryptionKeyFile.includes('\0')) {
      err('security.encryptionKeyFile', sec.encryptionKeyFile, 'is not a file path', 'give the path of a file holding the base64 of a 32-byte key');
    } else if (!hardened) {
      err('security.encryptionKeyFile', sec.encryptionKeyFile, 'is only used by the hardened profile', 'set security.profile: "hardened", or remove encryptionKeyFile');
    }
  }
  if (hardened) {
    (spec.apiServer?.extraArgs ?? []).forEach((a, i) => {
      if (AUTHENTICATION_CONFIG_CONFLICTS.test(a.name)) {
        err(`apiServer.extraArgs[${i}].name`, a.name, 'cannot be combined with the hardened profile\'s --authentication-config (the API server refuses to start)', a.name === 'anonymous-auth'
          ? 'remove it: the hardened profile allows anonymous requests only to /healthz, /livez, /readyz and cluster-info'
          : 'remove it, or set security.profile: "kubeadm" and configure authentication yourself');
      }
    });
  }
}

/** kubeadm's certSANs: DNS-1123 subdomains (a `*.` wildcard allowed, as kubeadm does) or IP addresses, each once. */
function checkCertSans(err: Report, sans: readonly string[]): void {
  const seen = new Map<string, number>();
  sans.forEach((s, i) => {
    const p = `apiServer.certSANs[${i}]`;
    const family = ipFamily(s);
    if (family === 0 && !isDnsSubdomain(s.startsWith('*.') ? s.slice(2) : s)) {
      err(p, s, 'is not a DNS name or an IP address', 'write a lower-case DNS name (e.g. "api.example.com", or "*.example.com") or an IPv4/IPv6 address');
      return;
    }
    const key = family === 0 ? s : `${family}:${ipToBigInt(s)}`;
    if (seen.has(key)) err(p, s, `is the same as apiServer.certSANs[${seen.get(key)}]`, 'list every name or address once');
    else seen.set(key, i);
  });
}

function isAbsPath(p: string): boolean {
  return p.startsWith('/') && !hasControlChar(p) && !p.split('/').includes('..');
}

/** Addresses of the nodes, the VIP and the endpoint, named by their field, for overlap checks. */
function nodeAddresses(spec: ClusterSpec): { path: string; address: string }[] {
  const out: { path: string; address: string }[] = [];
  for (const list of ['masters', 'workers', 'loadBalancers'] as const) {
    (spec[list] ?? []).forEach((h, i) => {
      if (ipFamily(h.address) !== 0) out.push({ path: `${list}[${i}].address`, address: h.address });
    });
  }
  if (spec.loadBalancer?.vip !== undefined && ipFamily(spec.loadBalancer.vip) !== 0) {
    out.push({ path: 'loadBalancer.vip', address: spec.loadBalancer.vip });
  }
  if (ipFamily(spec.controlPlaneEndpoint.host) !== 0) {
    out.push({ path: 'controlPlaneEndpoint.host', address: spec.controlPlaneEndpoint.host });
  }
  return out;
}

function checkNetworking(err: Report, net: NetworkingSpec, nodes: readonly { path: string; address: string }[]): void {
  const parsed: { path: string; cidr: NonNullable<ReturnType<typeof parseCidr>> }[] = [];
  for (const field of ['serviceSubnet', 'podSubnet'] as const) {
    // An unset service subnet is the default one, which a pod subnet must not overlap either.
    const v = field === 'serviceSubnet' && net[field] === undefined ? DEFAULTS.serviceSubnet : net[field];
    if (v === undefined) continue;
    const parts = v.split(',');
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
        err(parsed[j].path, net[parsed[j].path.split('.')[1] as 'serviceSubnet' | 'podSubnet'], `overlaps ${parsed[i].path}${net.serviceSubnet === undefined ? ` (default ${DEFAULTS.serviceSubnet})` : ''}`, 'use disjoint service and pod networks');
      }
    }
  }
  if (net.dnsDomain !== undefined && !isDnsSubdomain(net.dnsDomain)) {
    err('networking.dnsDomain', net.dnsDomain, 'is not a DNS domain', 'use e.g. "cluster.local"');
  }
}

function checkEtcd(err: Report, warn: Report, etcd: EtcdSpec | undefined): void {
  if (etcd === undefined) return;
  if (etcd.local !== undefined && etcd.external !== undefined) {
    err('etcd', Object.keys(etcd), 'sets both local and external', 'keep one: local (stacked on the masters) or external');
  }
  const local = etcd.local;
  if (local !== undefined) {
    checkComponent(err, 'etcd.local', local);
    if (local.dataDir !== undefined && !isAbsPath(local.dataDir)) {
      err('etcd.local.dataDir', local.dataDir, 'is not an absolute path', 'use e.g. "/var/lib/etcd"');
    }
    if (local.imageTag !== undefined && !/^[\w][\w.-]{0,127}$/.test(local.imageTag)) {
      err('etcd.local.imageTag', local.imageTag, 'is not an image tag', 'use a tag such as "3.5.24-0"');
    }
    if (local.image !== undefined && !KUBEADM_ETCD_IMAGE.test(local.image)) {
      warn('etcd.local.image', local.image, 'cannot be written as kubeadm\'s etcd imageRepository + "/etcd:" + imageTag, so kubeadm-config.yaml leaves the etcd image to kubeadm\'s default; the bundles\' etcd manifests use your image, but a `kubeadm join --control-plane` or `kubeadm upgrade` would not',
        'publish the image as <repository>/etcd:<tag> and give that, or keep kubeadm away from the etcd manifests');
    }
    if (local.version !== undefined) {
      const v = parseEtcdVersion(local.version);
      if (!v || !etcdProfile(v.line)) {
        err('etcd.local.version', local.version, 'is not a supported etcd version', `use a version of etcd ${ETCD_PROFILES.map((p) => p.line).join(', ')}, e.g. "3.5.24"`);
      }
    }
  }
  const ext = etcd.external;
  if (ext !== undefined) {
    if (ext.endpoints.length === 0) {
      err('etcd.external.endpoints', ext.endpoints, 'must be a non-empty list', 'list the etcd client URLs, e.g. ["https://10.0.0.21:2379"]');
    } else {
      ext.endpoints.forEach((e, i) => {
        if (!/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(e)) {
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
 * The escape hatches of a component. Pod fields a static pod cannot use (serviceAccountName, Secret
 * volumes, secretKeyRef, ...) are not in the schema, which explains them (lib/spec/static-pod-fields.ts).
 */
function checkComponent(err: Report, path: string, c: ComponentSpec): void {
  if (c.image !== undefined && (!/^[^\s]+$/.test(c.image) || hasControlChar(c.image))) {
    err(`${path}.image`, c.image, 'is not an image reference', 'use e.g. "registry.example.com/kube-apiserver:v1.37.1"');
  }
  (c.extraArgs ?? []).forEach((a, i) => {
    if (hasControlChar(a.name)) {
      err(`${path}.extraArgs[${i}].name`, a.name, 'contains a control character (a newline, tab, ...), which would break the flag out of its line', 'write the flag name on one line, without dashes, e.g. "audit-log-maxage"');
    } else if (!/^[a-z0-9][a-z0-9-]*$/i.test(a.name)) {
      err(`${path}.extraArgs[${i}]`, a, 'is not { name, value } with a flag name', 'write the flag name without dashes, e.g. { name: "audit-log-maxage", value: "30" }');
    } else if (hasControlChar(a.value)) {
      err(`${path}.extraArgs[${i}].value`, a.value, 'contains a control character (a newline, tab, ...), which would break the flag out of its line in the manifest and kubeadm config', 'write the value on one line; for a list use the flag\'s separator (usually ","), for a file\'s content mount the file with extraVolumes');
    }
  });
  const names = new Set<string>();
  (c.extraVolumes ?? []).forEach((v, i) => checkVolume(err, `${path}.extraVolumes[${i}]`, v, names));
  (c.extraEnvs ?? []).forEach((e, i) => checkEnv(err, `${path}.extraEnvs[${i}]`, e));
}

function checkVolume(err: Report, p: string, v: ExtraVolume, names: Set<string>): void {
  if (!isDnsLabel(v.name)) {
    err(`${p}.name`, v.name, 'is not a DNS label', 'use a lower-case name such as "audit-policy"');
  } else if (names.has(v.name)) {
    err(`${p}.name`, v.name, 'is used by another extra volume', 'give every volume its own name');
  } else {
    names.add(v.name);
  }
  if (!isAbsPath(v.mountPath)) err(`${p}.mountPath`, v.mountPath, 'is not an absolute path', 'use the path inside the container, e.g. "/etc/kubernetes/audit"');
  if ((v.hostPath !== undefined) === (v.emptyDir !== undefined)) {
    err(p, Object.keys(v), 'needs exactly one of hostPath and emptyDir', 'add hostPath: "/path/on/host" (or emptyDir: {})');
  }
  if (v.hostPath !== undefined && !isAbsPath(v.hostPath)) err(`${p}.hostPath`, v.hostPath, 'is not an absolute path', 'use the absolute path on the host');
}

function checkEnv(err: Report, p: string, e: EnvVar): void {
  if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) {
    err(`${p}.name`, e.name, 'is not an environment variable name', 'write { name: "GOGC", value: "100" }');
    return;
  }
  if ((e.value !== undefined) === (e.valueFrom !== undefined)) {
    err(p, Object.keys(e), 'needs exactly one of value and valueFrom', 'write a literal value: "..." or a downward-API valueFrom');
  }
}
