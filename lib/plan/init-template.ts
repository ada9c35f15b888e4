import { DEFAULT_KUBERNETES_MINOR, SUPPORTED_MINORS } from './versions';

/**
 * The commented example spec `ha-control-plane init` writes: three stacked-etcd masters on the default
 * Kubernetes minor (the version table's, lib/plan/versions.ts) behind a VIP that keepalived holds and
 * haproxy serves on port 8443 of the masters, with the optional fields shown commented out at their
 * defaults. Valid as written, without a warning.
 *
 * @param schemaRef path or URL of schema/cluster-spec.schema.json for the yaml-language-server line
 */
export function initSpecYaml(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# A highly available Kubernetes control plane, synthesized into one static-pod bundle per master:
#   ha-control-plane validate --spec cluster.yaml
#   ha-control-plane synth --spec cluster.yaml --out dist   # dist/<name>/<master>/etc/kubernetes/manifests/
# Edit the addresses, the VIP and keepalived.interface (marked EDIT THIS) for your network first.
# Every field is described in the schema named on the first line (editors with the YAML language
# server complete and check it). Commented-out fields show their defaults.

# Cluster name (a DNS label): the bundle directory dist/<name>/.
name: prod

# A supported minor ("${SUPPORTED_MINORS[0]}" ... "${SUPPORTED_MINORS[SUPPORTED_MINORS.length - 1]}", patch from the version table) or a full version ("${DEFAULT_KUBERNETES_MINOR}.1").
# Quote it: unquoted, YAML reads 1.30 as the number 1.3.
kubernetesVersion: "${DEFAULT_KUBERNETES_MINOR}"

# Where clients reach the API servers: the virtual IP (VIP) keepalived moves to a healthy master, and the
# port haproxy listens on there. haproxy runs on the masters beside the API servers, which keep 6443
# (apiServer.bindPort), so the endpoint port must differ: 8443. Pick a free address in the masters' subnet.
# If your own load balancer holds the endpoint instead, remove loadBalancer and keepalived below and set
# external: true here (the port is then your load balancer's, often 6443).
controlPlaneEndpoint:
  host: 10.0.0.100
  port: 8443
  # external: true

# The control-plane nodes: 3 or 5 for a highly available stacked etcd. All IPv4 or all IPv6.
masters:
  - name: master-1
    address: 10.0.0.11
  - name: master-2
    address: 10.0.0.12
  - name: master-3
    address: 10.0.0.13
    # etcdState: existing   # for a member joining a running cluster (after etcdctl member add);
    #                       # replacement for a new node in a dead member's place

networking:
  serviceSubnet: 10.96.0.0/12
  podSubnet: 10.244.0.0/16
  # dnsDomain: cluster.local

# The load-balancing tier on the masters: haproxy spreads requests over every API server that answers
# /readyz, keepalived holds the VIP on one master at a time (VRRP, unicast between the masters).
# type: nginx works the same way; lvs-dr needs dedicated hosts (loadBalancers: [{ name, address }]).
loadBalancer:
  type: haproxy
  # vip: 10.0.0.100                       # when controlPlaneEndpoint.host is a DNS name for the VIP
  # healthCheckPath: /readyz

keepalived:
  # EDIT THIS: the network interface that carries the masters' addresses (see "ip -br addr" on a
  # master, e.g. ens192); eth0 is only a guess. keepalived puts the VIP on it.
  interface: eth0
  # virtualRouterId: 51                   # unique per VRRP group on the network segment (1-255)

# imageRepository: registry.k8s.io        # an air-gapped mirror
# certificatesDir: /etc/kubernetes/pki
# clusterName: kubernetes
# caCertificatePaths: [/etc/ca-certificates, /usr/local/share/ca-certificates, /usr/share/ca-certificates]

# etcd:
#   local:                                # stacked on the masters (the default)
#     dataDir: /var/lib/etcd
#     # imageTag: 3.5.24-0                # pin another etcd; flags are spelled for it
#   # external:                           # or an etcd cluster of its own (no etcd pods)
#   #   endpoints: [https://10.0.0.21:2379]
#   #   caFile: /etc/kubernetes/pki/etcd/ca.crt
#   #   certFile: /etc/kubernetes/pki/apiserver-etcd-client.crt
#   #   keyFile: /etc/kubernetes/pki/apiserver-etcd-client.key

# Security profile: kubeadm's flags, or "hardened" (CIS Kubernetes Benchmark v1.12: audit log, Secrets
# encrypted at rest, anonymous access only to health endpoints, ...). Its encryption key is generated
# once into ha-control-plane-state/<name>/encryption-key next to this file: keep it out of git.
# security:
#   profile: kubeadm

# Certificates and kubeconfigs: made by kubeadm on the nodes (the default), or generated into the bundles
# from a state directory beside this file (keep it, and dist/, out of version control):
# pki:
#   mode: generate
#   keyAlgorithm: RSA-2048                # RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384
#   dir: ha-control-plane-state/<name>/pki

# Escape hatches on apiServer, controllerManager, scheduler and etcd.local:
# apiServer:
#   bindPort: 6443
#   extraArgs:
#     - name: audit-log-maxage
#       value: "30"
#   extraVolumes:
#     - name: audit
#       hostPath: /var/log/kubernetes/audit
#       mountPath: /var/log/kubernetes/audit
#   extraEnvs:
#     - name: GOGC
#       value: "100"
`;
}
