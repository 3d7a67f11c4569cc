import type { ChatChunk, ChatResponse, ChatToolCall, FinishReason, Usage } from '../../index.ts';

/** Builders for the chat shapes a framework call reports to the runtime. */
export function chatResponse(model: string, content: string | null, toolCalls: ChatToolCall[], finish: FinishReason, usage: Usage | undefined): ChatResponse {
  return {
    id: 'fmguard-framework',
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }, finish_reason: finish }],
    usage: usage ? chatUsage(usage) : undefined,
  };
}

export function chatChunk(model: string, delta: ChatChunk['choices'][number]['delta'], finish: FinishReason | null = null, usage?: Usage): ChatChunk {
  return {
    id: 'fmguard-framework',
    object: 'chat.completion.chunk',
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage: chatUsage(usage) } : {}),
  };
}

/** A chunk that carries nothing the runtime meters (framework parts that are not output). */
export function emptyChunk(model: string): ChatChunk {
  return { id: 'fmguard-framework', object: 'chat.completion.chunk', created: 0, model, choices: [] };
}

function chatUsage(usage: Usage): NonNullable<ChatResponse['usage']> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cachedInputTokens !== undefined ? { prompt_tokens_details: { cached_tokens: usage.cachedInputTokens } } : {}),
  };
}
