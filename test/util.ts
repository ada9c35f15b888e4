import { parse } from 'yaml';
import { ClusterSpec, EXAMPLE_SPEC, HaControlPlane, PreparedPki, StaticPodApp } from '../lib';

/** The embedded example without its LB/VIP tier (control-plane tests), with overrides. */
export function spec(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  const { loadBalancer: _lb, keepalived: _ka, ...controlPlane } = EXAMPLE_SPEC;
  // Without the LB tier, the VIP is held by a load balancer of the user's own (no warning about it).
  return { ...controlPlane, controlPlaneEndpoint: { ...controlPlane.controlPlaneEndpoint, external: true }, ...overrides };
}

/** The embedded example with its LB/VIP tier (keepalived + haproxy on the masters), with overrides. */
export function haSpec(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  return { ...EXAMPLE_SPEC, ...overrides };
}

/** The encryption key tests render hardened clusters with (props, so nothing is read or written on disk). */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 0x11).toString('base64');

/** Synthesizes in memory: node name → relative path → file. */
export function render(s: ClusterSpec, pki?: PreparedPki): Map<string, Map<string, { content: string; mode: number }>> {
  const app = new StaticPodApp({ reporter: false, outdir: '/nonexistent' });
  new HaControlPlane(app, s.name, { spec: s, pki, encryptionKey: TEST_ENCRYPTION_KEY });
  const out = new Map<string, Map<string, { content: string; mode: number }>>();
  for (const [node, files] of app.renderBundles().get(s.name)!) {
    out.set(node, new Map(files.map((f) => [f.path, { content: f.content, mode: f.mode }])));
  }
  return out;
}

/** The parsed Pod of one component on one node. */
export function pod(s: ClusterSpec, component: string, node?: string): any {
  const bundles = render(s);
  const files = bundles.get(node ?? s.masters[0].name)!;
  const f = files.get(`etc/kubernetes/manifests/${component}.yaml`);
  if (!f) throw new Error(`no ${component}.yaml on ${node}`);
  return parse(f.content);
}

/** The command flags of a pod's first container as a name → value map (last one wins). */
export function flags(p: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of p.spec.containers[0].command.slice(1)) {
    const m = /^--([^=]+)=(.*)$/.exec(arg);
    if (!m) throw new Error(`not a --flag=value: ${arg}`);
    out[m[1]] = m[2];
  }
  return out;
}
