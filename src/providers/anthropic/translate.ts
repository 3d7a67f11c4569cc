import type { ChatContentPart, ChatMessage, ChatRequest, ChatResponse, ChatToolCall, ChatUsage, FinishReason } from '../../core/chat.ts';
import { requestedMaxTokens } from '../../core/chat.ts';
import { ProviderError } from '../provider.ts';
import type {
  AnthropicBlock,
  AnthropicImageSource,
  AnthropicMessage,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicToolChoice,
  AnthropicUsage,
} from './types.ts';

/** Anthropic requires max_tokens; every current Claude model allows at least this many. */
export const DEFAULT_MAX_TOKENS = 4096;

function invalid(message: string): ProviderError {
  return new ProviderError(`anthropic translation: ${message}`, { status: 400 });
}

/** The text of a string or of the text parts of a content array. */
function textOf(content: string | ChatContentPart[] | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function imageSource(part: ChatContentPart): AnthropicImageSource {
  const ref = part.image_url as { url?: unknown } | string | undefined;
  const url = typeof ref === 'string' ? ref : ref?.url;
  if (typeof url !== 'string' || url === '') throw invalid('an image_url part has no url');
  const data = DATA_URL.exec(url);
  return data ? { type: 'base64', media_type: data[1], data: data[2] } : { type: 'url', url };
}

function userBlocks(content: string | ChatContentPart[]): AnthropicBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: AnthropicBlock[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (typeof part.text === 'string' && part.text !== '') blocks.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url') {
      blocks.push({ type: 'image', source: imageSource(part) });
    } else {
      // Dropping it would change what the model sees without anyone knowing.
      throw invalid(`content part type "${part.type}" has no Anthropic equivalent`);
    }
  }
  return blocks;
}

function toolInput(call: ChatToolCall): Record<string, unknown> {
  const text = call.function.arguments?.trim() || '{}';
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    throw invalid(`the arguments of tool call ${call.id} are not valid JSON`);
  }
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw invalid(`the arguments of tool call ${call.id} are not a JSON object`);
  return input as Record<string, unknown>;
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = [];
  const text = textOf(message.content as string | ChatContentPart[] | null);
  // Anthropic rejects empty text blocks.
  if (text !== '') blocks.push({ type: 'text', text });
  for (const call of message.tool_calls ?? []) {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call) });
  }
  return blocks;
}

/**
 * OpenAI messages to Anthropic's: system and developer messages (wherever they are) become `system`;
 * consecutive turns of the same role merge into one (tool results and user text share the user turn,
 * tool results first, as Anthropic requires); assistant tool calls become `tool_use` blocks.
 */
export function toAnthropicMessages(messages: ChatMessage[]): { system?: string; messages: AnthropicMessageParam[] } {
  const system: string[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; blocks: AnthropicBlock[] }> = [];
  // Only turns with content are opened, so an empty message never splits two turns of one role.
  const add = (role: 'user' | 'assistant', blocks: AnthropicBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };
  const userTurn = () => {
    const last = turns.at(-1);
    if (last?.role === 'user') return last.blocks;
    const fresh = { role: 'user' as const, blocks: [] as AnthropicBlock[] };
    turns.push(fresh);
    return fresh.blocks;
  };

  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content as string | ChatContentPart[]);
        if (text !== '') system.push(text);
        break;
      }
      case 'user':
        add('user', userBlocks(message.content));
        break;
      case 'assistant':
        add('assistant', assistantBlocks(message));
        break;
      case 'tool': {
        const blocks = userTurn();
        const content = textOf(message.content as string | ChatContentPart[]);
        const result: AnthropicBlock = { type: 'tool_result', tool_use_id: message.tool_call_id, ...(content !== '' ? { content } : {}) };
        const firstOther = blocks.findIndex((b) => b.type !== 'tool_result');
        if (firstOther === -1) blocks.push(result);
        else blocks.splice(firstOther, 0, result);
        break;
      }
      default:
        throw invalid(`message role "${(message as { role: unknown }).role}" has no Anthropic equivalent`);
    }
  }

  const out: AnthropicMessageParam[] = [];
  for (const { role, blocks } of turns) {
    // A lone text block is sent as a plain string, the API's most common form.
    const only = blocks.length === 1 ? blocks[0] : undefined;
    out.push({ role, content: only?.type === 'text' ? only.text : blocks });
  }
  return { ...(system.length > 0 ? { system: system.join('\n\n') } : {}), messages: out };
}

function toolChoice(choice: unknown, parallel: unknown): AnthropicToolChoice | undefined {
  let out: AnthropicToolChoice | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') out = { type: 'none' };
  else if (choice && typeof choice === 'object') {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name === 'string') out = { type: 'tool', name };
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

/**
 * An OpenAI Chat Completions request as an Anthropic Messages request. Fields with no Anthropic
 * equivalent (n, seed, penalties, logprobs, response_format, stream_options) are left out rather than
 * sent, since the API rejects unknown fields.
 */
export function toAnthropicRequest(req: ChatRequest, stream: boolean): AnthropicRequest {
  const { system, messages } = toAnthropicMessages(req.messages);
  const out: AnthropicRequest = { model: req.model, max_tokens: requestedMaxTokens(req) ?? DEFAULT_MAX_TOKENS, messages };
  if (system !== undefined) out.system = system;
  if (req.tools && req.tools.length > 0) {
    out.tools = req.tools.map(({ function: fn }) => ({
      name: fn.name,
      ...(fn.description !== undefined ? { description: fn.description } : {}),
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoice(req.tool_choice, req.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  const stop = req.stop;
  if (typeof stop === 'string') out.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) out.stop_sequences = stop.filter((s): s is string => typeof s === 'string');
  if (typeof req.temperature === 'number') out.temperature = req.temperature;
  if (typeof req.top_p === 'number') out.top_p = req.top_p;
  if (typeof req.top_k === 'number') out.top_k = req.top_k;
  if (typeof req.user === 'string') out.metadata = { user_id: req.user };
  if (stream) out.stream = true;
  return out;
}

/** Anthropic's stop_reason as an OpenAI finish_reason. */
export function toFinishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, or none given.
      return 'stop';
  }
}

/**
 * Anthropic usage in OpenAI's terms. Anthropic's `input_tokens` counts only the uncached input; cache
 * reads and cache writes are reported beside it. OpenAI's `prompt_tokens` counts all input, with the
 * cached part repeated in `cached_tokens`. So prompt_tokens = input + cache_read + cache_creation, and
 * cached_tokens = cache_read (billed at the model's cached price; cache writes at the input price).
 */
export function toChatUsage(usage: AnthropicUsage): ChatUsage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + (usage.cache_creation_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  const out: ChatUsage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (typeof usage.cache_read_input_tokens === 'number') out.prompt_tokens_details = { cached_tokens: cacheRead };
  return out;
}

/** A complete Anthropic message as an OpenAI chat.completion. */
export function fromAnthropicMessage(message: AnthropicMessage, created: number): ChatResponse {
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  for (const block of message.content ?? []) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  return {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: toFinishReason(message.stop_reason),
        logprobs: null,
      },
    ],
    usage: toChatUsage(message.usage ?? {}),
  };
}
