/** Small helpers the semantic spec checks share (they run on data that passed the schema check). */

/** Reports one problem: field path, value, what is wrong, how to fix it. */
export type Report = (path: string, value: unknown, problem: string, fix: string) => void;

/** True for a whole number from lo to hi. */
export const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** True when a string holds a control character (a newline, a tab, NUL, DEL, ...). */
// eslint-disable-next-line no-control-regex
export const hasControlChar = (s: string): boolean => /[\u0000-\u001f\u007f]/.test(s);

/** A count with its noun: "1 node", "3 nodes". */
export const count = (n: number, noun: string, plural = `${noun}s`): string => `${n} ${n === 1 ? noun : plural}`;
