/**
 * Two test layers, one list (this file):
 *
 * - `unit` (`npm run test:unit`): pure suites that run in this process only: no root, no Debian
 *   packages, no real binaries (.cache/bin, etcd, openssl, haproxy, tar, git, ...), no child
 *   processes, no network namespaces. Transpiled without type-checking (isolatedModules); the
 *   type-check is `tsc -p tsconfig.test.json` in the same npm script. test/unit-layer.test.ts keeps
 *   the list honest (no child_process, no test/harness import in a unit file).
 * - `integration`: everything else (real programs, namespaces, the packed package, typedoc).
 *
 * `npm test` (plain `jest`) runs both projects: every test file exactly once.
 */
const UNIT = [
  'bundle',
  'cert-sans',
  'component-specs',
  'components',
  'defaults',
  'escape-hatches',
  'examples',
  'fix-fields',
  'layers',
  'lazy-loads',
  'lb',
  'load',
  'new-user-mistakes',
  'pki-bundle',
  'pki-cli',
  'pki-lazy',
  'pki-profile',
  'plan-once',
  'pod-schema',
  'property',
  'public-api',
  'proxy-types',
  'schema',
  'spec-validation',
  'unit-layer',
  'validate-once',
  'versions',
  'wording',
  'yaml-copy',
];

const unitFiles = UNIT.map((name) => `<rootDir>/test/${name}.test.ts`);

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: unitFiles,
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
    },
    {
      ...common,
      displayName: 'integration',
      preset: 'ts-jest',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...UNIT.map((name) => `/test/${name}\\.test\\.ts$`)],
    },
  ],
};
