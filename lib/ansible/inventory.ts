import { DEFAULTS } from '../plan/defaults';
import { hostPort, urlHost } from '../util/net';
import { ClusterPlan } from '../plan/plan';

/** The inventory groups the playbooks act on. */
export const ANSIBLE_GROUPS = { masters: 'masters', lbHosts: 'lb_hosts', workers: 'workers' } as const;

/** One host of the inventory: how Ansible reaches it (its address) and what the playbooks need of it. */
export interface AnsibleHost {
  /** ssh target: the node's address (the user may override it in host_vars). */
  readonly ansible_host: string;
  /** The node's address in the cluster, as a URL host (IPv6 in brackets). */
  readonly hacp_url_host: string;
  /** Stacked etcd: this member's client URL, for etcdctl. */
  readonly hacp_etcd_client_url?: string;
  /** Stacked etcd: this member's peer URL, for `etcdctl member add`. */
  readonly hacp_etcd_peer_url?: string;
}

/**
 * The cluster's Ansible inventory: groups of masters, LB hosts and workers with the addresses the spec
 * gives, and the cluster facts the playbooks read (ports, the VIP, where the certificates are). How to
 * connect (ssh user, become, keys) is left to the user's group_vars beside it.
 */
export function ansibleInventory(plan: ClusterPlan): Record<string, unknown> {
  const stacked = plan.etcd.kind === 'local';
  const pki = plan.certificatesDir;
  const etcdTls = stacked
    ? { ETCDCTL_CACERT: `${pki}/etcd/ca.crt`, ETCDCTL_CERT: `${pki}/apiserver-etcd-client.crt`, ETCDCTL_KEY: `${pki}/apiserver-etcd-client.key` }
    : { ETCDCTL_CACERT: plan.etcd.caFile, ETCDCTL_CERT: plan.etcd.certFile, ETCDCTL_KEY: plan.etcd.keyFile };
  const masters = Object.fromEntries(plan.masters.map((m) => [m.name, {
    ansible_host: m.address,
    hacp_url_host: urlHost(m.address),
    ...(stacked ? {
      hacp_etcd_client_url: `https://${hostPort(m.address, DEFAULTS.etcdClientPort)}`,
      hacp_etcd_peer_url: `https://${hostPort(m.address, DEFAULTS.etcdPeerPort)}`,
    } : {}),
  } satisfies AnsibleHost]));
  const lb = plan.loadBalancer;
  const lbHosts = lb?.placement === 'hosts' ? lb.keepalived.nodes : [];
  const workers = plan.workerProxy?.workers ?? [];
  const plain = (nodes: readonly { readonly name: string; readonly address: string }[]) =>
    Object.fromEntries(nodes.map((n) => [n.name, { ansible_host: n.address, hacp_url_host: urlHost(n.address) } satisfies AnsibleHost]));
  return {
    all: {
      vars: {
        hacp_cluster: plan.name,
        hacp_kubernetes_version: plan.kubernetesVersion,
        hacp_pki_mode: plan.pki.mode,
        hacp_certificates_dir: pki,
        hacp_api_port: plan.apiServer.bindPort,
        hacp_endpoint: hostPort(plan.endpoint.host, plan.endpoint.port),
        // The VIP keepalived holds, when the masters hold it (the rolling order puts its holder last):
        // a proxy or vip-only on the masters; lvs-dr always runs on dedicated hosts (validation).
        ...(lb?.placement === 'masters' ? { hacp_vip: lb.vip } : {}),
        ...(lb && lb.placement === 'hosts' ? { hacp_lb_vip: lb.vip } : {}),
        ...(plan.workerProxy ? { hacp_worker_proxy_port: plan.workerProxy.port } : {}),
        hacp_etcd: stacked ? 'stacked' : 'external',
        ...(stacked ? { hacp_etcd_data_dir: plan.etcd.dataDir } : { hacp_etcd_endpoints: plan.etcd.endpoints.join(',') }),
        hacp_etcdctl_env: etcdTls,
      },
      children: {
        [ANSIBLE_GROUPS.masters]: { hosts: masters },
        // Empty groups stay, so every playbook's host patterns match a group.
        [ANSIBLE_GROUPS.lbHosts]: { hosts: plain(lbHosts) },
        [ANSIBLE_GROUPS.workers]: { hosts: plain(workers) },
      },
    },
  };
}
