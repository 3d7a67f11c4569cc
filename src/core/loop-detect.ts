import type { ChatMessage, ChatToolCall } from './chat.ts';
import { canonicalJson } from './canonical-json.ts';

/**
 * Loop detection over what can be seen without state: the conversation an agent sends. Stateful
 * detection (tool calls made through fmguard, outputs repeated across calls) uses the store's
 * counters and repeat tracker; both share this fingerprint so they agree on "the same call".
 */
export function toolCallKey(name: string, args: unknown): string {
  return `${name}:${canonicalJson(args)}`;
}

/** Parse tool-call arguments; text that is not JSON is compared as text. */
export function parseArguments(text: string | undefined): unknown {
  if (text === undefined || text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A proposed call without a `function` (a malformed provider reply or SDK input) counts as the tool "", as the policy check reads it. */
export function chatToolCallKey(call: ChatToolCall): string {
  return toolCallKey(call.function?.name ?? '', parseArguments(call.function?.arguments));
}

/** The tool call repeated most often in the conversation's assistant turns, with its count. */
export function mostRepeatedToolCall(messages: readonly ChatMessage[]): { key: string; name: string; count: number } | undefined {
  const counts = new Map<string, { name: string; count: number }>();
  let best: { key: string; name: string; count: number } | undefined;
  for (const message of messages) {
    if (message.role !== 'assistant' || !message.tool_calls) continue;
    for (const call of message.tool_calls) {
      const key = chatToolCallKey(call);
      const entry = counts.get(key) ?? { name: call.function?.name ?? '', count: 0 };
      entry.count++;
      counts.set(key, entry);
      if (!best || entry.count > best.count) best = { key, name: entry.name, count: entry.count };
    }
  }
  return best;
}

/** A cheap signature of one message: enough to tell that a conversation still starts as it did. */
function messageSignature(message: ChatMessage): string {
  let sig = message.role;
  const content = (message as { content?: unknown }).content;
  sig += typeof content === 'string' ? `:${content.length}:${content.slice(0, 32)}` : `:${typeof content}`;
  if (message.role === 'assistant' && message.tool_calls) {
    for (const call of message.tool_calls) sig += `|${call.id}:${call.function?.name}:${call.function?.arguments?.length ?? 0}`;
  }
  return sig;
}

/**
 * `mostRepeatedToolCall` for a conversation that grows by appending (an agent loop sends it whole
 * each step): a memo per run of the counts so far. Each step looks only at the messages after the
 * ones already counted, when the conversation still has them (same length or longer, and the last
 * counted message's signature unchanged); otherwise (the agent trimmed or rewrote its history) it
 * counts from scratch. So a step costs one key per new tool call, not one per call in the history.
 */
export class ToolCallCounter {
  private seen = 0;
  private lastSignature = '';
  private counts = new Map<string, { name: string; count: number }>();
  private best: { key: string; name: string; count: number } | undefined;
  /** Tool-call keys computed (argument parse + canonical JSON): the work, for tests to count. */
  keysComputed = 0;

  mostRepeated(messages: readonly ChatMessage[]): { key: string; name: string; count: number } | undefined {
    const n = messages.length;
    if (this.seen > 0 && (n < this.seen || messageSignature(messages[this.seen - 1]!) !== this.lastSignature)) {
      this.seen = 0;
      this.counts = new Map();
      this.best = undefined;
    }
    for (let i = this.seen; i < n; i++) {
      const message = messages[i]!;
      if (message.role !== 'assistant' || !message.tool_calls) continue;
      for (const call of message.tool_calls) {
        const key = chatToolCallKey(call);
        this.keysComputed++;
        let entry = this.counts.get(key);
        if (entry === undefined) {
          entry = { name: call.function?.name ?? '', count: 0 };
          this.counts.set(key, entry);
        }
        entry.count++;
        if (!this.best || entry.count > this.best.count) this.best = { key, name: entry.name, count: entry.count };
      }
    }
    if (n > this.seen) this.lastSignature = messageSignature(messages[n - 1]!);
    this.seen = n;
    return this.best;
  }
}

/** What the model said, reduced to what "the same output" means: text and tool calls. */
export function outputKey(content: string | null | undefined, toolCalls: readonly ChatToolCall[] | undefined): string {
  const calls = (toolCalls ?? []).map(chatToolCallKey).join('|');
  return `${(content ?? '').trim()}\u0000${calls}`;
}
