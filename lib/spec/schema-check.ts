import { createHash } from 'node:crypto';
import type Ajv from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import schemaJson from '../../schema/cluster-spec.schema.json';
import isClusterSpec, { SCHEMA_DIGEST } from './cluster-spec-validator.generated';
import { PathSegment } from './source';
import { explainStaticPodField } from './static-pod-fields';

/** The published JSON Schema of ClusterSpec (schema/cluster-spec.schema.json, generated from types.ts). */
export const CLUSTER_SPEC_SCHEMA: Readonly<Record<string, unknown>> = schemaJson;

/** A schema violation, in the terms of the spec: which field, what value, what is wrong, the fix. */
export interface SchemaIssue {
  /** Field path. */
  readonly segments: readonly PathSegment[];
  /** The problem is the key itself (an unknown field), not its value. */
  readonly onKey: boolean;
  /** The JSON Schema keyword that failed (`type`, `required`, `additionalProperties`, ...). */
  readonly keyword: string;
  readonly value: unknown;
  readonly problem: string;
  readonly fix: string;
}

/** Source text of a scalar as the user wrote it, when known (to suggest quoting `1.30`, say). */
export type RawText = (segments: readonly PathSegment[]) => string | undefined;

type Schema = Record<string, unknown>;

/**
 * The options of ajv that decide what is valid, shared with the precompiled validator (scripts/gen-schema.ts):
 * unknown keywords are errors; type-combination lint (strictTypes) is not, so a schema change cannot break loading.
 */
export const SCHEMA_AJV_OPTIONS: Readonly<Options> = { strictSchema: true, strictNumbers: true, strictTypes: false, strictTuples: false };

/** What to say about a field that is not in the schema: a known field of something else, say. */
export type ExplainUnknown = (definition: string | undefined, field: string) => { readonly problem: string; readonly fix: string } | undefined;

/**
 * Checks data against a JSON Schema (draft-07, definitions under `#/definitions`) and explains each
 * violation for someone editing YAML. A failed anyOf/oneOf is re-checked branch by branch and reported
 * as the problems of the branch that came closest.
 */
export class SchemaChecker {
  private readonly ajv: Ajv;
  private readonly validateRoot: ValidateFunction;
  private readonly branchValidators = new Map<unknown, ValidateFunction>();
  /** The name of each schema under `#/definitions`, by identity (ajv's parentSchema is the schema object itself). */
  private readonly definitionNames = new Map<unknown, string>();

  constructor(private readonly schema: Readonly<Record<string, unknown>>) {
    // ajv is loaded here, not with this module: checking a valid cluster spec does not need it (checkSchema).
    const { default: AjvClass } = require('ajv') as typeof import('ajv');
    const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');
    this.ajv = new AjvClass({ allErrors: true, verbose: true, ...SCHEMA_AJV_OPTIONS });
    addFormats(this.ajv);
    this.validateRoot = this.ajv.compile(schema);
    for (const [name, def] of Object.entries((schema.definitions as Record<string, unknown> | undefined) ?? {})) this.definitionNames.set(def, name);
  }

  /**
   * The problems of plain data (empty when valid); never throws for any input. `explain` explains an
   * unknown field better than "is not a known field" (e.g. a Pod field a static pod cannot use);
   * `definition` is the name of the object's schema under `#/definitions`, when it has one.
   */
  public check(data: unknown, raw: RawText = () => undefined, explain: ExplainUnknown = () => undefined): SchemaIssue[] {
    if (this.validateRoot(data)) return [];
    return dedupe(this.issuesOf(this.validateRoot.errors ?? [], data, raw, explain));
  }

  /** Turns ajv errors on `root` into issues, collapsing anyOf/oneOf failures to their best branch. */
  private issuesOf(errors: readonly ErrorObject[], root: unknown, raw: RawText, explain: ExplainUnknown): SchemaIssue[] {
    const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
    // The outermost union at each path speaks for every error at or below it; ajv reports a union after
    // the errors inside it, so of several at one path the last is the outermost.
    // A value of the wrong type fails its enum, range, ... too: the type error speaks for it.
    const typeErrorAt = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
    const consequence = (e: ErrorObject) => e.keyword !== 'type' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && typeErrorAt.has(e.instancePath);
    const outer = unions.filter((u) => !unions.some((o) => o.instancePath !== u.instancePath && isUnder(u.instancePath, o.instancePath)));
    const unionAt = new Map(outer.map((u) => [u.instancePath, u]));
    const owner = (e: ErrorObject) => [...unionAt.values()].find((u) => isUnder(e.instancePath, u.instancePath));
    const out: SchemaIssue[] = [];
    const done = new Set<ErrorObject>();
    for (const e of errors) {
      const u = owner(e);
      if (u) {
        if (!done.has(u)) {
          done.add(u);
          out.push(...this.unionIssues(u, root, raw, explain));
        }
      } else if (e.keyword !== 'if' && !consequence(e)) {
        out.push(this.issueOf(e, root, raw, explain));
      }
    }
    return out;
  }

