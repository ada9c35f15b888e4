import * as path from 'node:path';
import { App, AppProps, Chart, Yaml } from 'cdk8s';
import type { Scalar, ScalarTag, Tags } from 'yaml';
import { yaml } from '../util/yaml';
import { goYamlDoubleQuotes } from './go-yaml-style';
import { NodeChart } from '../constructs/node-chart';
import { BundleFile, writeBundles } from './files';
import { formatIssue, InputError, SpecIssue } from '../spec/errors';
import { bundleSummary } from './summary';
import type * as Tarball from './tarball';
import { hasBrand, setBrand } from '../util/brand';

/** Mode of static pod manifests (kubeadm; CIS 1.1.1/1.1.3/1.1.5/1.1.7). */
export const MANIFEST_MODE = 0o600;

/**
 * Serializes a manifest as kubeadm does (Go's JSON-to-YAML, go-yaml v2): keys sorted at every level,
 * sequences not indented under their key, no line folding, strings that would read back as another
 * type double-quoted and other strings that cannot be plain single-quoted (checked byte for byte
 * against the real kubeadm's manifests).
 */
export function manifestYaml(obj: unknown): string {
  const doc = new yaml.Document(obj, { sortMapEntries: true, customTags: manifestTags });
  return doc.toString({ indentSeq: false, lineWidth: 0, minContentWidth: 0, singleQuote: true });
}

/** YAML's tag of strings. */
const STRING_TAG = 'tag:yaml.org,2002:str';
/** The go-yaml string tag made of each string tag (one per YAML version: made once, not per document). */
const goYamlStrings = new WeakMap<ScalarTag, ScalarTag>();

/**
 * The default tags with the string tag writing double-quoted what go-yaml v2 double-quotes (keys and
 * values alike), as it writes them: no separate pass over the document.
 */
function manifestTags(tags: Tags): Tags {
  return tags.map((t) => {
    if (typeof t !== 'object' || t.tag !== STRING_TAG || t.format !== undefined || !t.stringify) return t;
    const strings = t as ScalarTag;
    let quoting = goYamlStrings.get(strings);
    if (!quoting) {
      quoting = {
        ...strings,
        stringify(item, ctx, onComment, onChompKeep) {
          const node = item as Scalar;
          if (typeof node.value === 'string' && goYamlDoubleQuotes(node.value)) node.type = 'QUOTE_DOUBLE';
          return strings.stringify!(item, ctx, onComment, onChompKeep);
        },
      };
      goYamlStrings.set(strings, quoting);
    }
    return quoting;
  });
}

/** Props of {@link StaticPodApp}. */
export interface StaticPodAppProps extends AppProps {
  /**
   * Also write an installable tarball per node: `<outdir>/<cluster>/bundles/<node>.tar.gz` (the node's
   * files, an `install.sh` and SHA256SUMS) and `<outdir>/<cluster>/bundles/SHA256SUMS`.
   * @default false
   */
  readonly tarballs?: boolean;
  /**
   * Where synth reports, one line at a time: the warnings about the spec, the state it created (a new
   * encryption key, the PKI it issued) and every file it wrote, per node. `false` reports nothing.
   * @default each line to standard error (what `cdk8s synth` shows)
   */
  readonly reporter?: SynthReporter | false;
}

/** Receives one line of a synth's report (without a trailing newline). */
export type SynthReporter = (line: string) => void;

/** The default reporter: standard error. */
const stderrReporter: SynthReporter = (line) => { process.stderr.write(`${line}\n`); };

/** State to store at synth, with what to report once it is stored. */
interface StateCommit {
  readonly commit: () => void;
  readonly report?: () => readonly string[];
}

/** Marks a StaticPodApp, also one from another copy of this package (instanceof would not see it). */
const STATIC_POD_APP = Symbol.for('cdk8s-ha-control-plane.StaticPodApp');

