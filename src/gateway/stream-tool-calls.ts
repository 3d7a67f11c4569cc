import type { ChatChunk, ChatToolCall } from '../core/chat.ts';
import { judgeToolCalls, withNotes, type ToolCallCheck, type ToolCallViolation } from './tool-calls.ts';

type Choice = ChatChunk['choices'][number];
type Delta = Choice['delta'];
type ToolCallDelta = NonNullable<Delta['tool_calls']>[number];

/**
 * Holds back tool-call deltas of a stream until each choice's calls are complete and checked.
 *
 * Why at the choice's finish and not per call: a call's arguments are only complete when the next
 * call starts or the choice finishes, and an agent cannot act on any call before the stream ends,
 * so waiting for `finish_reason` costs the agent nothing and judges the calls together, exactly as
 * for a non-streaming response. Text and every other delta field flow through unchanged; only the
 * `tool_calls` arrays are held. On release, the kept calls go out whole in one chunk (the OpenAI
 * clients accumulate a call from any split, including one piece), renumbered 0..n-1 so a stripped
 * call leaves no gap, followed by the finish chunk. A stream that ends without a finish reason is
 * released by `flush()`; a stream cut by an error releases nothing, so an unchecked call never
 * reaches the agent.
 */
export class StreamToolCalls {
  private readonly pending = new Map<number, ToolCallDelta[]>();
  private readonly check: ToolCallCheck;
  private readonly mode: ToolCallViolation;
  private template: ChatChunk | undefined;
  /** Choices that wrote text, so a note starts on a new paragraph. */
  private readonly wroteText = new Set<number>();

  constructor(check: ToolCallCheck, mode: ToolCallViolation) {
    this.check = check;
    this.mode = mode;
  }

  /** Whether `take` must see this chunk; false for plain text chunks, which go straight out. */
  involves(chunk: ChatChunk): boolean {
    for (const choice of chunk.choices) {
      const content = choice.delta?.content;
      if (typeof content === 'string' && content.length > 0) this.wroteText.add(choice.index);
      if (choice.delta?.tool_calls?.length) return true;
      if (choice.finish_reason != null && this.pending.has(choice.index)) return true;
    }
    return false;
  }

  /** The chunks to send now for this one (possibly none). Throws the refusal in `refuse` mode. */
  async take(chunk: ChatChunk): Promise<ChatChunk[]> {
    this.template = chunk;
    const out: ChatChunk[] = [];
    const forward: Choice[] = [];
    let changed = false;
    for (const choice of chunk.choices) {
      let delta = choice.delta ?? {};
      let finish = choice.finish_reason;
      if (typeof delta.content === 'string' && delta.content.length > 0) this.wroteText.add(choice.index);
      const deltas = delta.tool_calls;
      let empty = false;
      if (deltas?.length) {
        this.hold(choice.index, deltas);
        const { tool_calls: _held, ...rest } = delta;
        delta = rest;
        empty = Object.keys(rest).length === 0;
      }
      if (finish != null && this.pending.has(choice.index)) {
        const released = await this.release(choice.index, chunk);
        if (released.chunk) out.push(released.chunk);
        if (released.noneKept && finish === 'tool_calls') finish = 'stop';
      }
      if (empty && finish == null) {
        changed = true;
        continue;
      }
      if (delta === choice.delta && finish === choice.finish_reason) forward.push(choice);
      else {
        changed = true;
        forward.push({ ...choice, delta, finish_reason: finish });
      }
    }
    if (!changed) out.push(chunk);
    else if (forward.length > 0 || chunk.usage) out.push({ ...chunk, choices: forward });
    return out;
  }

  /** At the end of the stream: release whatever a missing finish reason left held. */
  async flush(): Promise<ChatChunk[]> {
    const out: ChatChunk[] = [];
    if (!this.template) return out;
    for (const index of [...this.pending.keys()]) {
      const released = await this.release(index, this.template);
      if (released.chunk) out.push(released.chunk);
    }
    return out;
  }

  private hold(choice: number, deltas: ToolCallDelta[]): void {
    let calls = this.pending.get(choice);
    if (!calls) this.pending.set(choice, (calls = []));
    for (const d of deltas) {
      const index = typeof d.index === 'number' ? d.index : calls.length > 0 ? calls.length - 1 : 0;
      const call = (calls[index] ??= { index, function: { name: '', arguments: '' } });
      if (d.id) call.id = d.id;
      if (d.type) call.type = d.type;
      if (d.function?.name) call.function!.name += d.function.name;
      if (d.function?.arguments) call.function!.arguments += d.function.arguments;
    }
  }

  private async release(choice: number, template: ChatChunk): Promise<{ chunk?: ChatChunk; noneKept: boolean }> {
    const held = (this.pending.get(choice) ?? []).filter(Boolean);
    this.pending.delete(choice);
    const calls: ChatToolCall[] = held.map((d) => ({
      id: d.id ?? '',
      type: 'function',
      function: { name: d.function?.name ?? '', arguments: d.function?.arguments ?? '' },
    }));
    if (calls.length === 0) return { noneKept: false };
    const { kept, notes } = await judgeToolCalls(this.check, calls, this.mode);
    const delta: Delta = {};
    if (kept.length > 0)
      delta.tool_calls = kept.map((c, index) => ({ index, id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }));
    // Appended to text the model already streamed, as withNotes does for a whole message.
    if (notes.length > 0) delta.content = (this.wroteText.has(choice) ? '\n\n' : '') + withNotes(undefined, notes);
    const chunk: ChatChunk = {
      id: template.id,
      object: 'chat.completion.chunk',
      created: template.created,
      model: template.model,
      choices: [{ index: choice, delta, finish_reason: null }],
    };
    return { chunk, noneKept: kept.length === 0 };
  }
}
