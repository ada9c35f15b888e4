/**
 * The API documentation (`npm run docs`) builds from the doc comments with typedoc's warnings treated as
 * errors (typedoc.json), so a broken `{@link}` or an unknown tag fails here, and the pages of the main
 * entry points exist.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'ha-cp-docs-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('typedoc builds the API docs without a warning and documents the entry points', () => {
  const typedoc = join(root, 'node_modules', '.bin', 'typedoc');
  let log = '';
  try {
    log = execFileSync(typedoc, ['--out', out, '--logLevel', 'Warn'], { cwd: root, encoding: 'utf8', stdio: 'pipe', timeout: 240_000 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`typedoc failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
  expect(log).not.toMatch(/warning|error/i);
  for (const page of ['classes/HaControlPlane.html', 'classes/StaticPodApp.html', 'interfaces/ClusterSpec.html', 'functions/preparePki.html']) {
    expect(existsSync(join(out, page))).toBe(true);
  }
  // Doc comments reach the pages (here: a spec field's description and its default).
  const spec = readFileSync(join(out, 'interfaces/ClusterSpec.html'), 'utf8');
  expect(spec).toContain('controlPlaneEndpoint');
  expect(spec).toMatch(/Default/);
}, 300_000);
