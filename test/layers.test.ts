/**
 * The import graph of lib/ runs one way: util → spec → proxies → plan → render, pki → components → constructs → bundle,
 * ansible → ha-control-plane.ts → cli.ts, index.ts. Read with the TypeScript compiler's parser (every
 * `import … from`, `export … from`, `import x = require()`, `require()`, `import()` and `import('…')`
 * type, type-only imports included): no cycle between files, no cycle between directories, nothing
 * imported from a higher layer, and file-system or process I/O only in the modules listed in IO.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/**
 * The layers, lowest first. A module may import its own directory and anything in its layer or below;
 * two directories of one layer may import each other one way only (the directory cycle check).
 */
export const LAYERS: readonly { readonly name: string; readonly members: readonly string[] }[] = [
  { name: 'util', members: ['util/', 'version.ts'] },
  { name: 'spec (the input format: types, errors, source map, schema)', members: ['spec/'] },
  { name: 'proxies (one record per TCP proxy type: default image, config path, command, renderer, process name)', members: ['proxies/'] },
  { name: 'plan (validation, defaults, versions, the resolved plan, the spec loader)', members: ['plan/'] },
  { name: 'render and pki (pure descriptions from the plan; PKI issue and state)', members: ['render/', 'pki/'] },
  { name: 'components (pure pod descriptions from the plan: command, volumes, probes, resources, host files)', members: ['components/'] },
  { name: 'constructs (thin cdk8s constructs)', members: ['constructs/'] },
  { name: 'bundle and ansible (files on disk)', members: ['bundle/', 'ansible/'] },
  { name: 'ha-control-plane (the cluster construct: components, bundle, Ansible, PKI)', members: ['ha-control-plane.ts'] },
  { name: 'entry points', members: ['cli.ts', 'index.ts'] },
];

/** The modules that may touch the file system or processes (node:fs, child_process, ...). */
export const IO: readonly string[] = [
  'util/files.ts', 'util/state-ignore.ts',
  'version.ts', // reads its own package.json once
  'util/yaml.ts', // reads the version of our yaml and of cdk8s's copy once
  'plan/load.ts', // readSpecFile
  'pki/state.ts',
  'bundle/', 'ansible/files.ts',
  'cli.ts',
];
/** node:net is left out: lib/util/net.ts uses only its pure isIPv4/isIPv6. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|dgram|http|https|http2|worker_threads)$/;

const ROOT = path.join(__dirname, '..');
const LIB = path.join(ROOT, 'lib');

/** A module's relative imports (resolved, relative to lib/) and its bare ones. */
interface ModuleImports { readonly local: string[]; readonly bare: string[] }

/** Every module specifier a source text uses, type-only ones included. */
export function specifiers(fileName: string, text: string): string[] {
  const src = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const lit = (n: ts.Node | undefined): void => { if (n && ts.isStringLiteralLike(n)) out.push(n.text); };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) lit(n.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) lit(n.moduleReference.expression);
    else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) lit(n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) lit(n.argument.literal);
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

function libFiles(dir = LIB): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return libFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.relative(LIB, full).split(path.sep).join('/')] : [];
  });
}

/** The import graph of lib/: file (relative to lib/) → its imports. Targets outside lib/ keep a `../` prefix. */
function libGraph(): Map<string, ModuleImports> {
  const graph = new Map<string, ModuleImports>();
  for (const file of libFiles()) {
    const local: string[] = [];
    const bare: string[] = [];
    for (const s of specifiers(file, fs.readFileSync(path.join(LIB, file), 'utf8'))) {
      if (!s.startsWith('.')) { bare.push(s); continue; }
      const abs = path.resolve(path.dirname(path.join(LIB, file)), s);
      const target = [abs, `${abs}.ts`, path.join(abs, 'index.ts')].find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      if (!target) throw new Error(`${file}: cannot resolve ${s}`);
      local.push(path.relative(LIB, target).split(path.sep).join('/'));
    }
    graph.set(file, { local, bare });
  }
  return graph;
}