  private unionIssues(u: ErrorObject, root: unknown, raw: RawText, explain: ExplainUnknown): SchemaIssue[] {
    const segments = pointerSegments(u.instancePath, root);
    const value = valueAt(root, segments);
    if (u.keyword === 'oneOf' && (u.params as { passingSchemas?: unknown }).passingSchemas) {
      return [{ segments, onKey: false, keyword: 'oneOf', value, problem: 'matches more than one of the allowed forms', fix: 'remove the fields that make it ambiguous' }];
    }
    let best: { errors: ErrorObject[]; score: number } | undefined;
    const types = new Set<string>();
    for (const branch of Array.isArray(u.schema) ? (u.schema as Schema[]) : []) {
      const validate = this.branchValidator(branch);
      if (validate(value)) return [];
      const errors = validate.errors ?? [];
      const typeError = errors.find((e) => e.instancePath === '' && e.keyword === 'type');
      if (typeError) String((typeError.params as { type: string }).type).split(',').forEach((t) => types.add(t));
      // A wrong type rules a branch out; a wrong discriminator (const/enum one level down) nearly so.
      const score = errors.reduce((sum, e) => sum + (e.instancePath === '' && e.keyword === 'type' ? 1000
        : e.instancePath.split('/').length === 2 && (e.keyword === 'const' || e.keyword === 'enum') ? 100
          : e.instancePath === '' && e.keyword === 'additionalProperties' ? 10 : 1), 0);
      if (!best || score < best.score) best = { errors, score };
    }
    if (!best || best.score >= 1000) {
      const expected = [...types].map(typeName);
      return [{
        segments, onKey: false, keyword: 'type', value,
        problem: `is not ${expected.join(' or ') || 'an allowed form'}`,
        fix: `use ${expected.join(' or ') || 'one of the forms in the schema'}`,
      }];
    }
    return this.issuesOf(best.errors, value, (s) => raw([...segments, ...s]), explain).map((i) => ({ ...i, segments: [...segments, ...i.segments] }));
  }

  private branchValidator(branch: Schema): ValidateFunction {
    let v = this.branchValidators.get(branch);
    if (!v) {
      v = this.ajv.compile({ definitions: this.schema.definitions, allOf: [branch] });
      this.branchValidators.set(branch, v);
    }
    return v;
  }

  private issueOf(e: ErrorObject, root: unknown, raw: RawText, explain: ExplainUnknown): SchemaIssue {
    const segments = pointerSegments(e.instancePath, root);
    const value = valueAt(root, segments);
    const p = e.params as Record<string, unknown>;
    const parent = this.resolve(e.parentSchema as Schema | undefined);
    // A value of a named type (`#/definitions/Port`, `#/definitions/LoadBalancerType`) is "not a TCP port"
    // whatever keyword failed; the fix still says what to change.
    const named = this.namedValueType(e);
    const at = (problem: string, fix: string, extra: Partial<SchemaIssue> = {}): SchemaIssue => ({ segments, onKey: false, keyword: e.keyword, value, problem: named ? `is not ${named}` : problem, fix, ...extra });
    switch (e.keyword) {
      case 'required': {
        const field = String(p.missingProperty);
        const desc = describe(this.resolve((parent?.properties as Record<string, Schema> | undefined)?.[field]));
        return at('is missing', `add ${field}${desc ? ` (${desc})` : ''}`, { segments: [...segments, field], value: undefined });
      }
      case 'additionalProperties': {
        const field = String(p.additionalProperty);
        const issue = { segments: [...segments, field], value: (value as Record<string, unknown>)[field], onKey: true };
        const explained = explain(this.definitionNames.get(e.parentSchema), field);
        if (explained) return at(explained.problem, explained.fix, { ...issue, onKey: false });
        const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
        const guess = closest(field, known);
        return at('is not a known field', `remove it or check the spelling${guess ? ` (did you mean ${guess}?)` : ''}; known fields: ${known.join(', ')}`, issue);
      }
      case 'type': {
        // A value of the wrong type that is not one of the allowed values written differently (`"3"` for 3):
        // say which values are allowed.
        const allowed = Array.isArray(parent?.enum) ? (parent.enum as unknown[]) : undefined;
        if (allowed && !allowed.some((v) => String(v) === String(value))) {
          const t = enumIssue(allowed, parent);
          return at(t.problem, t.fix);
        }
        const t = typeIssue(String(p.type), value, segments, raw, parent, named === undefined);
        return at(t.problem, t.fix);
      }
      case 'enum': case 'const': {
        const t = enumIssue(e.keyword === 'enum' ? (p.allowedValues as unknown[]) : [p.allowedValue], parent);
        return at(t.problem, t.fix);
      }
      case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
        return at(`is out of range (must be ${String(p.comparison)} ${String(p.limit)})`, `use ${numberRange(parent)}`);
      case 'minItems': return at(`has fewer than ${String(p.limit)} items`, `list at least ${String(p.limit)}`);
      case 'maxItems': return at(`has more than ${String(p.limit)} items`, `list at most ${String(p.limit)}`);
      case 'minLength': return at(`is shorter than ${String(p.limit)} characters`, `use at least ${String(p.limit)} characters`);
      case 'maxLength': return at(`is longer than ${String(p.limit)} characters`, `use at most ${String(p.limit)} characters`);
      case 'pattern': return at(`does not match the pattern ${String(p.pattern)}`, `write a value that matches ${String(p.pattern)}`);
      case 'format': return at(`is not a valid ${String(p.format)}`, `write a valid ${String(p.format)}`);
      case 'uniqueItems': return at(`has duplicate items (${String(p.j)} and ${String(p.i)})`, 'remove the duplicate');
      default: return at(`does not match the schema (${e.message ?? e.keyword})`, 'see schema/cluster-spec.schema.json for this field');
    }
  }

