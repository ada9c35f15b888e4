// Generates schema/cluster-spec.schema.json from the ClusterSpec type in lib/spec/types.ts:
// `npm run schema`. test/schema.test.ts fails when the committed file differs from what this produces.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createGenerator } from 'ts-json-schema-generator';

/** The repository root: the nearest directory above this file (or else the working directory) that has lib/spec/types.ts. */
export function repoRoot(): string {
  for (const from of [__dirname, process.cwd()]) {
    for (let dir = from; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'lib', 'spec', 'types.ts'))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`lib/spec/types.ts not found above ${__dirname} or ${process.cwd()}`);
}

/** Where the committed schema lives, relative to the repository root. */
export const SCHEMA_FILE = 'schema/cluster-spec.schema.json';

/**
 * The JSON Schema of ClusterSpec, as the text committed to schema/cluster-spec.schema.json: doc comments
 * become descriptions, `@default` tags defaults, and every interface gets `additionalProperties: false`.
 */
export function generateSchemaText(root: string = repoRoot()): string {
  const schema = createGenerator({
    path: path.join(root, 'lib', 'spec', 'types.ts'),
    tsconfig: path.join(root, 'tsconfig.json'),
    type: 'ClusterSpec',
    expose: 'export',
    topRef: true,
    jsDoc: 'extended',
    sortProps: false,
    additionalProperties: false,
    // tsc type-checks the file; the generator only reads it.
    skipTypeCheck: true,
  }).createSchema('ClusterSpec');
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (require.main === module) {
  const root = repoRoot();
  const file = path.join(root, SCHEMA_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, generateSchemaText(root));
  console.log(`wrote ${SCHEMA_FILE}`);
}
