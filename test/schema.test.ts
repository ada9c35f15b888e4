import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { EXAMPLE_SPEC } from '../lib';
import isClusterSpec from '../lib/spec/cluster-spec-validator.generated';
import { CLUSTER_SPEC_SCHEMA, SCHEMA_AJV_OPTIONS } from '../lib/spec/schema-check';
import { generateSchemaText, generateValidatorText, SCHEMA_FILE, VALIDATOR_FILE } from '../scripts/gen-schema';

const root = path.resolve(__dirname, '..');
const committedText = fs.readFileSync(path.join(root, SCHEMA_FILE), 'utf8');
const committed = JSON.parse(committedText) as { definitions: Record<string, Def> };

interface Def {
  type?: string;
  description?: string;
  properties?: Record<string, Def>;
  additionalProperties?: unknown;
  default?: unknown;
  items?: Def;
  $ref?: string;
}

/** Every object schema in the tree, with a name for messages. */
function objects(): [string, Def][] {
  const out: [string, Def][] = [];
  const walk = (name: string, d: Def) => {
    if (d.type === 'object' || d.properties) out.push([name, d]);
    for (const [k, p] of Object.entries(d.properties ?? {})) walk(`${name}.${k}`, p);
    if (d.items) walk(`${name}[]`, d.items);
  };
  for (const [name, d] of Object.entries(committed.definitions)) walk(name, d);
  return out;
}

describe('schema/cluster-spec.schema.json', () => {
  test('is what `npm run schema` generates from lib/spec/types.ts (run it after changing the types)', () => {
    expect(committedText).toBe(generateSchemaText(root));
  });

  test(`${VALIDATOR_FILE} is what \`npm run schema\` generates from it (run it after changing the types)`, () => {
    expect(fs.readFileSync(path.join(root, VALIDATOR_FILE), 'utf8')).toBe(generateValidatorText(committedText));
  });

  test('the precompiled validator answers as ajv compiling the schema at run time does', () => {
    const ajv = new Ajv({ allErrors: true, ...SCHEMA_AJV_OPTIONS });
    addFormats(ajv);
    const validate = ajv.compile(committed);
    const cases: unknown[] = [
      EXAMPLE_SPEC, { ...EXAMPLE_SPEC, mastrs: [] }, { ...EXAMPLE_SPEC, masters: 'x' }, { ...EXAMPLE_SPEC, kubernetesVersion: 1.37 },
      { ...EXAMPLE_SPEC, security: { profile: 'hardened' } }, { ...EXAMPLE_SPEC, security: { profile: 'nope' } },
      { ...EXAMPLE_SPEC, controlPlaneEndpoint: { host: 'h', port: Infinity } }, {}, null, [], 'x',
    ];
    for (const c of cases) expect([c, isClusterSpec(c)]).toEqual([c, validate(c)]);
    expect(cases.filter((c) => validate(c)).length).toBe(2);
  });

  test('the precompiled validator is used only when made from this schema (else ajv checks everything)', () => {
    const withValidator = (digest: string) => {
      let issues: unknown[] = [];
      jest.isolateModules(() => {
        jest.doMock('../lib/spec/cluster-spec-validator.generated', () => ({ __esModule: true, default: () => true, SCHEMA_DIGEST: digest }));
        const { checkSchema } = require('../lib/spec/schema-check') as typeof import('../lib/spec/schema-check');
        issues = checkSchema({ ...EXAMPLE_SPEC, mastrs: [] }, '').map((i) => i.segments);
      });
      jest.dontMock('../lib/spec/cluster-spec-validator.generated');
      return issues;
    };
    // A validator that accepts everything: trusted with the schema's digest, ignored with another.
    const { schemaDigest } = jest.requireActual<typeof import('../lib/spec/schema-check')>('../lib/spec/schema-check');
    expect(withValidator(schemaDigest(committed as unknown as Record<string, unknown>))).toEqual([]);
    expect(withValidator('a schema before a change')).toEqual([['mastrs']]);
  });

  test('is the schema the loader checks against', () => {
    expect(CLUSTER_SPEC_SCHEMA).toEqual(committed);
  });

  test('its root is ClusterSpec', () => {
    expect((committed as unknown as { $ref: string }).$ref).toBe('#/definitions/ClusterSpec');
  });

  test('every object is closed: additionalProperties false', () => {
    const open = objects().filter(([, d]) => d.additionalProperties !== false).map(([n]) => n);
    expect(open).toEqual([]);
  });

  test('every definition and every field has a description', () => {
    const missing: string[] = [];
    for (const [name, d] of Object.entries(committed.definitions)) if (!d.description) missing.push(name);
    for (const [name, d] of objects()) {
      for (const [k, p] of Object.entries(d.properties ?? {})) if (!p.description) missing.push(`${name}.${k}`);
    }
    expect(missing).toEqual([]);
  });

  test('every @default in types.ts is a JSON literal', () => {
    const source = fs.readFileSync(path.join(root, 'lib', 'spec', 'types.ts'), 'utf8');
    const tags = [...source.matchAll(/@default\s+(.*)$/gm)].map((m) => m[1].trim());
    expect(tags.length).toBeGreaterThan(10);
    const notJson = tags.filter((t) => {
      try {
        JSON.parse(t);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
  });

  test('every default validates against its own field schema', () => {
    const ajv = new Ajv({ strict: false });
    const bad: string[] = [];
    for (const [name, d] of objects()) {
      for (const [k, p] of Object.entries(d.properties ?? {})) {
        if (p.default === undefined) continue;
        const validate = ajv.compile({ definitions: committed.definitions, ...p });
        if (!validate(p.default)) bad.push(`${name}.${k}: ${JSON.stringify(p.default)} ${ajv.errorsText(validate.errors)}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test('compiles with ajv in strict mode and accepts the embedded example', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(committed);
    expect(validate(EXAMPLE_SPEC)).toBe(true);
    expect(validate({ ...EXAMPLE_SPEC, mastrs: [] })).toBe(false);
  });
});