/** The strongly connected components with more than one node, or a node importing itself (Tarjan). */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (edges.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) connect(v);
  return out;
}

const member = (file: string, members: readonly string[]) => members.some((m) => (m.endsWith('/') ? file.startsWith(m) : file === m));
/** A module's layer number (-1: in no layer). */
export const layerOf = (file: string): number => LAYERS.findIndex((l) => member(file, l.members));
/** A module's unit for the directory check: its top directory, or the top-level file itself. */
const unitOf = (file: string): string => (file.includes('/') ? `${file.split('/')[0]}/` : file);

/** Imports that point to a higher layer: "from → to (layer a → layer b)". */
export function upward(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [from, tos] of edges) {
    for (const to of tos) {
      if (to.startsWith('../')) continue;
      if (layerOf(to) > layerOf(from)) out.push(`${from} → ${to} (${LAYERS[layerOf(from)]?.name} → ${LAYERS[layerOf(to)]?.name})`);
    }
  }
  return out;
}

describe('lib/ import layers', () => {
  const graph = libGraph();
  const edges = new Map([...graph].map(([f, i]) => [f, i.local]));

  test('the graph is read: every layer has modules, the known edges are there', () => {
    expect(graph.size).toBeGreaterThan(60);
    for (const l of LAYERS) expect([l.name, [...graph.keys()].some((f) => member(f, l.members))]).toEqual([l.name, true]);
    expect(edges.get('plan/plan.ts')).toEqual(expect.arrayContaining(['spec/types.ts', 'plan/validate.ts', 'util/net.ts']));
    expect(edges.get('index.ts')).toEqual(expect.arrayContaining(['ha-control-plane.ts', 'plan/plan.ts']));
    expect(edges.get('constructs/kube-apiserver.ts')).toEqual(expect.arrayContaining(['components/kube-apiserver.ts']));
    expect(edges.get('components/kube-apiserver.ts')).toEqual(expect.arrayContaining(['plan/plan.ts', 'components/pod.ts']));
  });

  test('every module of lib/ is in a layer', () => {
    expect([...graph.keys()].filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  test('no import cycle between files (type-only imports count)', () => {
    expect(cycles(edges)).toEqual([]);
  });

  test('no import cycle between directories', () => {
    const units = new Map<string, string[]>();
    for (const [from, tos] of edges) {
      const list = units.get(unitOf(from)) ?? [];
      for (const to of tos) if (!to.startsWith('../') && unitOf(to) !== unitOf(from)) list.push(unitOf(to));
      units.set(unitOf(from), list);
    }
    expect(cycles(units)).toEqual([]);
  });

  test('nothing imports from a higher layer', () => {
    expect(upward(edges)).toEqual([]);
  });

  test('lib/ imports nothing outside it but the JSON schema', () => {
    const outside = [...edges].flatMap(([f, tos]) => tos.filter((t) => t.startsWith('../')).map((t) => `${f} → ${t}`));
    expect(outside).toEqual(['spec/schema-check.ts → ../schema/cluster-spec.schema.json']);
  });

  test('file-system and process I/O only in the modules listed in IO', () => {
    const io = [...graph].filter(([f, i]) => i.bare.some((b) => IO_MODULES.test(b)) && !member(f, IO)).map(([f]) => f);
    expect(io).toEqual([]);
  });

  test('the checks fail on a cycle and on an upward import (made-up graphs)', () => {
    expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(cycles(new Map([['a.ts', ['a.ts']]]))).toEqual([['a.ts']]);
    expect(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]]))).toEqual([]);
    expect(upward(new Map([['spec/types.ts', ['plan/plan.ts']], ['plan/plan.ts', ['spec/types.ts']]]))).toEqual([expect.stringMatching(/^spec\/types\.ts → plan\/plan\.ts \(spec/)]);
    expect(specifiers('x.ts', "import type { A } from './a'; export * from './b'; const c = require('./c'); type D = typeof import('./d'); import e = require('./e'); void import('./f');"))
      .toEqual(['./a', './b', './c', './d', './e', './f']);
  });
});
