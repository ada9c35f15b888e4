import { hasBrand, setBrand } from '../util/brand';
import { InputError } from '../util/input-error';

export { InputError };

/** Marks a SpecError, also one from another copy of this package. */
const SPEC_ERROR = Symbol.for('cdk8s-ha-control-plane.SpecError');

/**
 * One problem with the input: which field, what value it had, what is wrong and how to fix it.
 */
export interface SpecIssue {
  /** Field path in the spec, e.g. `masters[1].address`. */
  readonly path: string;
  /** The offending value (rendered with JSON.stringify in messages). */
  readonly value: unknown;
  /** What is wrong. */
  readonly problem: string;
  /** What to do about it. */
  readonly fix: string;
  /** Where the field is in the spec file, when the spec was read from one (see loadSpec). */
  readonly location?: SourceLocation;
}

/** A position in a spec file: 1-based line and column. */
export interface SourceLocation {
  /** File name as given by the user (e.g. `cluster.yaml`). */
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** Renders a value for an error message, short and on one line. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Formats one issue as `path: value problem (fix: ...)`, or `file:line:col path: value problem (fix: ...)`
 * when it has a location. A located issue whose value is undefined (absent from the file, or a YAML
 * syntax error) is shown without the value: `cluster.yaml:3:5 (yaml): problem (fix: ...)`.
 */
export function formatIssue(issue: SpecIssue): string {
  const loc = issue.location;
  const where = loc ? `${loc.file}:${loc.line}:${loc.col} ` : '';
  const value = loc && issue.value === undefined ? '' : `${showValue(issue.value)} `;
  return `${where}${issue.path}: ${value}${issue.problem} (fix: ${issue.fix})`;
}

/**
 * Thrown for invalid input. Its message lists every issue found, one a line, each naming the field,
 * the value and the fix. Nothing has been written when it is thrown.
 */
export class SpecError extends InputError {
  /** True for a {@link SpecError} of any copy of this package. */
  public static isSpecError(x: unknown): x is SpecError {
    return hasBrand(x, SPEC_ERROR);
  }

  public readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[]) {
    super(issues.length === 1
      ? `invalid cluster spec: ${formatIssue(issues[0])}`
      : `invalid cluster spec (${issues.length} problems):\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`);
    this.name = 'SpecError';
    this.issues = issues;
    setBrand(this, SPEC_ERROR);
  }
}
