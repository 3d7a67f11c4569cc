import type { AgentInputItem, ModelRequest, ModelResponse, SerializedTool } from '@openai/agents';
import type { ChatMessage, ChatTool, ChatToolCall, Usage } from '../../index.ts';
import { chatResponse } from '../shared/chat-shapes.ts';
import { chatFunctionName, type ToolNaming } from '../shared/tool-naming.ts';

/**
 * Text of any item content, for the input-token bound: strings as they are, binary as base64 (longer
 * than the bytes, so the bound holds), anything else as JSON.
 */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(textOf).join('');
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of ['text', 'refusal', 'output', 'image', 'file', 'data', 'url']) if (key in record) return textOf(record[key]);
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * The request as the runtime judges it: system instructions, the conversation (function calls as
 * assistant tool calls, so the repeated-call detector sees them), tools and the output cap.
 */
export function toChatMessages(request: ModelRequest, naming: ToolNaming): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (request.systemInstructions) messages.push({ role: 'system', content: request.systemInstructions });
  if (typeof request.input === 'string') {
    messages.push({ role: 'user', content: request.input });
    return messages;
  }
  let calls: ChatToolCall[] | undefined;
  const flushCalls = () => {
    if (calls) messages.push({ role: 'assistant', content: null, tool_calls: calls });
    calls = undefined;
  };
  for (const item of request.input as AgentInputItem[]) {
    const record = item as Record<string, unknown>;
    if (record.type === 'function_call') {
      (calls ??= []).push({
        id: String(record.callId),
        type: 'function',
        function: { name: chatFunctionName(String(record.name), naming), arguments: String(record.arguments ?? '') },
      });
      continue;
    }
    flushCalls();
    if (record.type === 'function_call_result') messages.push({ role: 'tool', tool_call_id: String(record.callId), content: textOf(record.output) });
    else if (record.role === 'user') messages.push({ role: 'user', content: textOf(record.content) });
    else if (record.role === 'system') messages.push({ role: 'system', content: textOf(record.content) });
    else if (record.role === 'assistant') messages.push({ role: 'assistant', content: textOf(record.content) });
    // Reasoning, hosted tool calls and their outputs are sent back as input too: they count.
    else messages.push({ role: 'assistant', content: textOf(record.content ?? record.rawContent ?? record.output ?? record) });
  }
  flushCalls();
  if (messages.length === 0) messages.push({ role: 'user', content: '' });
  return messages;
}

export function toChatTools(tools: SerializedTool[], naming: ToolNaming): ChatTool[] | undefined {
  if (tools.length === 0) return undefined;
  return tools.map((tool) => {
    const fn = tool as { name: string; description?: string; parameters?: Record<string, unknown> };
    return { type: 'function', function: { name: chatFunctionName(fn.name, naming), description: fn.description, parameters: fn.parameters } };
  });
}

/** The usage a response reported; undefined when it reported none (an OpenAI-compatible upstream may not). */
export function usageOf(usage: { inputTokens: number; outputTokens: number; inputTokensDetails?: unknown } | undefined, produced: boolean): Usage | undefined {
  if (!usage) return undefined;
  // The SDK reports zeros when the upstream sent no usage; output that was produced was not free.
  if (produced && usage.inputTokens === 0 && usage.outputTokens === 0) return undefined;
  const details = usage.inputTokensDetails;
  const first = (Array.isArray(details) ? details[0] : details) as Record<string, number> | undefined;
  const cached = first?.cached_tokens;
  return { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, ...(cached ? { cachedInputTokens: cached } : {}) };
}

/** What a response proposed: text and function calls, in the chat shape. */
export function outputOf(output: ModelResponse['output'], naming: ToolNaming): { text: string; calls: ChatToolCall[] } {
  let text = '';
  const calls: ChatToolCall[] = [];
  for (const item of output) {
    const record = item as Record<string, unknown>;
    if (record.type === 'function_call') {
      calls.push({
        id: String(record.callId),
        type: 'function',
        function: { name: chatFunctionName(String(record.name), naming), arguments: String(record.arguments ?? '') },
      });
    } else if (record.type === 'message') text += textOf(record.content);
    else if (record.type === 'reasoning') text += textOf(record.content ?? record.rawContent);
  }
  return { text, calls };
}

export function toChatResponse(response: ModelResponse, model: string, naming: ToolNaming) {
  const { text, calls } = outputOf(response.output, naming);
  const usage = usageOf(response.usage, text.length > 0 || calls.length > 0);
  return chatResponse(model, text, calls, calls.length > 0 ? 'tool_calls' : 'stop', usage);
}
