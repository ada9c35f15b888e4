import { hasBrand, setBrand } from '../util/brand';

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

/** Marks an InputError, also one from another copy of this package (instanceof would not see it). */
const INPUT_ERROR = Symbol.for('cdk8s-ha-control-plane.InputError');
/** Marks a SpecError, also one from another copy of this package. */
const SPEC_ERROR = Symbol.for('cdk8s-ha-control-plane.SpecError');

/**
 * An error the user fixes in their input (the spec, a construct's props, a file or directory given),
 * not a bug: its message names what is wrong and the fix, `(fix: ...)`, and is the whole story (the CLI
 * prints it without a stack trace and exits 1). Nothing has been written when one is thrown.
 * Tell one apart with {@link InputError.isInputError}, which also recognizes an InputError of another
 * copy of this package.
 */
export class InputError extends Error {
  /** True for an {@link InputError} (a {@link SpecError} included) of any copy of this package. */
  public static isInputError(x: unknown): x is InputError {
    return hasBrand(x, INPUT_ERROR);
  }

  constructor(message: string) {
    super(message);
    setBrand(this, INPUT_ERROR);
  }
}

// On the prototype, not the instance: an uncaught one prints no `{ name: ... }` after its message.
Object.defineProperty(InputError.prototype, 'name', { value: 'InputError', writable: true, configurable: true });

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
