/**
 * A structural diff of two static-pod manifests (kubeadm's and ours) whose paths name what differs in
 * the words an operator uses: containers, volumes and mounts by name, command flags by flag name —
 * `spec.containers[etcd].command[--initial-cluster]`, `spec.volumes[etcd-certs]`,
 * `metadata.annotations[ha-control-plane.io/version]`. The deliberate differences
 * (test/fixtures/kubeadm-differences.yaml) are matched against these paths.
 */

/** One difference: `kubeadm` or `ours` is undefined when only the other side has the path. */
export interface ManifestDifference {
  readonly file: string;
  readonly path: string;
  readonly kubeadm: unknown;
  readonly ours: unknown;
}

const KEYED_LISTS = new Set(['containers', 'initContainers', 'volumes', 'volumeMounts', 'env', 'ports']);

/** Differences between two parsed manifests of the same file. */
export function diffManifests(file: string, kubeadm: unknown, ours: unknown): ManifestDifference[] {
  const out: ManifestDifference[] = [];
  walk(kubeadm, ours, '', '', out, file);
  return out;
}

function walk(a: unknown, b: unknown, path: string, key: string, out: ManifestDifference[], file: string): void {
  if (equal(a, b)) return;
  if (key === 'command' && Array.isArray(a) && Array.isArray(b)) {
    if (a[0] !== b[0]) out.push({ file, path: `${path}[0]`, kubeadm: a[0], ours: b[0] });
    const fa = flags(a.slice(1));
    const fb = flags(b.slice(1));
    for (const name of union(fa.keys(), fb.keys())) {
      if (fa.get(name) !== fb.get(name)) out.push({ file, path: `${path}[${name}]`, kubeadm: fa.get(name), ours: fb.get(name) });
    }
    // Same flags, other order: kubeadm sorts them by name.
    if (out.every((d) => !d.path.startsWith(`${path}[`)) && a.join('\n') !== b.join('\n')) out.push({ file, path: `${path}(order)`, kubeadm: a, ours: b });
    return;
  }
  if (KEYED_LISTS.has(key) && Array.isArray(a) && Array.isArray(b) && [...a, ...b].every((x) => isRecord(x) && typeof x.name === 'string')) {
    const ma = new Map(a.map((x) => [(x as { name: string }).name, x]));
    const mb = new Map(b.map((x) => [(x as { name: string }).name, x]));
    for (const name of union(ma.keys(), mb.keys())) walk(ma.get(name), mb.get(name), `${path}[${name}]`, '', out, file);
    const order = (l: unknown[]) => l.map((x) => (x as { name: string }).name).join(',');
    if (ma.size === mb.size && [...ma.keys()].every((k) => mb.has(k)) && order(a) !== order(b)) out.push({ file, path: `${path}(order)`, kubeadm: order(a), ours: order(b) });
    return;
  }
  if (isRecord(a) && isRecord(b)) {
    for (const k of union(Object.keys(a), Object.keys(b))) {
      const sub = path === '' ? k : /^[A-Za-z][A-Za-z0-9]*$/.test(k) ? `${path}.${k}` : `${path}[${k}]`;
      walk(a[k], b[k], sub, k, out, file);
    }
    return;
  }
  out.push({ file, path, kubeadm: a, ours: b });
}

/** "--name=value" arguments as name → value (a bare "--name" has value ""). */
function flags(args: readonly unknown[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const a of args) {
    const s = String(a);
    const eq = s.indexOf('=');
    m.set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? '' : s.slice(eq + 1));
  }
  return m;
}

function union<T>(a: Iterable<T>, b: Iterable<T>): T[] {
  return [...new Set([...a, ...b])];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
