import * as fs from 'node:fs';
import type { Document } from 'yaml';
import { yaml } from '../util/yaml';
import { ClusterPlan, planValidatedSpec } from './plan';
import { apiReferenceReasonOf, checkSemantics } from './validate';
import { SourceLocation, SpecError, SpecIssue } from '../spec/errors';
import { checkSchema } from '../spec/schema-check';
import { formatPath, parsePath, PathSegment, SourceMap } from '../spec/source';
import { ClusterSpec } from '../spec/types';

const { isAlias, isCollection, isNode, isScalar } = yaml;

/** A spec read from a file, with the advisory findings (warnings) that did not stop it. */
export interface LoadedSpec {
  readonly spec: ClusterSpec;
  /** The spec's plan, made once here (pass it on: `HaControlPlane`'s `plan`, `preparePkiForPlan`). */
  readonly plan: ClusterPlan;
  /** Warnings of the semantic checks and of the YAML parser, each with its location. */
  readonly warnings: readonly SpecIssue[];
}

/** Largest spec file read: a cluster spec is a few KiB; anything far larger is the wrong file. */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;

/** Deepest nesting accepted (the spec itself nests 6 levels). */
const MAX_DEPTH = 64;

/** Tags of plain YAML data (the core schema); anything else (`!!binary`, `!!set`, custom tags) is refused. */
const PLAIN_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Parses a cluster spec from YAML (or JSON, which is YAML) and checks it completely: YAML syntax, then
 * the JSON Schema (schema/cluster-spec.schema.json), then, on data that passed it, the semantic checks
 * of validateSpec while planning it.
 * Throws SpecError listing every problem, each as `file:line:col path: value problem (fix: ...)`;
 * never throws anything else for bad input.
 *
 * @param text the file's content
 * @param fileName the name shown in messages (as the user gave it, e.g. `cluster.yaml`)
 */
export function readSpec(text: string, fileName: string): LoadedSpec {
  const { doc, map } = parseYaml(text, fileName);
  const data = toData(doc, map);
  if (data === null || data === undefined) {
    throw new SpecError([{ path: '(spec)', value: undefined, problem: 'is empty', fix: 'write a cluster spec with name, controlPlaneEndpoint and masters (`ha-control-plane init` prints an example)', location: map.at(0) }]);
  }

  // The schema first; the semantic checks only on data that passed it, then the plan (once).
  const schemaIssues = checkSchema(data, apiReferenceReasonOf(data), (s) => map.rawText(s));
  if (schemaIssues.length > 0) {
    throw new SpecError(sortByLocation(schemaIssues.map((s) => ({ path: formatPath(s.segments), value: s.value, problem: s.problem, fix: s.fix, location: map.locate(s.segments, s.onKey) }))));
  }
  const spec = data as ClusterSpec;
  let plan: ClusterPlan;
  try {
    plan = planValidatedSpec(spec, checkSemantics(spec));
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(sortByLocation(e.issues.map((i) => locateIssue(i, map))));
    throw e;
  }
  const yamlWarnings = doc.warnings.map((w): SpecIssue => ({
    path: '(yaml)', value: undefined, problem: lowerFirst(oneLine(w.message)), fix: 'check the YAML here', location: map.at(w.pos[0]),
  }));
  return { spec, plan, warnings: sortByLocation([...yamlWarnings, ...plan.warnings.map((i) => locateIssue(i, map))]) };
}

/** Like readSpec, returning only the spec (warnings are dropped). */
export function loadSpec(text: string, fileName: string): ClusterSpec {
  return readSpec(text, fileName).spec;
}

/**
 * Reads and checks a spec file (YAML or JSON). A file that cannot be read throws SpecError too, with the
 * path `(file)`.
 *
 * @param file the file to read
 * @param displayName the name messages use (default: `file`, as given)
 */
export function readSpecFile(file: string, displayName: string = file): LoadedSpec {
  return readSpec(readText(file, displayName), displayName);
}

/** Like readSpecFile, returning only the spec. */
export function loadSpecFile(file: string, displayName: string = file): ClusterSpec {
  return readSpecFile(file, displayName).spec;
}

