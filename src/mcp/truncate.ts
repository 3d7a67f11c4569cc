import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

type Block = CallToolResult['content'][number];

/** Room kept for the note that replaces what was cut. */
const NOTE_RESERVE = 256;

function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** What a block costs the model's context: its text or encoded data, or its JSON for anything else. */
function blockBytes(block: Block): number {
  switch (block.type) {
    case 'text':
      return Buffer.byteLength(block.text);
    case 'image':
    case 'audio':
      return block.data.length;
    default:
      return jsonBytes(block);
  }
}

/** The first `bytes` bytes of `text`, never splitting a character. */
function cut(text: string, bytes: number): string {
  const buf = Buffer.from(text);
  let end = Math.max(0, Math.min(bytes, buf.length));
  // Back up to the start of a UTF-8 sequence (continuation bytes are 10xxxxxx).
  while (end > 0 && end < buf.length && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * Keep a tool result within `limit` bytes of content, so one tool cannot flood the model's context:
 * blocks are kept in order while they fit, the text block that crosses the limit is cut, later
 * blocks are dropped, and a note says what happened (also in `_meta.fmguard.truncated`). Structured
 * content that does not fit is dropped too; for a tool with an `outputSchema` that makes the result
 * an error (a client would reject it without its structured content).
 */
export function truncateResult(result: CallToolResult, limit: number, toolHasOutputSchema = false): CallToolResult {
  const content = result.content ?? [];
  const sizes = content.map(blockBytes);
  const structuredBytes = result.structuredContent === undefined ? 0 : jsonBytes(result.structuredContent);
  const total = sizes.reduce((a, b) => a + b, 0) + structuredBytes;
  if (total <= limit) return result;

  let room = Math.max(0, limit - NOTE_RESERVE);
  const kept: Block[] = [];
  let omitted = 0;
  for (const [i, block] of content.entries()) {
    const size = sizes[i]!;
    if (size <= room) {
      kept.push(block);
      room -= size;
    } else if (block.type === 'text' && room > 0) {
      kept.push({ ...block, text: cut(block.text, room) });
      room = 0;
    } else omitted++;
  }
  const out: CallToolResult = { ...result, content: kept };
  let dropped = false;
  if (result.structuredContent !== undefined && structuredBytes > room) {
    delete out.structuredContent;
    dropped = true;
    if (toolHasOutputSchema) out.isError = true;
  }
  const parts = [`the tool result was ${total} bytes, over the limit of ${limit}; it was cut`];
  if (omitted) parts.push(`${omitted} content block(s) omitted`);
  if (dropped) parts.push('structured content omitted');
  kept.push({ type: 'text', text: `[fmguard: ${parts.join('; ')}]` });
  out._meta = { ...result._meta, fmguard: { truncated: true, originalBytes: total, limitBytes: limit } };
  return out;
}