/**
 * A cdk8s App whose synth writes the kubelet layout instead of one YAML file per chart:
 * `<outdir>/<cluster>/<node>/etc/kubernetes/manifests/<pod>.yaml` (one Pod per file, 0600, directory
 * 0700) plus each node's host files at their absolute paths. Everything is rendered in memory first,
 * so an error leaves the output directory untouched. Charts that are not node charts are written the
 * usual cdk8s way, as `<outdir>/<chart>.k8s.yaml`. With `tarballs`, each cluster directory also gets
 * `bundles/<node>.tar.gz` (installable with the `install.sh` inside) and `bundles/SHA256SUMS`.
 */
export class StaticPodApp extends App {
  /** True for a {@link StaticPodApp} of any copy of this package (`instanceof` sees only its own copy's). */
  public static isStaticPodApp(x: unknown): x is StaticPodApp {
    return hasBrand(x, STATIC_POD_APP);
  }

  private readonly stateCommits: StateCommit[] = [];
  private readonly warnings: string[] = [];
  /** Files of whole clusters, made only when a synth with tarballs needs them (see addClusterFiles). */
  private readonly clusterFileSources = new Map<string, (() => readonly BundleFile[])[]>();
  private readonly clusterFileCache = new Map<string, readonly BundleFile[]>();

  /** Whether synth also writes installable tarballs. */
  public readonly tarballs: boolean;
  /** Where synth reports (undefined: nowhere). */
  private readonly reporter?: SynthReporter;

  constructor(props: StaticPodAppProps = {}) {
    const { tarballs, reporter, ...appProps } = props;
    super(appProps);
    this.tarballs = tarballs ?? false;
    this.reporter = reporter === false ? undefined : reporter ?? stderrReporter;
    setBrand(this, STATIC_POD_APP);
  }

  /**
   * Renders every node's files without writing them: cluster → node → files. First runs the validations
   * of every construct in the app (`node.addValidation`, as cdk8s's `App.synth` does): their errors throw
   * one InputError, `validation failed:` then `  [<construct path>] <error>` per error.
   */
  public renderBundles(): Map<string, Map<string, BundleFile[]>> {
    const errors = this.node.findAll().flatMap((c) => c.node.validate().map((e) => `  [${c.node.path || '(app)'}] ${e}`));
    if (errors.length > 0) throw new InputError(`validation failed:\n${errors.join('\n')}`);
    const bundles = new Map<string, Map<string, BundleFile[]>>();
    for (const chart of this.nodeCharts()) {
      const nodes = bundles.get(chart.clusterName) ?? new Map<string, BundleFile[]>();
      bundles.set(chart.clusterName, nodes);
      if (nodes.has(chart.nodeName)) {
        throw new InputError(`two charts write node ${JSON.stringify(chart.nodeName)} of cluster ${JSON.stringify(chart.clusterName)} (fix: give every node a distinct name)`);
      }
      const files: BundleFile[] = [];
      const seen = new Set<string>();
      const add = (f: BundleFile) => {
        if (seen.has(f.path)) throw new InputError(`node ${chart.nodeName}: two files at /${f.path} (fix: each pod and host file needs its own path)`);
        seen.add(f.path);
        files.push(f);
      };
      for (const hf of chart.hostFiles) add({ path: hf.absolutePath.slice(1), content: hf.content, mode: hf.mode });
      for (const pod of chart.staticPods) add({ path: pod.manifestPath, content: manifestYaml(pod.toManifest()), mode: MANIFEST_MODE });
      nodes.set(chart.nodeName, files);
    }
    // With tarballs, whatever could stop one from being made fails here, before anything is written.
    if (this.tarballs) {
      const { nodePackages } = require('./tarball') as typeof Tarball;
      for (const [cluster, nodes] of bundles) {
        nodePackages(cluster, nodes);
        for (const top of new Set(this.clusterFiles(cluster).map((f) => f.path.split('/')[0]))) {
          if (nodes.has(top)) throw new InputError(`cluster ${cluster}: a node named "${top}" would share its directory with the cluster's ${top}/ files (fix: rename the node)`);
        }
      }
    }
    return bundles;
  }

  /**
   * Registers state to store (a generated encryption key, a PKI) once this synth has rendered every
   * bundle without error and right before it writes them: a synth that fails stores nothing new, and no
   * bundle is written that uses state which was not stored.
   */
  public addStateCommit(commit: () => void, report?: () => readonly string[]): void {
    this.stateCommits.push({ commit, report });
  }

