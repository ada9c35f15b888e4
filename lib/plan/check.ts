/** Small helpers the spec checks share. */

/** Reports one problem: field path, value, what is wrong, how to fix it. */
export type Report = (path: string, value: unknown, problem: string, fix: string) => void;

/** A plain object from untrusted input. */
export type Obj = Record<string, unknown>;

/** True for a plain (non-array, non-null) object. */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a whole number from lo to hi. */
export const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Reports a set value that is not a TCP port. */
export function checkPort(err: Report, path: string, port: unknown): void {
  if (port !== undefined && !isInt(port, 1, 65535)) err(path, port, 'is not a TCP port', 'use a whole number from 1 to 65535');
}

/** Reports every field of `o` that is not one of `fields` (the schema check then adds a "did you mean"). */
export function known(err: Report, path: string, o: Obj, fields: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!fields.includes(k)) err(`${path}.${k}`, o[k], 'is not a known field', `use one of ${fields.join(', ')}`);
  }
}

/** True when a string holds a control character (a newline, a tab, NUL, DEL, ...). */
// eslint-disable-next-line no-control-regex
export const hasControlChar = (s: string): boolean => /[\u0000-\u001f\u007f]/.test(s);

/** A count with its noun: "1 node", "3 nodes". */
export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;
