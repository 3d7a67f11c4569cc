import type { ChatMessage, ChatRequest } from './chat.ts';

/**
 * An upper bound on a request's input tokens, without a tokenizer: byte-level BPE tokenizers never
 * produce more tokens than UTF-8 bytes, plus a few special tokens per message. Reservations use it,
 * so a call can never cost more input than was reserved. It is loose (about 4x for English), which
 * errs on the side of the limit; a caller that counts tokens exactly can pass the exact number.
 */
const PER_MESSAGE_OVERHEAD = 8;
const PER_REQUEST_OVERHEAD = 8;

function contentBytes(message: ChatMessage): number {
  let bytes = 0;
  const content = message.content;
  if (typeof content === 'string') bytes += Buffer.byteLength(content, 'utf8');
  else if (Array.isArray(content)) {
    for (const part of content) bytes += Buffer.byteLength(typeof part.text === 'string' ? part.text : JSON.stringify(part), 'utf8');
  }
  if (message.role === 'assistant' && message.tool_calls) {
    for (const call of message.tool_calls) {
      bytes += Buffer.byteLength(call.function.name, 'utf8') + Buffer.byteLength(call.function.arguments ?? '', 'utf8') + PER_MESSAGE_OVERHEAD;
    }
  }
  if ('name' in message && typeof message.name === 'string') bytes += Buffer.byteLength(message.name, 'utf8');
  return bytes;
}

export function inputTokenUpperBound(request: Pick<ChatRequest, 'messages' | 'tools'>): number {
  let tokens = PER_REQUEST_OVERHEAD;
  for (const message of request.messages) tokens += contentBytes(message) + PER_MESSAGE_OVERHEAD;
  if (request.tools && request.tools.length > 0) tokens += Buffer.byteLength(JSON.stringify(request.tools), 'utf8');
  return tokens;
}
