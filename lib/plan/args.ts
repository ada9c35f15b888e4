import { Arg } from '../spec/types';

/**
 * Turns default flags and user flags into a command line the way kubeadm ≥ 1.36 does: the defaults
 * not overridden by the user, sorted by name (then value), followed by the user's flags in the user's order.
 * A user flag with a default's name replaces that default. Repeated user flags are all kept.
 */
export function argsToCommand(defaults: readonly Arg[], user: readonly Arg[] = []): string[] {
  const overridden = new Set(user.map((a) => a.name));
  const kept = defaults
    .filter((a) => !overridden.has(a.name))
    .sort((a, b) => (a.name === b.name ? cmp(a.value, b.value) : cmp(a.name, b.name)));
  return [...kept, ...user].map((a) => `--${a.name}=${a.value}`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds Arg objects from a name → value record, dropping undefined values. */
export function args(record: Record<string, string | undefined>): Arg[] {
  return Object.entries(record)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([name, value]) => ({ name, value }));
}

/** The value of the last flag `name` among `list` (kubeadm's GetArgValue from the end), or undefined. */
export function lastArgValue(list: readonly Arg[] | undefined, name: string): string | undefined {
  return [...(list ?? [])].reverse().find((a) => a.name === name)?.value;
}
