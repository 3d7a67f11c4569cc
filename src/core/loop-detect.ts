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

export function chatToolCallKey(call: ChatToolCall): string {
  return toolCallKey(call.function.name, parseArguments(call.function.arguments));
}

/** The tool call repeated most often in the conversation's assistant turns, with its count. */
export function mostRepeatedToolCall(messages: readonly ChatMessage[]): { key: string; name: string; count: number } | undefined {
  const counts = new Map<string, { name: string; count: number }>();
  let best: { key: string; name: string; count: number } | undefined;
  for (const message of messages) {
    if (message.role !== 'assistant' || !message.tool_calls) continue;
    for (const call of message.tool_calls) {
      const key = chatToolCallKey(call);
      const entry = counts.get(key) ?? { name: call.function.name, count: 0 };
      entry.count++;
      counts.set(key, entry);
      if (!best || entry.count > best.count) best = { key, name: entry.name, count: entry.count };
    }
  }
  return best;
}

/** What the model said, reduced to what "the same output" means: text and tool calls. */
export function outputKey(content: string | null | undefined, toolCalls: readonly ChatToolCall[] | undefined): string {
  const calls = (toolCalls ?? []).map(chatToolCallKey).join('|');
  return `${(content ?? '').trim()}\u0000${calls}`;
}
