/**
 * Helpers for Cedar source text: string escaping, splitting a file into its policies (with offsets),
 * and turning cedar-wasm's byte offsets into line:column.
 */

// Nothing to escape (the common case: names of agents, models and tools).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const PLAIN = /^[^\\"\u0000-\u001f\u007f]*$/u;

/** A Cedar string literal body (Cedar escapes: \\ \" \n \r \t \0 \u{..}). */
export function escapeCedarString(value: string): string {
  if (PLAIN.test(value)) return value;
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\u{${code.toString(16)}}`;
    else out += ch;
  }
  return out;
}

/** A `like` pattern for a shorthand glob: `*` stays a wildcard, everything else is literal. */
export function likePattern(glob: string): string {
  return glob.split('*').map(escapeCedarString).join('*');
}

export interface PolicySlice {
  /** Offset (UTF-16) of the policy's first non-blank character and just past its `;`. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/**
 * Split a parsed Cedar policy set into its policies, in order (Cedar names them policy0, policy1, …).
 * Only called on text that already parsed, so a top-level `;` outside strings and `//` comments
 * always ends a policy.
 */
export function splitPolicies(text: string): PolicySlice[] {
  const out: PolicySlice[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
      continue;
    }
    if (ch === '"') {
      if (start === -1) start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (ch === ';') {
      out.push({ start, end: i + 1, text: text.slice(start, i + 1) });
      start = -1;
      continue;
    }
    if (start === -1 && !/\s/.test(ch!)) start = i;
  }
  return out;
}

/** Maps cedar-wasm source offsets (UTF-8 bytes) to 1-based line and column (in characters). */
export class LineIndex {
  private readonly bytes: Buffer;
  constructor(private readonly text: string) {
    this.bytes = Buffer.from(text, 'utf8');
  }

  /** UTF-8 byte offset → UTF-16 offset into the text. */
  charOffset(byteOffset: number): number {
    return this.bytes.subarray(0, byteOffset).toString('utf8').length;
  }

  position(charOffset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < charOffset && i < this.text.length; i++) {
      if (this.text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: charOffset - lineStart + 1 };
  }

  positionOfByte(byteOffset: number): { line: number; column: number } {
    return this.position(this.charOffset(byteOffset));
  }
}
