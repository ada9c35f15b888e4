/**
 * The error class of user-fixable input (in util/, the lowest layer, so that every module can throw it).
 */
import { hasBrand, setBrand } from './brand';

/** Marks an InputError, also one from another copy of this package (instanceof would not see it). */
const INPUT_ERROR = Symbol.for('cdk8s-ha-control-plane.InputError');

/**
 * An error the user fixes in their input (the spec, a construct's props, a file or directory given),
 * not a bug: its message names what is wrong and the fix, `(fix: ...)`, and is the whole story (the CLI
 * prints it without a stack trace and exits 1). Nothing has been written when one is thrown.
 * Tell one apart with {@link InputError.isInputError}, which also recognizes an InputError of another
 * copy of this package.
 */
export class InputError extends Error {
  /** True for an {@link InputError} (a `SpecError` included) of any copy of this package. */
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
