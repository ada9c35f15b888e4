/**
 * The unit layer (`npm run test:unit`, the `unit` project in jest.config.js) runs in-process only:
 * a file listed there must not start programs or use the test harness (namespaces, real binaries).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require('../jest.config.js');
const root = path.join(__dirname, '..');
const project = (name: string) => config.projects.find((p: any) => p.displayName === name);
const unitFiles: string[] = project('unit').testMatch.map((m: string) => m.replace('<rootDir>', root));

/** Module names a file imports or requires. */
function importsOf(file: string): string[] {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'require' && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) out.push(n.arguments[0].text);
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

describe('unit layer', () => {
  test('every listed unit file exists', () => {
    expect(unitFiles.length).toBeGreaterThan(10);
    for (const f of unitFiles) expect([f, fs.existsSync(f)]).toEqual([f, true]);
  });

  test.each(project('unit').testMatch as string[])('%s: no child process, no test harness', (match) => {
    const file = match.replace('<rootDir>', root);
    const banned = importsOf(file).filter((m) => /^(node:)?child_process$|^(node:)?worker_threads$|\/harness\//.test(m));
    expect(banned).toEqual([]);
  });

  test('the integration project takes every other test file: each runs exactly once under `npm test`', () => {
    const all = fs.readdirSync(path.join(root, 'test')).filter((f) => f.endsWith('.test.ts'));
    const ignored: string[] = project('integration').testPathIgnorePatterns;
    const inUnit = (f: string) => unitFiles.includes(path.join(root, 'test', f));
    const inIntegration = (f: string) => !ignored.some((p) => new RegExp(p).test(`/test/${f}`));
    for (const f of all) expect([f, inUnit(f) !== inIntegration(f)]).toEqual([f, true]);
  });
});
