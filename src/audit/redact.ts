/** What a masked value becomes. */
export const REDACTED = '[REDACTED]';

export interface RedactOptions {
  /**
   * Fields to mask whatever their value: a bare name (`password`) matches that key at any depth; a
   * dotted path (`input.card_number`) matches a key path ending that way; `*` matches any one key.
   * Array indices are not part of paths (`items.card` matches `items[3].card`).
   */
  fields?: readonly string[];
  /** Known secret values (configured API and agent keys), masked wherever they occur in a string. */
  secrets?: readonly string[];
}

/** Turns any value into plain JSON with secrets masked. */
export type Redactor = (value: unknown) => unknown;

// Words that make any key a secret, whatever its value (a numeric password is still a password).
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secrets',
  'authorization',
  'apikey',
  'credential',
  'credentials',
  'cookie',
  'privatekey',
]);
// A key ending in these words names a secret when its value is not a number or boolean, so
// `apiKey` and `accessToken` are masked while `inputTokens` (other word) and `maxToken: 4096` are not.
const SECRET_LAST_WORDS = new Set(['key', 'token']);

// Values that look like credentials, wherever they appear in a string.
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{16,}/gi, `$1 ${REDACTED}`],
  [/\bsk-[A-Za-z0-9][A-Za-z0-9_-]{19,}/g, REDACTED], // OpenAI, Anthropic (sk-ant-...), most OpenAI-compatible keys
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED], // AWS access key ids
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED], // GitHub tokens
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED], // Slack tokens
  [/\bAIza[0-9A-Za-z_-]{35}/g, REDACTED], // Google API keys
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, REDACTED], // JWTs
];

// One pass that finds whether any pattern could match (case-insensitive: a superset); only a string it
// flags pays for the replacements. Most audit strings (ids, model names, messages) are not flagged.
const ANY_PATTERN = new RegExp(SECRET_PATTERNS.map(([pattern]) => `(?:${pattern.source})`).join('|'), 'i');

const MAX_DEPTH = 64;

/** Split `apiKey`, `api_key`, `X-Api-Key` into lower-case words. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

type KeyKind = 'secret' | 'unless-number' | 'plain';

function classifyKey(key: string): KeyKind {
  const w = words(key);
  if (w.length === 0) return 'plain';
  if (w.some((word) => SECRET_WORDS.has(word))) return 'secret';
  for (let i = 0; i + 1 < w.length; i++) if (w[i] === 'api' && w[i + 1] === 'key') return 'secret';
  return SECRET_LAST_WORDS.has(w[w.length - 1]!) ? 'unless-number' : 'plain';
}

// Key names repeat in every event: classify each once (bounded, so hostile key names cannot grow it).
const keyKinds = new Map<string, KeyKind>();
const MAX_KEY_KINDS = 4096;

/** Whether a key, by its name alone, holds a secret; `value` decides for the weaker names. */
export function isSecretKey(key: string, value: unknown): boolean {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    kind = classifyKey(key);
    if (keyKinds.size < MAX_KEY_KINDS) keyKinds.set(key, kind);
  }
  if (kind !== 'unless-number') return kind === 'secret';
  return typeof value !== 'number' && typeof value !== 'boolean' && value !== null;
}

/** Mask credential-looking substrings and known secrets inside a string. */
export function redactString(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length <= out.length && out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (!ANY_PATTERN.test(out)) return out;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function compileField(spec: string): string[] {
  return spec.split('.').filter(Boolean);
}

function pathEndsWith(path: readonly string[], spec: readonly string[]): boolean {
  if (spec.length === 0 || spec.length > path.length) return false;
  const offset = path.length - spec.length;
  return spec.every((segment, i) => segment === '*' || segment === path[offset + i]);
}

/** Build a redactor once (fields parsed, secrets sorted) and apply it to every event. */
export function createRedactor({ fields = [], secrets = [] }: RedactOptions = {}): Redactor {
  const specs = fields.map(compileField).filter((s) => s.length > 0);
  // Longest first, so a secret that contains another is masked whole.
  const known = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length > 0))].sort((a, b) => b.length - a.length);

  const visit = (value: unknown, path: string[], ancestors: Set<object>): unknown => {
    if (value === null) return null;
    switch (typeof value) {
      case 'string':
        return redactString(value, known);
      case 'number':
        return Number.isFinite(value) ? value : null;
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'object':
        break;
      default:
        return undefined; // undefined, functions, symbols: dropped, as JSON.stringify does
    }
    const obj = value as object;
    if (ancestors.has(obj)) return '[Circular]';
    if (path.length >= MAX_DEPTH) return '[Too deep]';
    ancestors.add(obj);
    try {
      if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
        return visit((obj as { toJSON(): unknown }).toJSON(), path, ancestors);
      }
      if (Array.isArray(obj)) return obj.map((item) => visit(item, path, ancestors) ?? null);
      if (obj instanceof Set) return [...obj].map((item) => visit(item, path, ancestors) ?? null);
      const entries: Array<[string, unknown]> = obj instanceof Map ? [...obj].map(([k, v]) => [String(k), v]) : Object.entries(obj);
      if (obj instanceof Error) entries.push(['name', obj.name], ['message', obj.message]);
      const out: Record<string, unknown> = {};
      for (const [key, child] of entries) {
        const childPath = [...path, key];
        if (child === undefined) continue;
        if (specs.some((spec) => pathEndsWith(childPath, spec)) || isSecretKey(key, child)) {
          out[key] = REDACTED;
          continue;
        }
        const next = visit(child, childPath, ancestors);
        if (next !== undefined) out[key] = next;
      }
      return out;
    } finally {
      ancestors.delete(obj);
    }
  };

  return (value) => visit(value, [], new Set());
}

/** One-off redaction; prefer `createRedactor` on a hot path. */
export function redact(value: unknown, options?: RedactOptions): unknown {
  return createRedactor(options)(value);
}
