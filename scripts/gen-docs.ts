// `npm run gen:docs`: write fmguard.schema.json and docs/config.md (generated from the zod schema and
// src/config/reference.ts), and the admin API's OpenAPI document is served live (/admin/openapi.json).
// test/docs/generated.test.ts fails when a generated file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDocs } from '../src/config/reference-docs.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const [path, content] of Object.entries(generatedDocs())) {
  writeFileSync(join(root, path), content);
  console.log(`wrote ${path} (${content.length} bytes)`);
}
