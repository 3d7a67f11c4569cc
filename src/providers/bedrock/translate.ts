import type {
  ContentBlock,
  ConverseRequest,
  ConverseResponse,
  InferenceConfiguration,
  Message,
  SystemContentBlock,
  TokenUsage,
  Tool,
  ToolChoice,
} from '@aws-sdk/client-bedrock-runtime';
import type { ChatContentPart, ChatMessage, ChatRequest, ChatResponse, ChatToolCall, ChatUsage, FinishReason } from '../../core/chat.ts';
import { requestedMaxTokens } from '../../core/chat.ts';
import { ProviderError } from '../provider.ts';

/**
 * fmguard's OpenAI chat shapes to and from the Bedrock Converse API (one format for every Bedrock
 * model). Pure: the provider adds the client, the stream translator the streaming half.
 */

function invalid(message: string): ProviderError {
  return new ProviderError(`bedrock translation: ${message}`, { status: 400, code: 'request.invalid' });
}

function textOf(content: string | ChatContentPart[] | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

const DATA_URL = /^data:image\/(png|jpeg|jpg|gif|webp);base64,(.*)$/s;

/** Bedrock takes image bytes (or S3), never a URL it would fetch itself. */
function imageBlock(part: ChatContentPart): ContentBlock {
  const ref = part.image_url as { url?: unknown } | string | undefined;
  const url = typeof ref === 'string' ? ref : ref?.url;
  if (typeof url !== 'string' || url === '') throw invalid('an image_url part has no url');
  const data = DATA_URL.exec(url);
  if (!data) throw invalid('Bedrock takes images as base64 data URLs (png, jpeg, gif or webp), not as links');
  const format = (data[1] === 'jpg' ? 'jpeg' : data[1]) as 'png' | 'jpeg' | 'gif' | 'webp';
  return { image: { format, source: { bytes: Buffer.from(data[2]!, 'base64') } } };
}

function userBlocks(content: string | ChatContentPart[]): ContentBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const blocks: ContentBlock[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (typeof part.text === 'string' && part.text !== '') blocks.push({ text: part.text });
    } else if (part.type === 'image_url') {
      blocks.push(imageBlock(part));
    } else {
      // Dropping it would change what the model sees without anyone knowing.
      throw invalid(`content part type "${part.type}" has no Bedrock equivalent`);
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

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  const text = textOf(message.content as string | ChatContentPart[] | null);
  // Bedrock rejects blank text blocks.
  if (text.trim() !== '') blocks.push({ text });
  for (const call of message.tool_calls ?? []) {
    blocks.push({ toolUse: { toolUseId: call.id, name: call.function.name, input: toolInput(call) as never } });
  }
  return blocks;
}

/**
 * OpenAI messages as Converse `system` + `messages`: system and developer messages become system
 * blocks; tool results become `toolResult` blocks of a user turn (first in it, as Bedrock requires
 * them to answer the preceding tool uses); consecutive turns of one role merge, since Converse wants
 * user and assistant to alternate.
 */
export function toConverseMessages(messages: ChatMessage[]): { system: SystemContentBlock[]; messages: Message[] } {
  const system: SystemContentBlock[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; content: ContentBlock[] }> = [];
  const add = (role: 'user' | 'assistant', blocks: ContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content as string | ChatContentPart[]);
        if (text !== '') system.push({ text });
        break;
      }
      case 'user':
        add('user', userBlocks(message.content));
        break;
      case 'assistant':
        add('assistant', assistantBlocks(message));
        break;
      case 'tool': {
        const text = textOf(message.content as string | ChatContentPart[]);
        const result: ContentBlock = { toolResult: { toolUseId: message.tool_call_id, content: [{ text: text === '' ? '(empty)' : text }] } };
        const last = turns.at(-1);
        if (last?.role === 'user') {
          const firstOther = last.content.findIndex((b) => b.toolResult === undefined);
          if (firstOther === -1) last.content.push(result);
          else last.content.splice(firstOther, 0, result);
        } else {
          turns.push({ role: 'user', content: [result] });
        }
        break;
      }
      default:
        throw invalid(`message role "${(message as { role: unknown }).role}" has no Bedrock equivalent`);
    }
  }
  return { system, messages: turns };
}

