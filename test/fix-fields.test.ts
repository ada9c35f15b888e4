/**
 * Every error and warning names fields that exist: the dotted field paths in the texts the checks can
 * produce (each `fix` and `problem`, found in the source) must be fields of the JSON Schema.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { CLUSTER_SPEC_SCHEMA } from '../lib/spec/schema-check';

interface Def { $ref?: string; properties?: Record<string, Def>; items?: Def; anyOf?: Def[]; type?: string }
const definitions = (CLUSTER_SPEC_SCHEMA as { definitions: Record<string, Def> }).definitions;
const deref = (d: Def | undefined): Def | undefined => {
  let cur = d;
  for (let i = 0; i < 10 && cur?.$ref; i++) cur = definitions[cur.$ref.replace('#/definitions/', '')];
  return cur;
};
const TOP = Object.keys(deref(definitions.ClusterSpec)!.properties!);

/** True when a dotted path (list indices allowed) is a field of ClusterSpec. */
function isField(dotted: string): boolean {
  let node = deref(definitions.ClusterSpec);
  for (const seg of dotted.replace(/\[[^\]]*\]/g, '').split('.')) {
    while (node?.items) node = deref(node.items);
    const props = node?.properties ?? Object.assign({}, ...(node?.anyOf ?? []).map((b) => deref(b)?.properties ?? {}));
    if (!props[seg]) return false;
    node = deref(props[seg]);
  }
  return true;
}

/** Dotted paths that start with a top-level spec field, e.g. `keepalived.vipPrefixLength`, `masters[0].address`. */
function fieldPaths(text: string): string[] {
  const re = /(?<![\w.\]}$-])([a-z][A-Za-z]*(?:\[[^\]\s]*\])?(?:\.[A-Za-z][A-Za-z0-9]*(?:\[[^\]\s]*\])?)+)/g;
  return [...text.matchAll(re)].map((m) => m[1]).filter((p) => TOP.includes(p.split(/[.[]/)[0]));
}

/** The literal text of an expression: strings and templates (substitutions as `${}`), concatenations and conditionals. */
function texts(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) return [node.head.text + node.templateSpans.map((s) => `\${}${s.literal.text}`).join('')];
  const out: string[] = [];
  node.forEachChild((c) => { out.push(...texts(c)); });
  return out;
}

const root = path.resolve(__dirname, '..');
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every problem and fix text in lib/: arguments 3 and 4 of err/warn/issue calls, `problem`/`fix` properties, "(fix: ...)" strings. */
function issueTexts(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const file of sources(path.join(root, 'lib'))) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const rel = path.relative(root, file);
    const visit = (n: ts.Node) => {
      if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && ['err', 'warn', 'issue'].includes(n.expression.text) && n.arguments.length === 4) {
        for (const a of n.arguments.slice(2)) out.push(...texts(a).map((text) => ({ file: rel, text })));
      } else if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'at' && n.arguments.length >= 2) {
        for (const a of n.arguments.slice(0, 2)) out.push(...texts(a).map((text) => ({ file: rel, text })));
      } else if (ts.isPropertyAssignment(n) && ts.isIdentifier(n.name) && ['fix', 'problem'].includes(n.name.text)) {
        out.push(...texts(n.initializer).map((text) => ({ file: rel, text })));
      } else if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n)) && n.getText(sf).includes('(fix: ')) {
        out.push(...texts(n).map((text) => ({ file: rel, text })));
      }
      n.forEachChild(visit);
    };
    visit(sf);
  }
  return out;
}

describe('error and warning texts name fields that exist', () => {
  const all = issueTexts();

  test('the texts are found (the check is not vacuous)', () => {
    expect(all.length).toBeGreaterThan(300);
    const files = new Set(all.map((t) => t.file));
    for (const f of ['lib/plan/validate.ts', 'lib/plan/validate-lb.ts', 'lib/plan/validate-pki.ts', 'lib/spec/schema-check.ts', 'lib/plan/plan.ts']) expect(files).toContain(f);
    expect(all.some((t) => t.text.includes('loadBalancer.vip'))).toBe(true);
  });

  test('the path finder and the schema lookup tell real fields from invented ones', () => {
    expect(fieldPaths('set keepalived.vipPrefixLength, or masters[${}].address and apiServer.certSANs[2]; e.g. "api.example.com"'))
      .toEqual(['keepalived.vipPrefixLength', 'masters[${}].address', 'apiServer.certSANs[2]']);
    expect(fieldPaths('${}.extraArgs kubernetes.default.svc status.podIP')).toEqual([]);
    expect(isField('keepalived.vipPrefixLength')).toBe(true);
    expect(isField('masters[0].address')).toBe(true);
    expect(isField('etcd.local.extraArgs')).toBe(true);
    expect(isField('apiServer.certSans')).toBe(false);
    expect(isField('keepalived.vip')).toBe(false);
    expect(isField('networking.podSubnets')).toBe(false);
  });

  test('every dotted field path in them is in the JSON Schema', () => {
    const paths = new Set(all.flatMap((t) => fieldPaths(t.text)));
    expect(paths.size).toBeGreaterThan(10);
    const unknown = all.flatMap((t) => fieldPaths(t.text).filter((p) => !isField(p)).map((p) => `${t.file}: ${p} in ${JSON.stringify(t.text)}`));
    expect(unknown).toEqual([]);
  });
});
