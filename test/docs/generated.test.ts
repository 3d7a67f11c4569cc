import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { generatedDocs, referenceProblems } from '../../src/config/reference-docs.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('generated config docs (npm run gen:docs)', () => {
  it('every key of the schema is documented in src/config/reference.ts, and nothing else is', () => {
    expect(referenceProblems()).toEqual([]);
  });

  it.each(Object.keys(generatedDocs()))('%s is up to date (run `npm run gen:docs` after changing the schema or the reference)', (path) => {
    expect(readFileSync(join(ROOT, path), 'utf8')).toBe(generatedDocs()[path]);
  });

  it('the JSON Schema is strict like the zod schema (editors flag a misspelt key) and describes every key', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'fmguard.schema.json'), 'utf8'));
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(configSchema.shape).sort());
    const limits = schema.properties.agents.additionalProperties.properties.limits;
    expect(limits.additionalProperties).toBe(false);
    expect(limits.properties.maxSteps).toMatchObject({ type: 'integer', exclusiveMinimum: 0, description: expect.stringContaining('Default: 50') });
  });

  it('docs/config.md lists every key with its type, default, meaning and example', () => {
    const md = readFileSync(join(ROOT, 'docs/config.md'), 'utf8');
    expect(md).toContain('| `agents.*.limits.maxSteps` | integer > 0 | 50 | Model calls per run (`limit.steps`). | `20` |');
    expect(md).toContain('| `agents.*.tenant` | string (required) |');
  });

  it('the example config points YAML editors at the schema', () => {
    expect(readFileSync(join(ROOT, 'fmguard.example.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./fmguard.schema.json');
  });
});
