import type { ChatMessage, ChatTool } from '../../core/chat.ts';

/**
 * The simulated model's token arithmetic: one token per four UTF-16 code units, rounded up, plus small
 * fixed overheads. fmguard reserves input with a UTF-8-byte upper bound (src/core/token-estimate.ts:
 * bytes + 8 per message, + 8 per request, + the tools' JSON). A code unit is never more than its UTF-8
 * bytes and every overhead here is smaller than the bound's, so the sim never reports more.
 */
export const CHARS_PER_TOKEN = 4;
export const TOKENS_PER_MESSAGE = 4;
export const TOKENS_PER_REQUEST = 3;

/** The text content of a message: string content, or the text of its parts. */
export function contentText(message: ChatMessage): string {
  const content = message.content;
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/** Tokens for a piece of text. */
export function textTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

function messageChars(message: ChatMessage): number {
  let chars = contentText(message).length;
  if (message.role === 'assistant' && message.tool_calls) {
    for (const call of message.tool_calls) chars += call.function.name.length + (call.function.arguments ?? '').length;
  }
  if ('name' in message && typeof message.name === 'string') chars += message.name.length;
  return chars;
}

/**
 * Prompt tokens: `ceil(chars / 4) + 4` per message (content, tool-call names and arguments, name),
 * `ceil(chars / 4)` for the tools' JSON, and 3 for the request.
 */
export function estimatePromptTokens(messages: readonly ChatMessage[], tools?: readonly ChatTool[]): number {
  let total = TOKENS_PER_REQUEST;
  for (const message of messages) total += Math.ceil(messageChars(message) / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE;
  if (tools && tools.length > 0) total += textTokens(JSON.stringify(tools));
  return total;
}

/** The longest prefix of `text` that fits in `maxTokens`. */
export function clampToTokens(text: string, maxTokens: number): string {
  return text.slice(0, Math.max(0, maxTokens) * CHARS_PER_TOKEN);
}