  /**
   * "a TCP port" when the failed keyword belongs to a named definition of a single value (not an object
   * or a list): its description when that is a noun phrase ("A TCP port."), else its name in words
   * (LoadBalancerType → "a load balancer type").
   */
  private namedValueType(e: ErrorObject): string | undefined {
    const name = this.definitionNames.get(e.parentSchema);
    const def = e.parentSchema as Schema | undefined;
    if (!name || !def || def.type === 'object' || def.type === 'array' || def.properties) return undefined;
    const desc = typeof def.description === 'string' ? def.description.split(/(?<=\.)\s/)[0].replace(/\.$/, '') : '';
    if (/^An? [a-zA-Z]/.test(desc) && !/[:;,]/.test(desc)) return desc[0].toLowerCase() + desc.slice(1);
    const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
    return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`;
  }

  /** A schema with its $ref (to #/definitions/...) followed; its own description kept. */
  private resolve(s: Schema | undefined): Schema | undefined {
    let cur = s;
    for (let i = 0; i < 10 && typeof cur?.$ref === 'string'; i++) {
      const name = decodeURIComponent(cur.$ref.replace(/^#\/definitions\//, ''));
      const target = (this.schema.definitions as Record<string, Schema> | undefined)?.[name];
      if (!target) break;
      cur = { ...target, description: cur.description ?? target.description };
    }
    return cur;
  }
}

let clusterSpecChecker: SchemaChecker | undefined;

/** SHA-256 of a schema's JSON: the precompiled validator records the one of the schema it was made from. */
export function schemaDigest(schema: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

/**
 * Whether the precompiled validator was made from the schema checked against (it is, unless
 * `npm run schema` was not run after a change of the schema: then ajv checks everything).
 */
let precompiledIsCurrent: boolean | undefined;

/**
 * Checks plain data against the cluster-spec schema; never throws for any input. Valid data is told by
 * the validator precompiled from the schema (lib/spec/cluster-spec-validator.generated.ts, `npm run schema`):
 * no ajv to load, no schema to compile. Invalid data is explained by a {@link SchemaChecker} (ajv, compiled
 * on first use). `apiReferenceReason` is why a static pod cannot reference API objects on the spec's minor
 * (the Pod fields a user may write are explained with it).
 */
export function checkSchema(data: unknown, apiReferenceReason: string, raw: RawText = () => undefined): SchemaIssue[] {
  precompiledIsCurrent ??= SCHEMA_DIGEST === schemaDigest(CLUSTER_SPEC_SCHEMA);
  if (precompiledIsCurrent && (isClusterSpec as (d: unknown) => boolean)(data)) return [];
  clusterSpecChecker ??= new SchemaChecker(CLUSTER_SPEC_SCHEMA);
  return clusterSpecChecker.check(data, raw, (definition, field) => explainStaticPodField(definition, field, apiReferenceReason));
}

function typeIssue(
  type: string, value: unknown, segments: PathSegment[], raw: RawText, schema: Schema | undefined, explain: boolean,
): { problem: string; fix: string } {
  const expected = type.split(',');
  // What the field is, for the fixes that cannot show the value to write.
  const desc = explain ? describe(schema) : '';
  const about = desc ? ` (${desc})` : '';
  const names = expected.map(typeName).join(' or ');
  const problem = `is not ${names}`;
  if (value === null) return { problem, fix: `write ${names} after the colon, or remove the field` };
  const scalar = ['number', 'boolean', 'string'].includes(typeof value);
  if (expected.includes('string') && scalar) {
    const text = raw(segments) ?? String(value);
    return { problem, fix: `quote it: "${text.replace(/^["']|["']$/g, '')}"` };
  }
  if ((expected.includes('number') || expected.includes('integer')) && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) {
    return { problem, fix: `remove the quotes: ${value.trim()}` };
  }
  if (expected.includes('boolean') && typeof value === 'string' && /^(true|false)$/i.test(value.trim())) {
    return { problem, fix: `write ${value.trim().toLowerCase()} without quotes` };
  }
  if (expected.includes('array')) {
    // A list default that is not empty shows what the items look like.
    const example = Array.isArray(schema?.default) && schema.default.length > 0 ? `, e.g. ${JSON.stringify(schema.default)}` : '';
    return { problem, fix: `write a list${example || about}: one "- item" per line, or [a, b]` };
  }
  if (expected.includes('object')) {
    const fields = Object.keys((schema?.properties as Record<string, unknown> | undefined) ?? {});
    const required = Array.isArray(schema?.required) ? (schema.required as string[]) : [];
    if (required.length === 0) return { problem, fix: `write a mapping of fields${fields.length ? ` (${fields.join(', ')})` : ''}` };
    const optional = fields.filter((f) => !required.includes(f));
    return { problem, fix: `write a mapping with ${andList(required)}${optional.length > 0 && optional.length <= 6 ? ` (and optionally ${andList(optional)})` : ''}` };
  }
  if (expected.includes('number') || expected.includes('integer')) return { problem, fix: `use ${numberRange(schema)}${about}` };
  const example = schema && schema.default !== undefined ? `, e.g. ${JSON.stringify(schema.default)}` : '';
  return { problem, fix: `use ${names}${example}${about}` };
}

