import type { ChatChunk, ChatToolCall } from '../core/chat.ts';
import type { GuardError } from '../core/errors.ts';
import { isObject, type Json } from '../core/wire/checks.ts';
import { callOfItem, messageItem, outputTextPart } from '../core/wire/responses-output.ts';
import { errorBody } from '../http/error-response.ts';
import { newId } from './ids.ts';
import { namedEvents, type StreamEncoder, type ToolGate } from './relay-stream.ts';
import { judgeToolCalls, type ToolCallCheck, type ToolCallViolation, withNotes } from './tool-calls.ts';

/**
 * The tool-call check on responses an upstream served in the Responses API itself (pass-through):
 * the same judgement as for every route (tool-calls.ts), applied to `function_call` output items.
 * `refuse` throws the first violation; `strip` removes the offending items and appends a message
 * item with one note per removed call, so the agent sees why.
 */

interface Judged {
  /** Output indices of the removed function calls. */
  removed: Set<number>;
  /** The note text, when something was removed. */
  note: string | undefined;
}

async function judgeItems(output: readonly unknown[], check: ToolCallCheck, mode: ToolCallViolation): Promise<Judged> {
  const calls: Array<{ index: number; call: ChatToolCall }> = [];
  output.forEach((item, index) => {
    if (isObject(item) && item.type === 'function_call') calls.push({ index, call: callOfItem(item) });
  });
  if (calls.length === 0) return { removed: new Set(), note: undefined };
  const { kept, notes } = await judgeToolCalls(
    check,
    calls.map((c) => c.call),
    mode,
  );
  const removed = new Set(calls.filter((c) => !kept.includes(c.call)).map((c) => c.index));
  return { removed, note: notes.length > 0 ? withNotes(undefined, notes) : undefined };
}

/** A non-streamed pass-through response, checked. */
export async function checkNativeResponse(native: unknown, check: ToolCallCheck, mode: ToolCallViolation): Promise<unknown> {
  if (!isObject(native) || !Array.isArray(native.output)) return native;
  const { removed, note } = await judgeItems(native.output, check, mode);
  if (removed.size === 0) return native;
  const output = native.output.filter((_, i) => !removed.has(i));
  if (note) output.push(messageItem(newId('msg'), note));
  return { ...native, output };
}

function isEvent(value: unknown): value is Json & { type: string } {
  return isObject(value) && typeof value.type === 'string';
}

const TERMINAL = new Set(['response.completed', 'response.incomplete']);

/**
 * Holds a pass-through stream from its first function call to its end: a call's arguments are only
 * final at its `.done` event and an agent acts on none before the response completes, so the calls
 * are judged together from the final response (as StreamToolCalls does at the finish reason). In
 * `strip` mode the removed items' events are dropped, later items renumbered, and a note message
 * item is added before the terminal event. A stream cut before its end releases nothing held.
 */
export class NativeResponsesGate implements ToolGate {
  private readonly check: ToolCallCheck;
  private readonly mode: ToolCallViolation;
  private held: ChatChunk[] = [];

  constructor(check: ToolCallCheck, mode: ToolCallViolation) {
    this.check = check;
    this.mode = mode;
  }

  involves(chunk: ChatChunk): boolean {
    if (this.held.length > 0) return true;
    const event = chunk.native;
    return isEvent(event) && event.type === 'response.output_item.added' && isObject(event.item) && event.item.type === 'function_call';
  }

  async take(chunk: ChatChunk): Promise<ChatChunk[]> {
    this.held.push(chunk);
    const event = chunk.native;
    if (!isEvent(event) || !TERMINAL.has(event.type)) return [];
    const response = isObject(event.response) ? event.response : {};
    return this.release(Array.isArray(response.output) ? response.output : []);
  }

  /** The stream ended without a terminal event: judge the calls its `.done` events completed. */
  async flush(): Promise<ChatChunk[]> {
    if (this.held.length === 0) return [];
    const output: unknown[] = [];
    for (const { native } of this.held) {
      if (isEvent(native) && native.type === 'response.output_item.done' && typeof native.output_index === 'number') output[native.output_index] = native.item;
    }
    return this.release(output);
  }

  private async release(output: readonly unknown[]): Promise<ChatChunk[]> {
    const held = this.held;
    this.held = [];
    const { removed, note } = await judgeItems(output, this.check, this.mode);
    if (removed.size === 0) return held;
    return rewrite(held, removed, note, output.length - removed.size);
  }
}

/** Drop the removed items' events, renumber the rest, insert the note item before the terminal event. */
function rewrite(held: ChatChunk[], removed: Set<number>, note: string | undefined, noteIndex: number): ChatChunk[] {
  const shift = (index: number) => index - [...removed].filter((r) => r < index).length;
  const first = held.find((c) => isEvent(c.native) && typeof c.native.sequence_number === 'number')?.native as Json | undefined;
  let sequence = typeof first?.sequence_number === 'number' ? first.sequence_number : 0;
  const out: ChatChunk[] = [];
  const push = (event: Json) =>
    out.push({ id: '', object: 'chat.completion.chunk', created: 0, model: '', choices: [], native: { ...event, sequence_number: sequence++ } });
  for (const chunk of held) {
    const event = chunk.native;
    if (!isEvent(event)) continue;
    if (typeof event.output_index === 'number' && removed.has(event.output_index)) continue;
    if (TERMINAL.has(event.type)) {
      if (note) for (const e of noteEvents(note, noteIndex)) push(e);
      const response = isObject(event.response) ? event.response : {};
      const output = (Array.isArray(response.output) ? response.output : []).filter((_, i) => !removed.has(i));
      if (note) output.push(messageItem(newId('msg'), note));
      push({ ...event, response: { ...response, output } });
      continue;
    }
    push(typeof event.output_index === 'number' ? { ...event, output_index: shift(event.output_index) } : event);
  }
  return out;
}

function noteEvents(note: string, index: number): Json[] {
  const id = newId('msg');
  const at = { item_id: id, output_index: index, content_index: 0 };
  return [
    { type: 'response.output_item.added', output_index: index, item: messageItem(id, '', 'in_progress') },
    { type: 'response.content_part.added', ...at, part: outputTextPart('') },
    { type: 'response.output_text.delta', ...at, delta: note, logprobs: [] },
    { type: 'response.output_text.done', ...at, text: note, logprobs: [] },
    { type: 'response.content_part.done', ...at, part: outputTextPart(note) },
    { type: 'response.output_item.done', output_index: index, item: messageItem(id, note) },
  ];
}

/**
 * Writes a pass-through stream's events as they came. A stop is written as the translated streams
 * write it: `response.failed` (the response as created, with the error) and an `error` event that
 * carries fmguard's error object, numbered after the last event sent.
 */
export class NativeResponsesEncoder implements StreamEncoder {
  private response: Json = {};
  private sequence = 0;

  start(): string {
    return '';
  }

  chunk(chunk: ChatChunk): string {
    const event = chunk.native;
    if (!isEvent(event)) return '';
    if (isObject(event.response)) this.response = event.response;
    if (typeof event.sequence_number === 'number') this.sequence = event.sequence_number + 1;
    return namedEvents([event]);
  }

  end(): string {
    return '';
  }

  fail(error: GuardError): string {
    const body = errorBody(error).error;
    const response = { ...this.response, status: 'failed', error: { code: error.code, message: error.message } };
    return namedEvents([
      { type: 'response.failed', sequence_number: this.sequence++, response },
      { type: 'error', sequence_number: this.sequence++, code: error.code, message: error.message, param: body.param, error: body },
    ]);
  }
}
