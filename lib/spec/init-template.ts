/**
 * The commented example spec `ha-control-plane init` writes: three stacked-etcd masters on Kubernetes
 * 1.37 behind a VIP, with the optional fields shown commented out at their defaults.
 *
 * @param schemaRef path or URL of schema/cluster-spec.schema.json for the yaml-language-server line
 */
export function initSpecYaml(schemaRef: string): string {
  return `# yaml-language-server: $schema=${schemaRef}
# A highly available Kubernetes control plane, synthesized into one static-pod bundle per master:
#   ha-control-plane validate --spec cluster.yaml
#   ha-control-plane synth --spec cluster.yaml --out dist   # dist/<name>/<master>/etc/kubernetes/manifests/
# Every field is described in the schema named on the first line (editors with the YAML language
# server complete and check it). Commented-out fields show their defaults.

# Cluster name (a DNS label): the bundle directory dist/<name>/.
name: prod

# A supported minor ("1.33" ... "1.37", patch from the version table) or a full version ("1.37.1").
# Quote it: unquoted, YAML reads 1.30 as the number 1.3.
kubernetesVersion: "1.37"

# Where clients reach the API servers: a VIP (or DNS name) in front of all masters, and its port.
controlPlaneEndpoint:
  host: 10.0.0.100
  port: 6443

# The control-plane nodes: 3 or 5 for a highly available stacked etcd. All IPv4 or all IPv6.
masters:
  - name: master-1
    address: 10.0.0.11
  - name: master-2
    address: 10.0.0.12
  - name: master-3
    address: 10.0.0.13
    # etcdState: existing   # for a member joining a running cluster (after etcdctl member add)

networking:
  serviceSubnet: 10.96.0.0/12
  podSubnet: 10.244.0.0/16
  # dnsDomain: cluster.local

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
