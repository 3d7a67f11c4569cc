import type { ChatChunk } from '../../core/chat.ts';
import type { SimOutput } from './plan.ts';
import { CHARS_PER_TOKEN, textTokens } from './tokens.ts';

export type ChunkDelta = ChatChunk['choices'][number]['delta'];

/** One streamed piece and the tokens it carries (for pacing and abort accounting). */
export interface StreamPiece {
  delta: ChunkDelta;
  tokens: number;
}

/**
 * Splits an output into stream deltas the way OpenAI does: the first carries the role; text arrives in
 * pieces of `tokensPerChunk` tokens; a tool call arrives as its id and name, then argument fragments.
 * Lazy: each piece is cut when the stream asks for it.
 */
export function* toPieces(output: SimOutput, tokensPerChunk: number): Generator<StreamPiece, void, undefined> {
  const size = tokensPerChunk * CHARS_PER_TOKEN;
  let first = true;
  const role = (piece: StreamPiece): StreamPiece => {
    if (!first) return piece;
    first = false;
    return { ...piece, delta: { role: 'assistant', ...(output.toolCalls ? { content: null } : {}), ...piece.delta } };
  };
  if (output.toolCalls) {
    for (const [index, call] of output.toolCalls.entries()) {
      const { name, arguments: args } = call.function;
      yield role({ delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name, arguments: '' } }] }, tokens: textTokens(name) });
      for (let i = 0; i < args.length; i += size) {
        const part = args.slice(i, i + size);
        yield role({ delta: { tool_calls: [{ index, function: { arguments: part } }] }, tokens: textTokens(part) });
      }
    }
    return;
  }
  const content = output.content ?? '';
  if (content.length === 0) yield role({ delta: { content: '' }, tokens: 0 });
  for (const part of typeof content === 'string' ? slices(content, size) : content.pieces(size)) {
    yield role({ delta: { content: part }, tokens: textTokens(part) });
  }
}

function* slices(text: string, size: number): Generator<string, void, undefined> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}
