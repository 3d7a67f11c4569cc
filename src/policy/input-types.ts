import { escapeCedarString } from './cedar-text.ts';
import type { JsonSchema, PolicyProblem, ToolServerSpec } from './types.ts';

/**
 * Tool arguments become `context.input`. Cedar types context per action, and fmguard has one
 * `callTool` action, so `input` is one record: the union of every configured tool's JSON Schema
 * properties, each optional (a policy must test `context.input has x` first — which is also what
 * makes a missing argument never allow). JSON `integer` → Long, `number` → decimal, `string` →
 * String, `boolean` → Bool, arrays → Set, objects with properties → records. Arguments that
 * cannot be typed (no schema, mixed types, or two tools disagreeing) are left undeclared, so a
 * policy that reads them fails validation instead of failing at run time.
 */
export type InputType =
  | { readonly kind: 'String' | 'Long' | 'Bool' | 'decimal' }
  | { readonly kind: 'Set'; readonly element: InputType }
  | { readonly kind: 'Record'; readonly attrs: ReadonlyMap<string, InputType> };

export type RecordType = Extract<InputType, { kind: 'Record' }>;

export const EMPTY_RECORD: RecordType = { kind: 'Record', attrs: new Map() };

// Attribute names Cedar JSON would read as something else than a record key.
const RESERVED_KEYS = new Set(['__entity', '__extn', '__expr']);

export function isUsableKey(key: string): boolean {
  return key.length > 0 && !RESERVED_KEYS.has(key);
}

export function fromJsonSchema(schema: unknown): InputType | undefined {
  if (schema === null || typeof schema !== 'object') return undefined;
  const s = schema as Record<string, unknown>;
  let type = s.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    type = nonNull.length === 1 ? nonNull[0] : undefined;
  }
  if (type === undefined && Array.isArray(s.enum) && s.enum.length > 0 && s.enum.every((v) => typeof v === 'string')) type = 'string';
  if (type === undefined && typeof s.const === 'string') type = 'string';
  switch (type) {
    case 'string':
      return { kind: 'String' };
    case 'integer':
      return { kind: 'Long' };
    case 'number':
      return { kind: 'decimal' };
    case 'boolean':
      return { kind: 'Bool' };
    case 'array': {
      const element = fromJsonSchema(s.items);
      return element ? { kind: 'Set', element } : undefined;
    }
    case 'object': {
      if (s.properties === null || typeof s.properties !== 'object') return undefined;
      const attrs = new Map<string, InputType>();
      for (const [key, prop] of Object.entries(s.properties as Record<string, unknown>)) {
        const t = isUsableKey(key) ? fromJsonSchema(prop) : undefined;
        if (t) attrs.set(key, t);
      }
      return { kind: 'Record', attrs };
    }
    default:
      return undefined;
  }
}

/**
 * Both types, if they agree; undefined when they conflict. Records merge attribute by attribute; an
 * attribute that conflicted once stays out (`banned`), whatever later tools say.
 */
function merge(a: InputType, b: InputType, path: string, banned: Set<string>): InputType | undefined {
  if (a.kind === 'Record' && b.kind === 'Record') {
    const attrs = new Map(a.attrs);
    for (const [key, t] of b.attrs) {
      const at = `${path}.${key}`;
      if (banned.has(at)) continue;
      const prior = attrs.get(key);
      const merged = prior ? merge(prior, t, at, banned) : t;
      if (merged) attrs.set(key, merged);
      else {
        attrs.delete(key);
        banned.add(at);
      }
    }
    return { kind: 'Record', attrs };
  }
  if (a.kind === 'Set' && b.kind === 'Set') {
    const element = merge(a.element, b.element, `${path}[]`, banned);
    return element ? { kind: 'Set', element } : undefined;
  }
  return a.kind === b.kind ? a : undefined;
}

/**
 * The `context.input` record for all configured tools. An argument two tools type differently is
 * dropped (with a warning): Cedar cannot give it one type.
 */
export function buildInputType(servers: readonly ToolServerSpec[], problems: PolicyProblem[]): RecordType {
  let input: RecordType = EMPTY_RECORD;
  const banned = new Set<string>();
  servers.forEach((server, si) => {
    server.tools?.forEach((tool, ti) => {
      if (!tool.inputSchema) return;
      const source = `toolServers[${si}].tools[${ti}].inputSchema`;
      const t = fromJsonSchema(tool.inputSchema as JsonSchema);
      if (t?.kind !== 'Record') {
        problems.push({
          severity: 'warning',
          source,
          message: `the input schema of ${server.name}.${tool.name} is not an object with properties; its arguments are untyped and policies cannot read them`,
        });
        return;
      }
      const before = banned.size;
      input = merge(input, t, 'input', banned) as RecordType;
      if (banned.size > before) {
        const names = [...banned]
          .slice(before)
          .map((b) => `context.${b}`)
          .join(', ');
        problems.push({
          severity: 'warning',
          source,
          message: `${names} in ${server.name}.${tool.name} has a different type than in another tool; it is left undeclared and policies cannot read it`,
        });
      }
    });
  });
  return input;
}

/** The type in Cedar schema syntax, every record attribute optional. */
export function renderInputType(t: InputType, indent = '  '): string {
  switch (t.kind) {
    case 'Set':
      return `Set<${renderInputType(t.element, indent)}>`;
    case 'Record': {
      if (t.attrs.size === 0) return '{}';
      const inner = `${indent}  `;
      const lines = [...t.attrs].map(([key, a]) => `${inner}"${escapeCedarString(key)}"?: ${renderInputType(a, inner)}`);
      return `{\n${lines.join(',\n')}\n${indent}}`;
    }
    default:
      return t.kind;
  }
}
