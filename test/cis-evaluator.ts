/**
 * A small evaluator of kube-bench check definitions (test/fixtures/kube-bench-cis-1.12), written from
 * kube-bench's documented semantics (check/test.go): a test item looks for its `flag` in the audit output
 * (substring), reads its value from `flag=value` / `flag: value` (a bare `--flag` reads "true"), and then
 * `set: false` passes when the flag is absent, `set: true` (the default) passes when it is present and,
 * with `compare`, when the value satisfies the op (eq/noteq case-insensitive for booleans, gt/gte/lt/lte
 * numeric, has/nothave substring, regex, valid_elements = every comma-separated element is allowed,
 * bitmask = octal permissions no wider than the value). `bin_op` combines items (and by default);
 * `use_multiple_values` evaluates every output line and fails on the first failing one.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** One test item of a check. */
export interface TestItem {
  readonly flag?: string;
  readonly env?: string;
  readonly path?: string;
  readonly set?: boolean;
  readonly compare?: { readonly op: string; readonly value: unknown };
}

/** One check of a controls file, flattened out of its group. */
export interface Check {
  readonly id: string;
  readonly text: string;
  readonly audit?: string;
  readonly type?: string;
  readonly scored: boolean;
  readonly use_multiple_values?: boolean;
  readonly tests?: { readonly bin_op?: 'and' | 'or'; readonly test_items: readonly TestItem[] };
}

/** Every check of a kube-bench controls file. */
export function loadChecks(file: string): Check[] {
  // etcd.yaml wraps one double-quoted `text:` onto a line no deeper than its key, which Go's YAML reader
  // accepts and YAML 1.2 (the yaml package) does not: join such a title onto one line before parsing.
  const text = readFileSync(file, 'utf8').replace(/^(\s*text: "[^"\n]*)\n\s*([^"\n]*"\s*)$/gm, '$1 $2');
  const doc = parse(text) as { groups: { checks: Check[] }[] };
  return doc.groups.flatMap((g) => g.checks.map((c) => ({ ...c, id: String(c.id) })));
}

/** The flag's value in one output, as kube-bench reads it; undefined when the flag is absent. */
export function findFlagValue(output: string, flag: string, comparing: boolean): string | undefined {
  if (output === '' || !output.includes(flag)) return undefined;
  const esc = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`(${esc})(=|: *)*([^\\s]*) *`).exec(output);
  if (!m) throw new Error(`invalid flag in test item: ${flag}`);
  if (m[3] !== '') return m[3];
  if (comparing) {
    const spaced = new RegExp(`${esc}\\s+([^\\s-][^\\s]*)`).exec(output);
    if (spaced) return spaced[1];
  }
  return flag.startsWith('--') ? 'true' : m[1];
}

const split = (s: string) => {
  const clean = s.trim().replace(/,+$/, '');
  return clean === '' ? [] : clean.split(',').map((x) => x.trim());
};

/** kube-bench's compare ops. */
export function compareOp(op: string, value: string, expected: string): boolean {
  const lower = value.toLowerCase();
  const isBool = lower === 'true' || lower === 'false';
  switch (op) {
    case 'eq': return isBool ? lower === expected : value === expected;
    case 'noteq': return isBool ? lower !== expected : value !== expected;
    case 'gt': case 'gte': case 'lt': case 'lte': {
      const a = Number.parseInt(value.trim(), 10);
      const b = Number.parseInt(expected.trim(), 10);
      if (!/^[-+]?\d+$/.test(value.trim()) || Number.isNaN(b)) return false;
      return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
    }
    case 'has': return value.includes(expected);
    case 'nothave': return !value.includes(expected);
    case 'regex': return new RegExp(expected).test(value);
    case 'valid_elements': {
      const got = split(value);
      const allowed = split(expected);
      if (got.length === 0 && allowed.length === 0) return true;
      if (got.length === 0 || allowed.length === 0) return false;
      return got.every((g) => allowed.includes(g));
    }
    case 'bitmask': {
      if (!/^[0-7]+$/.test(value) || !/^[0-7]+$/.test(expected)) return false;
      const requested = Number.parseInt(value, 8);
      return (Number.parseInt(expected, 8) & requested) === requested;
    }
    default: throw new Error(`unknown compare op ${op}`);
  }
}

/** One test item against one output. */
function evaluateOne(item: TestItem, output: string): boolean {
  if (item.flag === undefined) throw new Error(`test item without a flag (path/env audits are not used by these checks): ${JSON.stringify(item)}`);
  const op = item.compare?.op ?? '';
  const value = findFlagValue(output, item.flag, op !== '');
  const set = item.set ?? true;
  if (!set) return value === undefined;
  if (value === undefined) return false;
  return op === '' ? true : compareOp(op, value, String(item.compare!.value));
}

/** One test item against an audit output (every line when `multiple`). */
export function evaluateItem(item: TestItem, output: string, multiple = false): boolean {
  const s = output.replace(/[ \n]+$/, '');
  const rows = multiple ? s.split('\n') : [s];
  return rows.every((row) => evaluateOne(item, row));
}

/** A check's tests against its audit output: true when it passes. */
export function evaluateCheck(check: Check, output: string): boolean {
  if (!check.tests) throw new Error(`check ${check.id} has no tests`);
  const results = check.tests.test_items.map((i) => evaluateItem(i, output, check.use_multiple_values));
  return check.tests.bin_op === 'or' ? results.some(Boolean) : results.every(Boolean);
}
