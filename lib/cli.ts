import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { BundleFile } from './bundle/files';
import { StaticPodApp, SynthReporter } from './bundle/app';
import { encryptionKeyPreview, newEncryptionKeyWarning } from './bundle/encryption-key';
import { ANSIBLE_DIR, TARBALLS_DIR } from './bundle/layout';
import { HaControlPlane } from './ha-control-plane';
import type * as Prepare from './pki/prepare';
import { pkiSummary } from './pki/summary';
import { count } from './plan/check';
import { formatIssue, InputError, SpecError, SpecIssue } from './spec/errors';
import { EXAMPLE_SPEC } from './spec/example';
import type * as InitTemplate from './plan/init-template';
import { LoadedSpec, readSpec, readSpecFile } from './plan/load';
import { planCluster } from './plan/plan';
import { CLUSTER_SPEC_SCHEMA } from './spec/schema-check';
import { writeFileAtomic } from './util/files';

/** Where the CLI reads and writes; process streams by default, buffers in tests. */
export interface CliIo {
  /** Writes to standard output (text as is, newlines included). */
  readonly stdout: (text: string) => void;
  /** Writes to standard error. */
  readonly stderr: (text: string) => void;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** Environment (HA_CONTROL_PLANE_DEBUG=1 prints stack traces of internal errors). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Exit codes. */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** Invalid input: spec errors, a file that cannot be read or written. */
  INVALID: 1,
  /** Usage: unknown command or flag, missing --spec. */
  USAGE: 2,
  /** A bug: an unexpected exception (sysexits' EX_SOFTWARE). */
  INTERNAL: 70,
} as const;

/** One command's usage: its synopsis (after the program name) and what it does, one line per entry. */
interface CommandHelp {
  readonly synopsis: string;
  readonly lines: readonly string[];
}

/** The commands, in the order the help lists them. */
const COMMANDS: Readonly<Record<string, CommandHelp>> = {
  synth: {
    synopsis: 'synth --spec FILE [--out DIR] [--pki-dir DIR]',
    lines: [
      'check the spec and write one bundle per node to DIR/<name>/<node>/',
      '(DIR defaults to dist; nothing is written unless the spec is valid);',
      'with pki.mode generate, certificates come from the PKI state directory',
      '(--pki-dir, else the spec\'s pki.dir relative to the spec file)',
    ],
  },
  bundle: {
    synopsis: 'bundle --spec FILE [--out DIR] [--pki-dir DIR]',
    lines: [
      'synth, plus an installable tarball per node in DIR/<name>/bundles/',
      '(<node>.tar.gz with install.sh and SHA256SUMS inside; SHA256SUMS beside)',
    ],
  },
  validate: {
    synopsis: 'validate --spec FILE [--pki-dir DIR]',
    lines: ['check the spec: prints "valid" and any warnings, or every problem'],
  },
  schema: { synopsis: 'schema', lines: ['print the JSON Schema of the spec'] },
  init: { synopsis: 'init [--out FILE] [--force]', lines: ['write a commented example spec (to standard output without --out)'] },
  help: { synopsis: 'help [COMMAND], --version', lines: ['print this help (or one command\'s), or the version'] },
};

const FOOTER = 'FILE is YAML or JSON ("-" reads standard input). Exit codes: 0 ok, 1 invalid spec or unreadable file, 2 usage, 70 internal error.\n';
const COLUMN = 34;

const USAGE = `usage: ha-control-plane <command> [options]

commands:
${Object.values(COMMANDS).map((c) => {
    const head = `  ${c.synopsis}`;
    const [first, ...rest] = c.lines;
    const pad = ' '.repeat(COLUMN);
    return head.length < COLUMN ? [`${head.padEnd(COLUMN)}${first}`, ...rest.map((l) => pad + l)].join('\n') : [head, ...c.lines.map((l) => pad + l)].join('\n');
  }).join('\n')}

${FOOTER}`;

/** The usage of one command (`ha-control-plane <command> --help`, `ha-control-plane help <command>`). */
function commandUsage(name: string): string {
  const c = COMMANDS[name];
  return `usage: ha-control-plane ${c.synopsis}\n\n${c.lines.map((l) => `  ${l}`).join('\n')}\n\n${FOOTER}`;
}

/** A usage mistake: exit 2 with the message and a pointer to the help. */
class UsageError extends Error {}

