import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from './util/input-error';

/** npm name of this library. */
export const PACKAGE_NAME = 'cdk8s-ha-control-plane';

/**
 * Annotation stamped on every generated manifest with the library version that wrote it, so a node's
 * manifests tell which release produced them. A new version changes the manifests, so the kubelet
 * restarts the pods when a newer bundle is installed: install one node at a time.
 */
export const VERSION_ANNOTATION = 'ha-control-plane.io/version';

/**
 * The library version, read from this package's package.json (found by walking up from this file,
 * which works from the TypeScript sources, the compiled build/ tree and an installed package alike).
 */
export const LIBRARY_VERSION: string = findVersion(__dirname);

function findVersion(start: string): string {
  for (let dir = start, i = 0; i < 6; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
  }
  throw new InputError(`${PACKAGE_NAME}: cannot find its own package.json above ${start} (fix: reinstall the package)`);
}
