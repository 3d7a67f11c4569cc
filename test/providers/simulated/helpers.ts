import type { ChatMessage, ChatRequest, ChatTool } from '../../../src/core/chat.ts';

/** A request with one user message; `extra` overrides or adds fields. */
export function ask(text: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'sim', messages: [{ role: 'user', content: text }], ...extra };
}

export function signal(): AbortSignal {
  return new AbortController().signal;
}

export const searchTool: ChatTool = {
  type: 'function',
  function: {
    name: 'search',
    parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 5 } }, required: ['query', 'limit'] },
  },
};

/** The conversation after the agent ran the tool calls of `reply` and fed back their results. */
export function withToolResult(messages: ChatMessage[], reply: ChatMessage & { role: 'assistant' }, result: string): ChatMessage[] {
  const results = (reply.tool_calls ?? []).map((c) => ({ role: 'tool' as const, tool_call_id: c.id, content: result }));
  return [...messages, reply, ...results];
}