/**
 * Runs the `ha-control-plane` command line and returns its exit code; never throws.
 *
 * @param argv arguments after the program name
 * @param io streams, working directory and environment
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await dispatch([...argv], io);
  } catch (e) {
    return reportError(e, io);
  }
}

/**
 * The cdk8s app of this repository (main.ts: what `cdk8s synth`, `npm run synth` and `npm run bundle`
 * run), on the same path as `ha-control-plane synth`: the spec file named by HA_CLUSTER_SPEC (else the
 * embedded example), the PKI state directory HA_PKI_DIR (relative to the working directory), the output
 * directory of cdk8s (CDK8S_OUTDIR, else dist), tarballs with `--bundle`. It reports the cdk8s way: the
 * app's report (warnings, state stored, every file written) on standard error; errors as the CLI does.
 * Returns the exit code; never throws.
 *
 * @param argv arguments after the program name (`--bundle`)
 * @param io streams, working directory and environment
 */
export async function runApp(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  // The report goes out in one write (a line at a time costs a write each).
  const report: string[] = [];
  const flush = () => { if (report.length) io.stderr(report.splice(0).join('')); };
  try {
    const file = io.env.HA_CLUSTER_SPEC || undefined;
    const loaded = file !== undefined ? readSpecArg(file, io) : undefined;
    const built = await buildCluster(loaded ?? { spec: EXAMPLE_SPEC, plan: planCluster(EXAMPLE_SPEC), warnings: [] }, io, {
      baseDir: file !== undefined ? specDir(file, io) : io.cwd,
      pkiDir: io.env.HA_PKI_DIR || undefined,
      tarballs: argv.includes('--bundle'),
      // The spec's warnings with their place in the file; the plan's for the example.
      warnings: loaded?.warnings,
      reporter: (line) => { report.push(`${line}\n`); },
    });
    writeCluster(built, 'the output directory', built.app.outdir);
    flush();
    return EXIT.OK;
  } catch (e) {
    flush();
    return reportError(e, io);
  }
}

/**
 * Tells the user's errors from bugs and reports either, returning the exit code: usage 2, an
 * InputError (a SpecError: one line per issue) 1, anything else 70 with a hint (and the stack trace with
 * HA_CONTROL_PLANE_DEBUG). Errors of another copy of this package are recognized too (symbol guards).
 */
