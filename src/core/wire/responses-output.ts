import type { ChatResponse, ChatToolCall, ChatUsage, FinishReason, Usage } from '../chat.ts';
import { isObject, type Json } from './checks.ts';

/**
 * The OpenAI Responses API response object, built from a Chat Completions result (an upstream that
 * speaks only Chat Completions), and the chat view of a Responses object (an upstream that served the
 * Responses API itself: fmguard meters and checks that view, and the agent gets the object as it came).
 */

/** Ids for one response; random in the gateway, fixed in tests. */
export interface ResponseIds {
  response: string;
  /** A fresh id with this prefix (`msg`, `fc`). */
  item(prefix: string): string;
}

export interface ResponseEnvelope {
  ids: ResponseIds;
  /** Unix seconds. */
  createdAt: number;
  model: string;
  /** The request body, for the fields a response echoes (instructions, tools, limits). */
  request: Json;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

export function responsesUsage(usage: Usage): Json {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** The response object around an output list: what every Responses object carries, echoed from the request. */
export function responseObject(envelope: ResponseEnvelope, status: ResponseStatus, output: Json[], extra: Json = {}): Json {
  const r = envelope.request;
  return {
    id: envelope.ids.response,
    object: 'response',
    created_at: envelope.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    metadata: isObject(r.metadata) ? r.metadata : {},
    model: envelope.model,
    output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: r.temperature ?? 1,
    text: isObject(r.text) ? r.text : { format: { type: 'text' } },
    tool_choice: r.tool_choice ?? 'auto',
    tools: Array.isArray(r.tools) ? r.tools : [],
    top_p: r.top_p ?? 1,
    truncation: 'disabled',
    usage: null,
    user: r.user ?? null,
    ...extra,
  };
}

/** An item as announced (`in_progress`: nothing yet), finished (`completed`), or cut by a failure (`incomplete`: what came). */
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export function messageItem(id: string, text: string, status: ItemStatus = 'completed'): Json {
  const content = status === 'in_progress' ? [] : [outputTextPart(text)];
  return { id, type: 'message', status, role: 'assistant', content };
}

export function outputTextPart(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function functionCallItem(id: string, call: ChatToolCall, status: ItemStatus = 'completed'): Json {
  return {
    id,
    type: 'function_call',
    status,
    call_id: call.id,
    name: call.function.name,
    arguments: status === 'in_progress' ? '' : call.function.arguments,
  };
}

/** How a response ended, from the chat finish reason. */
export function endState(finish: FinishReason | null | undefined): { status: ResponseStatus; incomplete_details: Json | null } {
  if (finish === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** A non-streamed response from a Chat Completions result (its first choice) and the usage fmguard counted. */
export function chatToResponse(envelope: ResponseEnvelope, chat: ChatResponse, usage: Usage): Json {
  const choice = chat.choices?.[0];
  const output: Json[] = [];
  const text = choice?.message?.content;
  if (typeof text === 'string' && text.length > 0) output.push(messageItem(envelope.ids.item('msg'), text));
  for (const call of choice?.message?.tool_calls ?? []) output.push(functionCallItem(envelope.ids.item('fc'), call));
  const { status, incomplete_details } = endState(choice?.finish_reason);
  return responseObject(envelope, status, output, { incomplete_details, usage: responsesUsage(usage) });
}

/** The chat usage a Responses `usage` object reports. */
export function chatUsageOf(usage: unknown): ChatUsage | undefined {
  if (!isObject(usage) || typeof usage.input_tokens !== 'number' || typeof usage.output_tokens !== 'number') return undefined;
  const cached = isObject(usage.input_tokens_details) ? usage.input_tokens_details.cached_tokens : undefined;
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.input_tokens + usage.output_tokens,
    ...(typeof cached === 'number' ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
  };
}

/** A `function_call` output item as a chat tool call. */
export function callOfItem(item: Json): ChatToolCall {
  return {
    id: typeof item.call_id === 'string' ? item.call_id : '',
    type: 'function',
    function: { name: typeof item.name === 'string' ? item.name : '', arguments: typeof item.arguments === 'string' ? item.arguments : '' },
  };
}

/** The text of a `message` output item. */
export function textOfItem(item: Json): string {
  if (!Array.isArray(item.content)) return '';
  return item.content.map((part) => (isObject(part) && part.type === 'output_text' && typeof part.text === 'string' ? part.text : '')).join('');
}

/** The chat view of a Responses object: its text, its function calls, its usage; `native` is the object. */
export function responseToChat(response: unknown): ChatResponse {
  const r = isObject(response) ? response : {};
  const output = Array.isArray(r.output) ? r.output.filter(isObject) : [];
  const text = output
    .filter((item) => item.type === 'message')
    .map(textOfItem)
    .join('');
  const calls = output.filter((item) => item.type === 'function_call').map(callOfItem);
  const reason = isObject(r.incomplete_details) ? r.incomplete_details.reason : undefined;
  const finish: FinishReason =
    calls.length > 0 ? 'tool_calls' : reason === 'max_output_tokens' ? 'length' : reason === 'content_filter' ? 'content_filter' : 'stop';
  const usage = chatUsageOf(r.usage);
  return {
    id: typeof r.id === 'string' ? r.id : '',
    object: 'chat.completion',
    created: typeof r.created_at === 'number' ? r.created_at : 0,
    model: typeof r.model === 'string' ? r.model : '',
    choices: [{ index: 0, message: { role: 'assistant', content: text || null, ...(calls.length > 0 ? { tool_calls: calls } : {}) }, finish_reason: finish }],
    ...(usage ? { usage } : {}),
    native: response,
  };
}
