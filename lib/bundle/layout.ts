/** One file of a bundle, relative to the node's root. */
export interface BundleFile {
  /** Path relative to the node root, e.g. etc/kubernetes/manifests/etcd.yaml. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** Where the installable tarballs go in a cluster's directory: `<outdir>/<cluster>/bundles/`. */
export const TARBALLS_DIR = 'bundles';

/** Where the Ansible inventory and playbooks go in a cluster's directory: `<outdir>/<cluster>/ansible/`. */
export const ANSIBLE_DIR = 'ansible';

/** The kubelet's static pod directory (kubeadm's staticPodPath), relative to the node root. */
export const MANIFESTS_DIR = 'etc/kubernetes/manifests';

/** Directory modes that differ from 0755: kubeadm keeps the manifests directory 0700 (CIS 1.1.x). */
export const DIRECTORY_MODES: Record<string, number> = { [MANIFESTS_DIR]: 0o700 };

/** The mode of a directory of a node's tree (relative to the node root). */
export function directoryMode(rel: string): number {
  return DIRECTORY_MODES[rel] ?? 0o755;
}

/** Whether a path (relative to the node root) is a static pod manifest. */
export function isManifest(p: string): boolean {
  return p.startsWith(`${MANIFESTS_DIR}/`);
}

/** Host files first, then manifests (the install order on a node), each group in the given order. */
export function installOrder<T extends { readonly path: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => Number(isManifest(a.path)) - Number(isManifest(b.path)));
}