function reportError(e: unknown, io: CliIo): number {
  if (e instanceof UsageError) {
    io.stderr(`error: ${e.message}\nrun "ha-control-plane help" for usage\n`);
    return EXIT.USAGE;
  }
  // Errors the user fixes (the spec, a file, a directory, a construct's props): the message is the
  // whole story. Anything else is a bug.
  if (SpecError.isSpecError(e)) {
    for (const issue of e.issues) io.stderr(`error: ${formatIssue(issue)}\n`);
    return EXIT.INVALID;
  }
  if (InputError.isInputError(e)) {
    io.stderr(`error: ${e.message}\n`);
    return EXIT.INVALID;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(`internal error: ${err.message}\n`);
  io.stderr(io.env.HA_CONTROL_PLANE_DEBUG ? `${err.stack ?? ''}\n`
    : 'hint: this is a bug in cdk8s-ha-control-plane; please report it with the spec that triggers it (HA_CONTROL_PLANE_DEBUG=1 prints the stack trace)\n');
  return EXIT.INTERNAL;
}

/** The process's own streams, directory and environment. */
export function processIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
  };
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const command = argv.shift();
  // `<command> --help` / `-h` anywhere among its arguments: that command's usage, nothing else done.
  if (command !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, command) && command !== 'help' && argv.some((a) => a === '--help' || a === '-h')) {
    io.stdout(commandUsage(command));
    return EXIT.OK;
  }
  switch (command) {
    case 'synth': return synth(options(argv, { spec: true, out: true, 'pki-dir': true }), io, false);
    case 'bundle': return synth(options(argv, { spec: true, out: true, 'pki-dir': true }), io, true);
    case 'validate': return validate(options(argv, { spec: true, 'pki-dir': true }), io);
    case 'schema': options(argv, {}); io.stdout(`${JSON.stringify(CLUSTER_SPEC_SCHEMA, null, 2)}\n`); return EXIT.OK;
    case 'init': return init(options(argv, { out: true, force: true }), io);
    case 'help': case '--help': case '-h': {
      const topic = argv.shift();
      if (argv.length > 0) throw new UsageError(`unexpected argument ${argv[0]} (help takes one command name)`);
      if (topic === undefined) io.stdout(USAGE);
      else if (Object.prototype.hasOwnProperty.call(COMMANDS, topic)) io.stdout(topic === 'help' ? USAGE : commandUsage(topic));
      else throw new UsageError(`unknown command ${JSON.stringify(topic)}; the commands are ${Object.keys(COMMANDS).join(', ')}`);
      return EXIT.OK;
    }
    case '--version': case '-v': io.stdout(`${packageVersion()}\n`); return EXIT.OK;
    case undefined: throw new UsageError('no command given');
    default: throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are ${Object.keys(COMMANDS).join(', ')}`);
  }
}

interface Options {
  readonly spec?: string;
  readonly out?: string;
  readonly force?: boolean;
  readonly 'pki-dir'?: string;
}

/** Parses a command's flags; unknown flags, missing values and stray arguments are usage errors. */
function options(args: string[], allowed: { spec?: true; out?: true; force?: true; 'pki-dir'?: true }): Options {
  const spec = {
    spec: { type: 'string', short: 's' },
    out: { type: 'string', short: 'o' },
    force: { type: 'boolean', short: 'f' },
    'pki-dir': { type: 'string' },
  } as const;
  const chosen = Object.fromEntries(Object.entries(spec).filter(([k]) => k in allowed));
  try {
    const { values } = parseArgs({ args, options: chosen, strict: true, allowPositionals: false });
    return values as Options;
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    const quoted = /'([^']+)'/.exec(String((e as Error).message))?.[1];
    const flag = /--[\w-]+/.exec(quoted ?? '')?.[0] ?? quoted;
    const known = Object.keys(chosen).map((k) => `--${k}`).join(', ') || 'none';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${flag ?? ''} (options of this command: ${known})`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`option ${flag ?? ''} needs a value`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument ${flag ?? ''} (options of this command: ${known})`);
    throw new UsageError(String((e as Error).message));
  }
}

function requireSpec(o: Options): string {
  if (o.spec === undefined || o.spec === '') throw new UsageError('--spec FILE is required (the cluster spec, YAML or JSON)');
  return o.spec;
}

/** Reads the spec named on the command line (`-`: standard input), relative to the working directory. */
function readSpecArg(file: string, io: CliIo): LoadedSpec {
  return file === '-' ? readSpec(readStdin(), '(stdin)') : readSpecFile(path.resolve(io.cwd, file), file);
}

/** Reads the spec and prints its warnings (with their place in the file) at once. */
function load(file: string, io: CliIo): LoadedSpec {
  const loaded = readSpecArg(file, io);
  for (const w of loaded.warnings) io.stderr(`warning: ${formatIssue(w)}\n`);
  return loaded;
}

/** Where relative paths in a spec and the cluster state directory are resolved from: the spec file's directory. */
function specDir(file: string, io: CliIo): string {
  return file === '-' ? io.cwd : path.dirname(path.resolve(io.cwd, file));
}

function readStdin(): string {
  try {
    return fs.readFileSync(0, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read standard input: ${(e as Error).message} (fix: pipe the spec in, or give --spec FILE)`);
  }
}

/** How to build a cluster: {@link buildCluster}. */
interface BuildOptions {
  /** The spec file's directory: relative paths in the spec and the cluster state directory are resolved from it. */
  readonly baseDir: string;
  /**
   * The PKI state directory given on the command line (relative to the working directory); used with pki.mode generate.
   * @default the spec's pki.dir relative to baseDir
   */
  readonly pkiDir?: string;
  /**
   * The output directory (absolute).
   * @default cdk8s's: CDK8S_OUTDIR, else dist
   */
  readonly outdir?: string;
  /**
   * Whether the cluster is to be written (`false` for validate: the PKI state directory is not checked against the output).
   * @default true
   */
  readonly write?: boolean;
  /**
   * Also the installable tarballs.
   * @default false
   */
  readonly tarballs?: boolean;
  /**
   * The spec's warnings (with their place in the file) for the app's report.
   * @default the plan's warnings
   */
  readonly warnings?: readonly SpecIssue[];
  /**
   * The app's reporter.
   * @default false (the CLI prints its own report)
   */
  readonly reporter?: SynthReporter | false;
}

/** A cluster built and rendered in memory, nothing written yet. */
interface BuiltCluster {
  readonly app: StaticPodApp;
  readonly cp: HaControlPlane;
  /** The app's rendering (the one cluster): written as it is, not rendered again. */
  readonly rendered: Map<string, Map<string, BundleFile[]>>;
  readonly bundles: Map<string, BundleFile[]>;
  readonly pki?: Prepare.PreparedPki;
}