/** A value that is none of the allowed ones: name them, with the field's description when it explains each. */
function enumIssue(allowed: readonly unknown[], schema: Schema | undefined): { problem: string; fix: string } {
  const values = orList(allowed.map((v) => JSON.stringify(v)));
  const desc = describe(schema);
  const explains = desc !== '' && allowed.every((v) => desc.includes(String(v)));
  return { problem: allowed.length <= 4 ? `is not ${values}` : 'is not one of the allowed values', fix: `use ${values}${explains ? ` (${desc})` : ''}` };
}

/** "a whole number from 1 to 65535", "a whole number >= 1, e.g. 365": what a number field accepts. */
function numberRange(schema: Schema | undefined): string {
  const kind = schema?.type === 'integer' ? 'a whole number' : 'a number';
  const lo = typeof schema?.minimum === 'number' ? schema.minimum : undefined;
  const hi = typeof schema?.maximum === 'number' ? schema.maximum : undefined;
  const range = lo !== undefined && hi !== undefined ? ` from ${lo} to ${hi}` : lo !== undefined ? ` >= ${lo}` : hi !== undefined ? ` <= ${hi}` : '';
  const example = typeof schema?.default === 'number' ? `, e.g. ${schema.default}` : '';
  return `${kind}${range}${example}`;
}

/** `"a", "b" or "c"`. */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** `a, b and c`. */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "string" → "a string", ... as a reader of YAML would say it. */
function typeName(t: string): string {
  return ({ string: 'a string', number: 'a number', integer: 'a whole number', boolean: 'true or false', object: 'a mapping', array: 'a list', null: 'null' } as Record<string, string>)[t] ?? t;
}

/** The first sentence of a schema's description, for a fix. */
function describe(s: Schema | undefined): string {
  const d = typeof s?.description === 'string' ? s.description : '';
  // A sentence ends at ". ", but not at "e.g. " or "i.e. ".
  const first = d.split(/(?<!\b(?:e\.g|i\.e)\.)(?<=\.)\s/)[0].replace(/\.$/, '');
  // "Node name" → "node name"; "NotBefore", "VRRP", "API" keep their case.
  return /^[A-Z][a-z]*\b(?![A-Z])/.test(first) && !/^[A-Z][a-z]*[A-Z]/.test(first) ? first[0].toLowerCase() + first.slice(1) : first;
}

/** The known field closest to a misspelt one (same letters in another case, or at most a third of it edited). */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === word.toLowerCase() ? 0 : distance(word.toLowerCase(), k.toLowerCase());
    if (d <= Math.max(1, Math.floor(k.length / 3)) && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 10) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Splits a JSON pointer into path segments; indices of lists become numbers. */
function pointerSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const out: PathSegment[] = [];
  let cur = root;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    const seg: PathSegment = Array.isArray(cur) && /^\d+$/.test(key) ? Number(key) : key;
    out.push(seg);
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return out;
}

/** The value at a path, or undefined. */
export function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let cur = root;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function isUnder(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

function dedupe(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = JSON.stringify([i.segments, i.problem]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
