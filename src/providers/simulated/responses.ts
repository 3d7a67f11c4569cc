import type { ChatChunk, ChatResponse, ChatUsage, FinishReason } from '../../core/chat.ts';
import type { ChunkDelta } from './deltas.ts';
import type { SimOutput } from './plan.ts';

/** The identity every response and chunk of one call shares. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** `content` is the output's text, built (complete() builds a `LazyProse` in slices first). */
export function toResponse(meta: ResponseMeta, output: SimOutput, content: string | null): ChatResponse {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content,
          ...(output.toolCalls ? { tool_calls: output.toolCalls } : {}),
          refusal: null,
        },
        finish_reason: output.finishReason,
        logprobs: null,
      },
    ],
    usage: { ...output.usage },
  };
}

export function toChunk(meta: ResponseMeta, delta: ChunkDelta, finishReason: FinishReason | null): ChatChunk {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

/** OpenAI's `include_usage` trailer: no choices, just usage. */
export function usageChunk(meta: ResponseMeta, usage: ChatUsage): ChatChunk {
  return { id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: { ...usage } };
}