/**
 * Builds and renders the cluster in memory: everything synth does except writing. With pki.mode
 * generate, loads or creates the PKI in memory first (nothing is written to the state directory until
 * the synth): the state directory is `pkiDir` (relative to the working directory), else the spec's
 * pki.dir relative to `baseDir`. State (a generated encryption key, the PKI) is stored only by
 * app.synth(): validate stores nothing.
 */
async function buildCluster(loaded: LoadedSpec, io: CliIo, o: BuildOptions): Promise<BuiltCluster> {
  const app = new StaticPodApp({ outdir: o.outdir, tarballs: o.tarballs, reporter: o.reporter ?? false });
  // Planned once (by the loader): the PKI and the control plane take the plan.
  const pki = loaded.plan.pki.mode === 'generate'
    // The PKI code (and @peculiar/x509 with it) is loaded only for pki.mode generate.
    ? await (require('./pki/prepare') as typeof Prepare).preparePkiForPlan(loaded.plan, {
      dir: o.pkiDir,
      baseDir: o.pkiDir !== undefined ? io.cwd : o.baseDir,
      outdir: o.write === false ? undefined : path.resolve(io.cwd, app.outdir),
      write: false,
    })
    : undefined;
  const cp = new HaControlPlane(app, loaded.spec.name, { plan: loaded.plan, baseDir: o.baseDir, pki, warnings: o.warnings });
  const rendered = app.renderBundles();
  const bundles = rendered.get(loaded.spec.name) ?? new Map<string, BundleFile[]>();
  return { app, cp, rendered, bundles, pki };
}

/**
 * Writes a built cluster: stores new state (PKI, encryption key) first, then writes the bundles (and
 * reports, with the app's reporter). `out` is the output directory as the user named it, `what` what
 * named it (`--out`).
 */
function writeCluster(built: BuiltCluster, what: string, out: string): void {
  const outdir = built.app.outdir;
  if (fs.existsSync(outdir) && !fs.statSync(outdir).isDirectory()) {
    throw new InputError(`${what} ${JSON.stringify(out)} is not a directory (fix: give a directory; it is created when missing)`);
  }
  try {
    built.app.synth(built.rendered);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new InputError(`cannot write ${JSON.stringify(out)}: ${(e as Error).message} (fix: check the directory and its permissions)`);
    throw e;
  }
}

/** The PKI state directory of --pki-dir: only with pki.mode generate. */
function pkiDirOption(loaded: LoadedSpec, o: Options): string | undefined {
  const flag = o['pki-dir'];
  if (loaded.spec.pki?.mode !== 'generate') {
    if (flag !== undefined) throw new UsageError('--pki-dir needs pki.mode: generate in the spec (with kubeadm mode the bundles hold no certificates)');
    return undefined;
  }
  if (flag === '') throw new UsageError('option --pki-dir needs a value');
  return flag;
}

/** `synth` and `bundle` (with the installable tarballs). */
async function synth(o: Options, io: CliIo, tarballs: boolean): Promise<number> {
  const file = requireSpec(o);
  const out = o.out ?? 'dist';
  // Everything that can fail on input happens before the output directory (or the PKI state) is touched.
  const loaded = load(file, io);
  const built = await buildCluster(loaded, io, { baseDir: specDir(file, io), pkiDir: pkiDirOption(loaded, o), outdir: path.resolve(io.cwd, out), tarballs });
  writeCluster(built, '--out', out);
  const { app, cp, bundles, pki: prepared } = built;
  const plan = cp.plan;
  if (cp.generatedEncryptionKeyFile) io.stderr(`warning: ${newEncryptionKeyWarning(path.relative(io.cwd, cp.generatedEncryptionKeyFile))}\n`);
  io.stdout(`wrote ${path.join(out, loaded.spec.name)}/ (cluster ${loaded.spec.name}, Kubernetes ${plan.kubernetesVersion}, ${count(bundles.size, 'node')})\n`);
  io.stdout(table(app, bundles));
  // Every file written, per node (what a cdk8s synth through StaticPodApp reports too); the CLI's own
  // lines for the tarballs follow.
  const listing = app.fileReport(new Map([[loaded.spec.name, bundles]]), out, false);
  io.stdout(`${listing.join('\n')}\n`);
  if (tarballs) {
    const dir = path.join(out, loaded.spec.name, TARBALLS_DIR);
    io.stdout(`installable bundles: ${dir}/<node>.tar.gz (checksums in ${dir}/SHA256SUMS)\n`);
    io.stdout(`on each node: tar -xzf <node>.tar.gz && sudo sh <node>/install.sh   (--dry-run shows the changes first)\n`);
    const ansible = path.join(out, loaded.spec.name, ANSIBLE_DIR);
    io.stdout(`or with Ansible, node by node with health gates: ansible-playbook -i ${ansible}/inventory.yml ${ansible}/rolling-update.yml   (install.yml for a new cluster)\n`);
  }
  if (prepared) {
    io.stdout(pkiSummary(prepared, false));
    for (const w of prepared.report.warnings) io.stderr(`warning: ${formatIssue(w)}\n`);
    io.stderr(`warning: ${path.join(out, loaded.spec.name)}/ now holds private keys and kubeconfigs: keep it out of version control, copy each node's directory only to that node over a secure channel (rsync -a over ssh), and delete it when done; the CAs stay in ${prepared.dir}\n`);
  }
  return EXIT.OK;
}

