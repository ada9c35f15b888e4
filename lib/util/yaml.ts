import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as YamlModule from 'yaml';

/**
 * The yaml package every module of this library uses (`yaml.stringify`, `new yaml.Document`, ...; types
 * come from 'yaml' as usual).
 *
 * cdk8s ships its own copy of yaml (listed in its bundledDependencies, so it is always installed inside
 * the cdk8s package) and loads it with cdk8s: every cdk8s app has it in memory before this library runs.
 * When that copy is the very version of our own `yaml` dependency its code is the same, so it is used
 * instead of loading a second copy (73 modules, about 15 ms of every synth process). Otherwise (another
 * version, a cdk8s that no longer bundles yaml, a layout we do not know) it is our own dependency.
 */
export const yaml: typeof YamlModule = cdk8sCopy() ?? (require('yaml') as typeof YamlModule);

/** cdk8s's bundled yaml when it is the version of ours (and another copy than ours), else undefined. */
export function cdk8sCopy(): typeof YamlModule | undefined {
  try {
    const theirs = require.resolve('yaml/package.json', { paths: [path.dirname(require.resolve('cdk8s'))] });
    const ours = require.resolve('yaml/package.json');
    if (theirs === ours || packageVersion(theirs) !== packageVersion(ours)) return undefined;
    return require(path.dirname(theirs)) as typeof YamlModule;
  } catch {
    return undefined;
  }
}

function packageVersion(file: string): unknown {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown }).version;
}
