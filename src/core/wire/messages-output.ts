import type { ChatChunk, ChatResponse, FinishReason, Usage } from '../chat.ts';
import { argumentsObject, type Json } from './checks.ts';

/**
 * Chat Completions results as Anthropic Messages API messages and stream events. Anthropic counts
 * cache reads apart from `input_tokens`, so cached input tokens move to `cache_read_input_tokens`.
 */

export interface MessageEnvelope {
  id: string;
  model: string;
}

/** A Messages API stream event: `type` is also the SSE event name. */
export type MessagesEvent = Json & { type: string };

export function stopReason(finish: FinishReason | null | undefined): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

export function messagesUsage(usage: Usage): Json {
  const cached = usage.cachedInputTokens ?? 0;
  return {
    input_tokens: Math.max(usage.inputTokens - cached, 0),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/** A non-streamed message from a Chat Completions result (its first choice) and the usage fmguard counted. */
export function chatToMessage(envelope: MessageEnvelope, chat: ChatResponse, usage: Usage): Json {
  const choice = chat.choices?.[0];
  const content: Json[] = [];
  const text = choice?.message?.content;
  if (typeof text === 'string' && text.length > 0) content.push({ type: 'text', text });
  for (const call of choice?.message?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: argumentsObject(call.function.arguments) });
  }
  return {
    id: envelope.id,
    type: 'message',
    role: 'assistant',
    model: envelope.model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: messagesUsage(usage),
  };
}

/**
 * Chat chunks as the Messages API's stream: `message_start`, per content block
 * `content_block_start`, `content_block_delta` (`text_delta` or `input_json_delta`) and
 * `content_block_stop`, then `message_delta` with the stop reason and usage, and `message_stop`.
 * Input tokens are only known at the end, so `message_start` reports 0 and `message_delta` the count.
 * Blocks are sequential, so each tool call's pieces must come together: the gateway's tool-call gate
 * (`StreamToolCalls`) holds calls until the choice finishes and releases them whole, in order.
 */
export class MessagesEncoder {
  private readonly envelope: MessageEnvelope;
  private blocks = 0;
  /** The open content block: text, or the chat index of a tool call. */
  private open: { index: number; kind: 'text' } | { index: number; kind: 'tool'; call: number } | undefined;
  private finish: FinishReason | null = null;

  constructor(envelope: MessageEnvelope) {
    this.envelope = envelope;
  }

  start(): MessagesEvent[] {
    const message = {
      id: this.envelope.id,
      type: 'message',
      role: 'assistant',
      model: this.envelope.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return [{ type: 'message_start', message }];
  }

  chunk(chunk: ChatChunk): MessagesEvent[] {
    const out: MessagesEvent[] = [];
    const choice = chunk.choices?.find((c) => c.index === 0);
    if (!choice) return out;
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      if (this.open?.kind !== 'text') this.openBlock(out, { type: 'text', text: '' }, { kind: 'text' });
      out.push({ type: 'content_block_delta', index: this.open!.index, delta: { type: 'text_delta', text: delta.content } });
    }
    for (const d of delta.tool_calls ?? []) {
      if (this.open?.kind !== 'tool' || this.open.call !== d.index) {
        const block = { type: 'tool_use', id: d.id ?? '', name: d.function?.name ?? '', input: {} };
        this.openBlock(out, block, { kind: 'tool', call: d.index });
      }
      const args = d.function?.arguments;
      if (args) out.push({ type: 'content_block_delta', index: this.open!.index, delta: { type: 'input_json_delta', partial_json: args } });
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  end(usage: Usage | undefined): MessagesEvent[] {
    const out: MessagesEvent[] = [];
    this.closeBlock(out);
    out.push({
      type: 'message_delta',
      delta: { stop_reason: stopReason(this.finish), stop_sequence: null },
      usage: usage ? messagesUsage(usage) : { output_tokens: 0 },
    });
    out.push({ type: 'message_stop' });
    return out;
  }

  /** The stream stopped: one `error` event carrying the route's error object. */
  fail(error: Json): MessagesEvent[] {
    return [{ type: 'error', error }];
  }

  private openBlock(out: MessagesEvent[], block: Json, open: { kind: 'text' } | { kind: 'tool'; call: number }): void {
    this.closeBlock(out);
    const index = this.blocks++;
    this.open = { index, ...open };
    out.push({ type: 'content_block_start', index, content_block: block });
  }

  private closeBlock(out: MessagesEvent[]): void {
    if (!this.open) return;
    out.push({ type: 'content_block_stop', index: this.open.index });
    this.open = undefined;
  }
}