function toolChoice(choice: unknown): ToolChoice | undefined {
  if (choice === 'auto') return { auto: {} };
  if (choice === 'required') return { any: {} };
  if (choice && typeof choice === 'object') {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name === 'string') return { tool: { name } };
  }
  // 'none' has no Converse equivalent; the tools stay declared (past tool uses need them).
  return undefined;
}

/**
 * A chat request as a Converse request. Fields Converse has no place for (n, seed, penalties,
 * logprobs, response_format) are left out rather than sent.
 */
export function toConverseRequest(req: ChatRequest): ConverseRequest {
  const { system, messages } = toConverseMessages(req.messages);
  if (messages.length === 0) throw invalid('the request has no user or assistant message');
  const out: ConverseRequest = { modelId: req.model, messages };
  if (system.length > 0) out.system = system;
  const inference: InferenceConfiguration = {};
  const maxTokens = requestedMaxTokens(req);
  if (maxTokens !== undefined) inference.maxTokens = maxTokens;
  if (typeof req.temperature === 'number') inference.temperature = req.temperature;
  if (typeof req.top_p === 'number') inference.topP = req.top_p;
  const stop = req.stop;
  if (typeof stop === 'string') inference.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) inference.stopSequences = stop.filter((s): s is string => typeof s === 'string');
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;
  if (req.tools && req.tools.length > 0) {
    const tools: Tool[] = req.tools.map(({ function: fn }) => ({
      toolSpec: {
        name: fn.name,
        ...(fn.description !== undefined ? { description: fn.description } : {}),
        inputSchema: { json: (fn.parameters ?? { type: 'object', properties: {} }) as never },
      },
    }));
    const choice = toolChoice(req.tool_choice);
    out.toolConfig = { tools, ...(choice ? { toolChoice: choice } : {}) };
  }
  return out;
}

/** Converse's stopReason as an OpenAI finish_reason. */
export function toFinishReason(stopReason: string | undefined): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, or none given.
      return 'stop';
  }
}

/**
 * Bedrock usage in OpenAI's terms. `inputTokens` counts the uncached input; cache reads and writes
 * are reported beside it (as Anthropic does). OpenAI's prompt_tokens counts all of it, with the
 * cached part repeated in cached_tokens (billed at the model's cached price, writes at the input price).
 */
export function toChatUsage(usage: Partial<TokenUsage> | undefined): ChatUsage {
  const cacheRead = usage?.cacheReadInputTokens ?? 0;
  const prompt = (usage?.inputTokens ?? 0) + cacheRead + (usage?.cacheWriteInputTokens ?? 0);
  const completion = usage?.outputTokens ?? 0;
  const out: ChatUsage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (typeof usage?.cacheReadInputTokens === 'number') out.prompt_tokens_details = { cached_tokens: cacheRead };
  return out;
}

/** A Converse response as an OpenAI chat.completion. */
export function fromConverseResponse(res: ConverseResponse, model: string, id: string, created: number): ChatResponse {
  let text = '';
  const toolCalls: ChatToolCall[] = [];
  for (const block of res.output?.message?.content ?? []) {
    if (typeof block.text === 'string') text += block.text;
    else if (block.toolUse) {
      toolCalls.push({
        id: String(block.toolUse.toolUseId),
        type: 'function',
        function: { name: String(block.toolUse.name), arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
    // Reasoning, citations and other blocks have no Chat Completions place.
  }
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: toFinishReason(res.stopReason),
        logprobs: null,
      },
    ],
    usage: toChatUsage(res.usage),
  };
}
