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
 */
export function toPieces(output: SimOutput, tokensPerChunk: number): StreamPiece[] {
  const size = tokensPerChunk * CHARS_PER_TOKEN;
  const pieces: StreamPiece[] = [];
  if (output.toolCalls) {
    output.toolCalls.forEach((call, index) => {
      const { name, arguments: args } = call.function;
      pieces.push({
        delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name, arguments: '' } }] },
        tokens: textTokens(name),
      });
      for (let i = 0; i < args.length; i += size) {
        const part = args.slice(i, i + size);
        pieces.push({ delta: { tool_calls: [{ index, function: { arguments: part } }] }, tokens: textTokens(part) });
      }
    });
  } else {
    const content = output.content ?? '';
    for (let i = 0; i < content.length; i += size) {
      const part = content.slice(i, i + size);
      pieces.push({ delta: { content: part }, tokens: textTokens(part) });
    }
    if (pieces.length === 0) pieces.push({ delta: { content: '' }, tokens: 0 });
  }
  const first = pieces[0];
  first.delta = { role: 'assistant', ...(output.toolCalls ? { content: null } : {}), ...first.delta };
  return pieces;
}