async function validate(o: Options, io: CliIo): Promise<number> {
  const file = requireSpec(o);
  const loaded = load(file, io);
  const { cp, bundles, pki: prepared } = await buildCluster(loaded, io, { baseDir: specDir(file, io), pkiDir: pkiDirOption(loaded, o), outdir: path.join(io.cwd, 'unused'), write: false });
  const plan = cp.plan;
  const etcd = plan.etcd.kind === 'local' ? `stacked etcd ${plan.etcd.version}` : 'external etcd';
  const warnings = loaded.warnings.length ? `, ${count(loaded.warnings.length, 'warning')}` : '';
  io.stdout(`valid: ${file} (cluster ${plan.name}: ${count(bundles.size, 'node')}, Kubernetes ${plan.kubernetesVersion}, ${etcd}${warnings})\n`);
  if (cp.generatedEncryptionKeyFile) io.stdout(`${encryptionKeyPreview(path.relative(io.cwd, cp.generatedEncryptionKeyFile))}\n`);
  if (prepared) io.stdout(pkiSummary(prepared, true));
  return EXIT.OK;
}

/** A table of what each node's bundle holds. */
function table(app: StaticPodApp, bundles: ReadonlyMap<string, readonly BundleFile[]>): string {
  const charts = new Map(app.nodeCharts().map((c) => [c.nodeName, c]));
  const rows = [['NODE', 'ROLE', 'FILES', 'PODS']];
  for (const [node, files] of bundles) {
    const chart = charts.get(node);
    rows.push([node, chart?.role ?? '?', String(files.length), chart?.staticPods.map((p) => p.podName).join(', ') || '-']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

function init(o: Options, io: CliIo): number {
  const target = o.out === undefined ? undefined : path.resolve(io.cwd, o.out);
  const { initSpecYaml } = require('./plan/init-template') as typeof InitTemplate;
  const text = initSpecYaml(schemaRef(target ? path.dirname(target) : io.cwd));
  readSpec(text, o.out ?? '(example)'); // the example must itself be valid
  if (o.out === undefined || target === undefined) {
    io.stdout(text);
    return EXIT.OK;
  }
  if (fs.existsSync(target) && !o.force) {
    throw new InputError(`${JSON.stringify(o.out)} exists (fix: pass --force to overwrite it, or choose another --out)`);
  }
  try {
    writeFileAtomic(target, text, 0o644);
  } catch (e) {
    throw new InputError(`cannot write ${JSON.stringify(o.out)}: ${(e as Error).message} (fix: check that its directory exists and is writable)`);
  }
  io.stdout(`wrote ${o.out}\n`);
  return EXIT.OK;
}

/** The schema file of this package, relative to `fromDir` when that is near it, else absolute. */
export function schemaRef(fromDir: string): string {
  const file = path.join(packageRoot(), 'schema', 'cluster-spec.schema.json');
  const rel = path.relative(fromDir, file).split(path.sep).join('/');
  const ups = rel.split('/').filter((p) => p === '..').length;
  return path.isAbsolute(rel) || ups > 3 ? file : rel;
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The directory of this package's package.json. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && /"name":\s*"cdk8s-ha-control-plane"/.test(fs.readFileSync(pkg, 'utf8'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..');
  }
}
