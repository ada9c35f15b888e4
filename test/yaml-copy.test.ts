/**
 * lib/util/yaml.ts: the library uses the copy of yaml that cdk8s ships (and has loaded already) when it
 * is the very version of our own yaml dependency, else our own (issue #17, speed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cdk8sCopy, yaml } from '../lib/util/yaml';

// The module object itself, so a spy on it is seen by the library code.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsModule: typeof fs = require('node:fs');

const cdk8sYamlDir = path.join(path.dirname(require.resolve('cdk8s/package.json')), 'node_modules', 'yaml');
const version = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
const ourYamlDir = path.dirname(require.resolve('yaml/package.json'));

afterEach(() => jest.restoreAllMocks());

test('cdk8s\'s copy when it is our version (one copy of yaml in a synth process), else our own', () => {
  expect(fs.existsSync(path.join(cdk8sYamlDir, 'package.json'))).toBe(true); // cdk8s bundles yaml
  if (version(cdk8sYamlDir) === version(ourYamlDir)) {
    expect(yaml).toBe(require(cdk8sYamlDir));
    expect(yaml).not.toBe(require('yaml'));
  } else {
    expect(yaml).toBe(require('yaml'));
  }
  expect(yaml.stringify({ b: [1, 'x'] })).toBe('b:\n  - 1\n  - x\n');
});

test('another version in cdk8s: our own', () => {
  const real = fs.readFileSync;
  jest.spyOn(fsModule, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    const text = (real as (...a: unknown[]) => string | Buffer)(file, ...rest);
    return String(file).startsWith(cdk8sYamlDir) ? String(text).replace(/"version": "[^"]+"/, '"version": "0.0.1"') : text;
  }) as typeof fs.readFileSync);
  expect(cdk8sCopy()).toBeUndefined();
  jest.restoreAllMocks();
  expect(cdk8sCopy() === undefined).toBe(version(cdk8sYamlDir) !== version(ourYamlDir));
});