  /**
   * Adds files of a whole cluster (paths relative to `<outdir>/<cluster>/`, e.g. the Ansible content),
   * written beside the tarballs: only with `tarballs`, which they are about.
   */
  public addClusterFiles(cluster: string, files: () => readonly BundleFile[]): void {
    this.clusterFileSources.set(cluster, [...(this.clusterFileSources.get(cluster) ?? []), files]);
    this.clusterFileCache.delete(cluster);
  }

  /** A cluster's files (addClusterFiles), made once. */
  private clusterFiles(cluster: string): readonly BundleFile[] {
    let files = this.clusterFileCache.get(cluster);
    if (!files) {
      files = (this.clusterFileSources.get(cluster) ?? []).flatMap((make) => make());
      this.clusterFileCache.set(cluster, files);
    }
    return files;
  }

  /**
   * What a synth writes, per node: `<outdir>/<cluster>/<node>/ (<role>: <pods>; <n> files)` and one line per
   * file (host files first), with tarballs one line per cluster for them.
   *
   * @param bundles what renderBundles returned
   * @param outdir the output directory as it should be shown
   * @param tarballs whether to list the tarballs (@default whether this app writes them)
   */
  public fileReport(bundles: ReadonlyMap<string, ReadonlyMap<string, readonly BundleFile[]>>, outdir: string, tarballs = this.tarballs): string[] {
    const charts = new Map(this.nodeCharts().map((c) => [`${c.clusterName}/${c.nodeName}`, c]));
    return bundleSummary(outdir, bundles, (cluster, node) => charts.get(`${cluster}/${node}`)?.description ?? '', tarballs);
  }

  /** Adds warnings the synth reports (as `warning: <issue>`), e.g. the spec's. */
  public addWarnings(issues: readonly (SpecIssue | string)[]): void {
    for (const i of issues) this.warnings.push(typeof i === 'string' ? i : formatIssue(i));
  }

  /**
   * Writes the bundles (and any plain charts) to the output directory, then reports the warnings, the
   * state it stored and every file it wrote. Every construct's validations run and every file is
   * rendered first ({@link StaticPodApp.renderBundles}): when one fails, nothing is written or stored.
   *
   * @param bundles what {@link StaticPodApp.renderBundles} returned for this app, when the caller has
   * rendered it already and changed nothing since (the CLI shows the rendering before it writes)
   * @default rendered now
   */
  public synth(bundles: ReadonlyMap<string, ReadonlyMap<string, readonly BundleFile[]>> = this.renderBundles()): void {
    const stored = this.stateCommits.splice(0);
    for (const s of stored) s.commit();
    const plain: Chart[] = this.charts.filter((c: Chart) => !isOrInNodeChart(c));
    const plainYaml = plain.map((c) => ({ file: path.join(this.outdir, `${c.node.id}.k8s.yaml`), docs: c.toJson() }));
    const clusterFiles = this.tarballs ? new Map([...bundles.keys()].map((c) => [c, this.clusterFiles(c)])) : undefined;
    writeBundles(this.outdir, bundles, { tarballs: this.tarballs, clusterFiles });
    for (const p of plainYaml) Yaml.save(p.file, p.docs);
    const report = this.reporter;
    if (!report) return;
    for (const w of this.warnings) report(`warning: ${w}`);
    for (const s of stored) for (const line of s.report?.() ?? []) report(line);
    for (const line of this.fileReport(bundles, path.relative(process.cwd(), this.outdir) || '.')) report(line);
    for (const p of plainYaml) report(`${path.relative(process.cwd(), p.file)} (a chart that is not a node's)`);
  }

  /** The node charts of this app (every node's bundle), in construction order. */
  public nodeCharts(): NodeChart[] {
    return this.node.findAll().filter(NodeChart.isNodeChart);
  }
}

function isOrInNodeChart(c: Chart): boolean {
  return c.node.scopes.some(NodeChart.isNodeChart);
}
