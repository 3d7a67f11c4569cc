import type { BaseMessage } from '@langchain/core/messages';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import type { ChatMessage, ChatTool, ChatToolCall, Usage } from '../../index.ts';
import { chatFunctionName, type ToolNaming } from '../shared/tool-naming.ts';

interface LangChainToolCall {
  id?: string;
  name: string;
  args: unknown;
}

/** Text of a message's content, for the input-token bound (non-text blocks as JSON). */
function contentText(message: BaseMessage): string {
  const content = message.content as unknown;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return JSON.stringify(content ?? '');
  return content
    .map((block: unknown) =>
      typeof block === 'string' ? block : typeof (block as { text?: unknown }).text === 'string' ? (block as { text: string }).text : JSON.stringify(block),
    )
    .join('');
}

export function toChatToolCalls(calls: readonly LangChainToolCall[] | undefined, naming: ToolNaming): ChatToolCall[] {
  return (calls ?? []).map((call, i) => ({
    id: call.id ?? `call_${i}`,
    type: 'function',
    function: { name: chatFunctionName(call.name, naming), arguments: JSON.stringify(call.args ?? {}) },
  }));
}

/** The agent's conversation as the runtime judges it (the model still receives LangChain's own messages). */
export function toChatMessages(systemPrompt: string | undefined, messages: readonly BaseMessage[], naming: ToolNaming): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (systemPrompt) out.push({ role: 'system', content: systemPrompt });
  for (const message of messages) {
    const type = message.getType();
    const text = contentText(message);
    if (type === 'ai') {
      const calls = toChatToolCalls((message as BaseMessage & { tool_calls?: LangChainToolCall[] }).tool_calls, naming);
      out.push({ role: 'assistant', content: text, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
    } else if (type === 'tool')
      out.push({ role: 'tool', tool_call_id: String((message as BaseMessage & { tool_call_id?: string }).tool_call_id ?? ''), content: text });
    else if (type === 'system' || type === 'developer') out.push({ role: 'system', content: text });
    else out.push({ role: 'user', content: text });
  }
  if (out.length === 0) out.push({ role: 'user', content: '' });
  return out;
}

/** The agent's tools as chat tools; their schemas count toward the input bound. */
export function toChatTools(tools: readonly unknown[], naming: ToolNaming): ChatTool[] | undefined {
  if (tools.length === 0) return undefined;
  return tools.map((tool) => {
    const t = tool as { name?: string; description?: string; schema?: unknown };
    let parameters: Record<string, unknown> | undefined;
    try {
      parameters = t.schema ? (toJsonSchema(t.schema as never) as Record<string, unknown>) : undefined;
    } catch {
      parameters = undefined;
    }
    return { type: 'function', function: { name: chatFunctionName(String(t.name ?? 'tool'), naming), description: t.description, parameters } };
  });
}

/** The usage an AI message reported; undefined when it reported none. */
export function usageOf(message: {
  usage_metadata?: { input_tokens: number; output_tokens: number; input_token_details?: { cache_read?: number } };
}): Usage | undefined {
  const usage = message.usage_metadata;
  if (!usage) return undefined;
  const cached = usage.input_token_details?.cache_read;
  return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, ...(cached ? { cachedInputTokens: cached } : {}) };
}

export function messageText(message: BaseMessage): string {
  return contentText(message);
}
