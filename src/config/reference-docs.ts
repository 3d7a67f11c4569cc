import YAML from 'yaml';
import { z } from 'zod';
import { CONFIG_REFERENCE, type KeyDoc } from './reference.ts';
import { configSchema } from './schema.ts';

/**
 * `fmguard.schema.json` and `docs/config.md`, both generated from the zod schema (`schema.ts`: the
 * keys, types and constraints) and `reference.ts` (what each key means, its default, an example).
 * `npm run gen:docs` writes them; `test/docs/generated.test.ts` fails when either is stale.
 */

type Node = Record<string, unknown> & {
  type?: string;
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
};

export const SCHEMA_FILE = 'fmguard.schema.json';
export const MARKDOWN_FILE = 'docs/config.md';

/** Keys a file must set (in every branch where they appear). */
const required = new WeakSet<Node>();

/** Every key path (`agents.*.limits.maxSteps`) with the schema nodes found there (several for a union's branches). */
function collect(node: Node, path: string, out: Map<string, Node[]>): void {
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) collect(branch, path, out);
  if (node.properties) {
    const must = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    for (const [key, child] of Object.entries(node.properties)) {
      const p = path ? `${path}.${key}` : key;
      if (must.has(key)) required.add(child);
      out.set(p, [...(out.get(p) ?? []), child]);
      collect(child, p, out);
    }
  }
  if (node.additionalProperties && typeof node.additionalProperties === 'object') collect(node.additionalProperties, `${path}.*`, out);
  if (node.items) collect(node.items, `${path}[]`, out);
}

/** What the docs say about a path: its own entry, or (for a list's items) the list's. */
function docOf(path: string): KeyDoc | undefined {
  return CONFIG_REFERENCE[path];
}

function typeOf(node: Node): string {
  const branches = node.anyOf ?? node.oneOf;
  if (branches) {
    const kinds = branches.map(typeOf);
    if (kinds.length === 2 && kinds.includes('number') && kinds.includes('string')) return 'duration (ms, or "500ms", "30s", "5m", "2h", "1d")';
    return [...new Set(kinds)].join(' \\| ');
  }
  if ('const' in node) return JSON.stringify(node.const);
  if (Array.isArray(node.type)) {
    const kinds = node.type as string[];
    if (kinds.length === 2 && kinds.includes('number') && kinds.includes('string')) return 'duration (ms, or "500ms", "30s", "5m", "2h", "1d")';
    return kinds.join(' \\| ');
  }
  if (Array.isArray(node.enum)) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  switch (node.type) {
    case 'integer': {
      if (node.exclusiveMinimum === 0) return 'integer > 0';
      if (node.minimum === 0) return 'integer ≥ 0';
      return 'integer';
    }
    case 'number':
      return node.minimum === 0 ? 'number ≥ 0' : 'number';
    case 'string':
      return node.format === 'uri' ? 'URL' : 'string';
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${node.items ? typeOf(node.items) : 'any'}`;
    case 'object':
      if (node.properties) return 'object';
      return node.additionalProperties && typeof node.additionalProperties === 'object' ? `map of name → ${typeOf(node.additionalProperties)}` : 'object';
    default:
      return 'any';
  }
}

function paths(root: Node): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  collect(root, '', out);
  return out;
}

/** Keys in the schema without an entry in reference.ts, and entries naming no key: both must be empty. */
export function referenceProblems(): string[] {
  const found = paths(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Node);
  const problems: string[] = [];
  for (const path of found.keys()) if (!docOf(path)) problems.push(`${path}: in the schema, not documented in src/config/reference.ts`);
  for (const path of Object.keys(CONFIG_REFERENCE)) if (!found.has(path)) problems.push(`${path}: documented in src/config/reference.ts, not in the schema`);
  return problems;
}

/** The JSON Schema of a config file, with each key's meaning, default and example for editors. */
export function configJsonSchema(): Record<string, unknown> {
  const problems = referenceProblems();
  if (problems.length > 0) throw new Error(`the config reference is out of date:\n  ${problems.join('\n  ')}`);
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Node;
  for (const [path, nodes] of paths(root)) {
    const doc = docOf(path)!;
    const text = [doc.meaning, doc.default ? `Default: ${doc.default}.` : ''].filter(Boolean).join(' ');
    for (const node of nodes) {
      node.description = text;
      if (doc.example) node.examples = [YAML.parse(doc.example) as unknown];
    }
  }
  // The duration transform cannot be represented: the input side (number or string) is what a file holds.
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/fmguard/fmguard/blob/main/fmguard.schema.json',
    title: 'fmguard configuration',
    description: 'fmguard.yaml: generated from src/config/schema.ts and src/config/reference.ts by `npm run gen:docs`. Reference: docs/config.md.',
    ...Object.fromEntries(Object.entries(root).filter(([key]) => key !== '$schema')),
  };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** `docs/config.md`: every key, its type, default, meaning and an example. */
export function configMarkdown(): string {
  const schema = configJsonSchema() as Node;
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run gen:docs` from src/config/schema.ts and src/config/reference.ts: edit those, not this file. -->',
    '',
    'Every key of `fmguard.yaml` (YAML or JSON; `${ENV}` and `${ENV:-default}` are expanded; unknown keys are errors).',
    '`*` stands for a name you choose, `[]` for an item of a list. Durations are milliseconds or strings such as `"30s"`.',
    'Editors that read JSON Schema (the YAML extension of VS Code, JetBrains IDEs) complete and check keys from',
    '[`fmguard.schema.json`](../fmguard.schema.json): start a config file with',
    '`# yaml-language-server: $schema=./fmguard.schema.json` (as [`fmguard.example.yaml`](../fmguard.example.yaml) does).',
    '`fmguard config check` validates a file exactly as `fmguard serve` does.',
    '',
  ];
  const all = paths(schema);
  const sections = [...new Set([...all.keys()].map((p) => p.split(/[.[]/)[0]!))];
  for (const section of sections) {
    lines.push(`## \`${section}\``, '', '| key | type | default | meaning | example |', '| --- | --- | --- | --- | --- |');
    for (const [path, nodes] of all) {
      if (path !== section && !path.startsWith(`${section}.`) && !path.startsWith(`${section}[`)) continue;
      const doc = docOf(path)!;
      const type = [...new Set(nodes.map(typeOf))].join(' \\| ') + (nodes.every((n) => required.has(n)) ? ' (required)' : '');
      lines.push(
        `| \`${path}\` | ${type} | ${doc.default ? cell(doc.default) : '—'} | ${cell(doc.meaning)} | ${doc.example ? `\`${cell(doc.example)}\`` : '—'} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The two generated files, by path relative to the repository. */
export function generatedDocs(): Record<string, string> {
  return { [SCHEMA_FILE]: `${JSON.stringify(configJsonSchema(), null, 2)}\n`, [MARKDOWN_FILE]: configMarkdown() };
}
