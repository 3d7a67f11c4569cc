import { httpFailure } from './error-response.ts';

/**
 * The deepest nesting of arrays and objects a request body may have. Deeper JSON is refused with 400
 * `request.invalid` before it is parsed: recursive code further on (canonical JSON, schema checks,
 * policies, serialisers) would otherwise overflow the stack on a body nested thousands deep.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether the JSON text nests arrays and objects deeper than `max`. One pass over the bytes: the
 * structural characters and the quote are ASCII and never occur inside a UTF-8 sequence.
 */
export function jsonDepthExceeds(raw: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The body as JSON, bounded: too deep or not JSON is an HttpFailure 400 `request.invalid` (size is the reader's bound). */
export function parseJsonBody(raw: Buffer, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (jsonDepthExceeds(raw, maxDepth)) throw httpFailure(400, 'request.invalid', `the request body nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw httpFailure(400, 'request.invalid', 'the request body is not valid JSON');
  }
}
