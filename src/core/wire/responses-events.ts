import type { ChatChunk, ChatToolCall, FinishReason, Usage } from '../chat.ts';
import { isObject, type Json } from './checks.ts';
import {
  chatUsageOf,
  endState,
  functionCallItem,
  messageItem,
  outputTextPart,
  type ResponseEnvelope,
  responseObject,
  responsesUsage,
} from './responses-output.ts';

/** A Responses API stream event: `type` is also the SSE event name. */
export type ResponsesEvent = Json & { type: string };

/** What a stream that stopped reports: fmguard's code and message, and its full error object. */
export interface StreamFailure {
  code: string;
  message: string;
  param: string | null;
  /** The route's error object (type, code, fmguard details), carried as `error` so the SDKs raise it. */
  error: Json;
}

interface OpenCall {
  index: number;
  id: string;
  call: ChatToolCall;
}

/**
 * Chat Completions chunks as the Responses API's semantic events: `response.created` and
 * `response.in_progress`, then per output item `response.output_item.added`, its content part,
 * `response.output_text.delta` or `response.function_call_arguments.delta`, the matching `.done`
 * events, and finally `response.completed` (or `response.incomplete` at the output cap) with usage.
 * A stream that stops ends with `response.failed` and an `error` event. Every event carries a
 * `sequence_number`. Only the first choice is read (the Responses API has no `n`).
 */
export class ResponsesEncoder {
  private readonly envelope: ResponseEnvelope;
  private sequence = 0;
  private readonly items: Json[] = [];
  private text: { index: number; id: string; text: string } | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private finish: FinishReason | null = null;

  constructor(envelope: ResponseEnvelope) {
    this.envelope = envelope;
  }

  start(): ResponsesEvent[] {
    const response = responseObject(this.envelope, 'in_progress', []);
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  chunk(chunk: ChatChunk): ResponsesEvent[] {
    const out: ResponsesEvent[] = [];
    const choice = chunk.choices?.find((c) => c.index === 0);
    if (!choice) return out;
    const delta = choice.delta ?? {};
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      if (!this.text) this.openText(out);
      const text = this.text!;
      text.text += delta.content;
      out.push(this.event('response.output_text.delta', { item_id: text.id, output_index: text.index, content_index: 0, delta: delta.content, logprobs: [] }));
    }
    for (const d of delta.tool_calls ?? []) {
      let open = this.calls.get(d.index);
      if (!open) {
        this.closeText(out);
        const call: ChatToolCall = { id: d.id ?? '', type: 'function', function: { name: d.function?.name ?? '', arguments: '' } };
        open = { index: this.items.length, id: this.envelope.ids.item('fc'), call };
        this.calls.set(d.index, open);
        const item = functionCallItem(open.id, call, 'in_progress');
        this.items.push(item);
        out.push(this.event('response.output_item.added', { output_index: open.index, item }));
      }
      const args = d.function?.arguments;
      if (args) {
        open.call.function.arguments += args;
        out.push(this.event('response.function_call_arguments.delta', { item_id: open.id, output_index: open.index, delta: args }));
      }
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  /** The stream ended: close the open items, then `response.completed` (or `.incomplete`) with usage. */
  end(usage: Usage | undefined): ResponsesEvent[] {
    const out: ResponsesEvent[] = [];
    this.closeText(out);
    for (const open of [...this.calls.values()].sort((a, b) => a.index - b.index)) {
      const { call } = open;
      out.push(
        this.event('response.function_call_arguments.done', {
          item_id: open.id,
          output_index: open.index,
          name: call.function.name,
          arguments: call.function.arguments,
        }),
      );
      const item = functionCallItem(open.id, call);
      this.items[open.index] = item;
      out.push(this.event('response.output_item.done', { output_index: open.index, item }));
    }
    this.calls.clear();
    const { status, incomplete_details } = endState(this.finish);
    const response = responseObject(this.envelope, status, this.items, { incomplete_details, usage: usage ? responsesUsage(usage) : null });
    out.push(this.event(status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response }));
    return out;
  }

  /**
   * The stream stopped: `response.failed` (the response so far, with the error), then an `error` event.
   * Items the failure cut are `incomplete` and carry the text and arguments that came (and were paid for).
   */
  fail(failure: StreamFailure): ResponsesEvent[] {
    const error = { code: failure.code, message: failure.message };
    const items = [...this.items];
    if (this.text) items[this.text.index] = messageItem(this.text.id, this.text.text, 'incomplete');
    for (const open of this.calls.values()) items[open.index] = functionCallItem(open.id, open.call, 'incomplete');
    const response = responseObject(this.envelope, 'failed', items, { error });
    return [
      this.event('response.failed', { response }),
      this.event('error', { code: failure.code, message: failure.message, param: failure.param, error: failure.error }),
    ];
  }

  private openText(out: ResponsesEvent[]): void {
    const id = this.envelope.ids.item('msg');
    this.text = { index: this.items.length, id, text: '' };
    const item = messageItem(id, '', 'in_progress');
    this.items.push(item);
    out.push(this.event('response.output_item.added', { output_index: this.text.index, item }));
    out.push(this.event('response.content_part.added', { item_id: id, output_index: this.text.index, content_index: 0, part: outputTextPart('') }));
  }

  private closeText(out: ResponsesEvent[]): void {
    const text = this.text;
    if (!text) return;
    this.text = undefined;
    const at = { item_id: text.id, output_index: text.index, content_index: 0 };
    out.push(this.event('response.output_text.done', { ...at, text: text.text, logprobs: [] }));
    out.push(this.event('response.content_part.done', { ...at, part: outputTextPart(text.text) }));
    const item = messageItem(text.id, text.text);
    this.items[text.index] = item;
    out.push(this.event('response.output_item.done', { output_index: text.index, item }));
  }

  private event(type: string, fields: Json): ResponsesEvent {
    return { type, sequence_number: this.sequence++, ...fields };
  }
}

/**
 * The chat view of one Responses stream event, for metering a stream that an upstream served in the
 * Responses API itself: text deltas, function calls and their argument deltas, and the final usage.
 * Every other event is an empty chunk. `native` is the event.
 */
export function eventToChunk(event: unknown): ChatChunk {
  const e = isObject(event) ? event : {};
  const base = { id: '', object: 'chat.completion.chunk' as const, created: 0, model: '', native: event };
  switch (e.type) {
    case 'response.output_text.delta':
      return { ...base, choices: [{ index: 0, delta: { content: typeof e.delta === 'string' ? e.delta : '' }, finish_reason: null }] };
    case 'response.function_call_arguments.delta':
      return {
        ...base,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: Number(e.output_index) || 0, function: { arguments: typeof e.delta === 'string' ? e.delta : '' } }] },
            finish_reason: null,
          },
        ],
      };
    case 'response.output_item.added': {
      const item = isObject(e.item) ? e.item : {};
      if (item.type !== 'function_call') break;
      const call = {
        index: Number(e.output_index) || 0,
        id: String(item.call_id ?? ''),
        type: 'function' as const,
        function: { name: String(item.name ?? '') },
      };
      return { ...base, choices: [{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }] };
    }
    case 'response.completed':
    case 'response.incomplete':
    case 'response.failed': {
      const usage = chatUsageOf(isObject(e.response) ? e.response.usage : undefined);
      return { ...base, choices: [], ...(usage ? { usage } : {}) };
    }
  }
  return { ...base, choices: [] };
}