function readText(file: string, displayName: string): string {
  const fail = (problem: string, fix: string): never => {
    throw new SpecError([{ path: '(file)', value: displayName, problem, fix }]);
  };
  let size: number;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) fail('is a directory', 'give the path of the spec file (YAML or JSON), e.g. cluster.yaml');
    if (!st.isFile() && !st.isFIFO()) fail('is not a regular file', 'give the path of the spec file (YAML or JSON), e.g. cluster.yaml');
    size = st.size;
  } catch (e) {
    if (e instanceof SpecError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(e)})`, 'check the path of the spec file; `ha-control-plane init` writes an example');
  }
  if (size > MAX_SPEC_BYTES) fail(`is ${size} bytes, larger than a cluster spec can be (${MAX_SPEC_BYTES})`, 'give the path of the cluster spec file');
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(`cannot be read (${code ?? String(e)})`, 'check the file\'s permissions');
  }
}

/** YAML syntax: parser errors, keys that are not scalars, tags beyond plain data, dangling aliases. */
function parseYaml(text: string, fileName: string): { doc: Document; map: SourceMap } {
  const lines = new yaml.LineCounter();
  let doc: Document;
  try {
    doc = yaml.parseDocument(text, { lineCounter: lines, prettyErrors: false, schema: 'core', uniqueKeys: true });
  } catch (e) {
    throw new SpecError([{ path: '(yaml)', value: undefined, problem: `cannot be parsed: ${errorText(e)}`, fix: 'check that the file is a YAML or JSON cluster spec', location: { file: fileName, line: 1, col: 1 } }]);
  }
  const map = new SourceMap(doc, lines, text, fileName);
  const issues: SpecIssue[] = doc.errors.map((e) => ({
    path: '(yaml)', value: undefined, location: map.at(e.pos[0]), ...yamlProblem(e.code, e.message),
  }));
  const syntax = (node: { range?: readonly number[] | null }, problem: string, fix: string) =>
    issues.push({ path: '(yaml)', value: undefined, problem, fix, location: map.at(node.range?.[0] ?? 0) });
  if (issues.length === 0) {
    yaml.visit(doc, {
      Pair(_, pair) {
        if (isNode(pair.key) && !isScalar(pair.key)) syntax(pair.key, 'a mapping key is a list or a mapping', 'use a plain name as the key');
      },
      Node(_, node) {
        if (isAlias(node)) {
          if (!node.resolve(doc)) syntax(node, `alias *${node.source} has no anchor &${node.source} before it`, `define &${node.source} earlier, or write the value out`);
        } else if (node.tag && !PLAIN_TAGS.has(node.tag) && (isScalar(node) || isCollection(node))) {
          syntax(node, `tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not plain data`, 'remove the tag: a cluster spec holds strings, numbers, booleans, lists and mappings');
        }
      },
    });
  }
  if (issues.length > 0) throw new SpecError(sortByLocation(issues));
  return { doc, map };
}

function yamlProblem(code: string, message: string): { problem: string; fix: string } {
  switch (code) {
    case 'DUPLICATE_KEY': return { problem: 'a key appears twice in one mapping', fix: 'keep one of them' };
    case 'MULTIPLE_DOCS': return { problem: 'the file holds more than one YAML document', fix: 'keep one cluster spec per file (remove the "---" and what follows)' };
    case 'TAB_AS_INDENT': return { problem: 'a tab indents this line', fix: 'indent with spaces' };
    default: return { problem: lowerFirst(oneLine(message)), fix: 'correct the YAML here: check the indentation, the ": " after keys, and closing quotes and brackets' };
  }
}

/** The document as plain data; refuses alias bombs, cycles (an anchor inside itself) and absurd nesting. */
function toData(doc: Document, map: SourceMap): unknown {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new SpecError([{ path: '(yaml)', value: undefined, problem: `cannot be read as data: ${lowerFirst(errorText(e))}`, fix: 'use fewer aliases (*name); write the values out', location: map.at(0) }]);
  }
  const bad = unplain(data);
  if (bad) {
    throw new SpecError([{ path: formatPath(bad.segments), value: undefined, problem: bad.problem, fix: bad.fix, location: map.locate(bad.segments) }]);
  }
  return data;
}

/** The first place where data is not a finite tree of plain values, if any. */
function unplain(root: unknown): { segments: PathSegment[]; problem: string; fix: string } | undefined {
  const stack: { value: unknown; segments: PathSegment[]; ancestors: unknown[] }[] = [{ value: root, segments: [], ancestors: [] }];
  while (stack.length > 0) {
    const { value, segments, ancestors } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (ancestors.includes(value)) return { segments, problem: 'contains itself (an alias inside its own anchor)', fix: 'write the value out instead of the alias' };
    if (segments.length > MAX_DEPTH) return { segments, problem: `nests deeper than ${MAX_DEPTH} levels`, fix: 'flatten it: a cluster spec nests a few levels' };
    const proto = Object.getPrototypeOf(value);
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
      return { segments, problem: 'is not plain data', fix: 'write a string, number, boolean, list or mapping' };
    }
    const next = [...ancestors, value];
    for (const [k, v] of Object.entries(value)) {
      stack.push({ value: v, segments: [...segments, Array.isArray(value) ? Number(k) : k], ancestors: next });
    }
  }
  return undefined;
}

function locateIssue(issue: SpecIssue, map: SourceMap): SpecIssue {
  return { ...issue, location: issue.location ?? map.locate(parsePath(issue.path)) };
}

function sortByLocation(issues: readonly SpecIssue[]): SpecIssue[] {
  const key = (l?: SourceLocation) => (l ? l.line * 1e6 + l.col : 0);
  return [...issues].sort((a, b) => key(a.location) - key(b.location));
}

/**
 * The yaml library's message without its source excerpt: the first line, with any other control
 * character (a lone CR in the input, say) shown as a space, so every issue prints on one line.
 */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.split(/\r?\n/)[0].replace(/[\u0000-\u001f\u007f]/g, ' ').trimEnd();
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s[0].toLowerCase() + s.slice(1) : s;
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
