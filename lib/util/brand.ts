/**
 * Type guards that work across copies of this package. Two copies (an app's and a library's, say)
 * have two classes of each name, so `instanceof` fails on an object of the other copy; a registered
 * symbol (`Symbol.for`) is one and the same in both, so a mark set by either copy's constructor is
 * seen by both copies' guards (the pattern of cdk8s's `Chart.isChart`).
 */

/** Marks `obj` with `mark` (non-enumerable, read-only: invisible in JSON, inspection and spreads). */
export function setBrand(obj: object, mark: symbol): void {
  Object.defineProperty(obj, mark, { value: true });
}

/** True when `x` carries `mark`, set by a constructor of any copy of this package. */
export function hasBrand(x: unknown, mark: symbol): boolean {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[mark] === true;
}
