import type { ChatContentPart, ChatMessage, ChatTool, ChatToolCall } from '../../index.ts';
import { chatFunctionName, type ToolNaming } from '../shared/tool-naming.ts';
import type { CallOptions, PromptMessage } from './types.ts';

/**
 * The AI SDK prompt in the chat shape the runtime judges: its input-token bound (UTF-8 bytes), the
 * repeated-tool-call detector over the assistant turns, and the tool calls' policy names. The model
 * itself still receives the SDK's own prompt, untouched.
 */
export function toChatMessages(prompt: CallOptions['prompt'], naming: ToolNaming): ChatMessage[] {
  return prompt.flatMap((message) => toChatMessage(message, naming));
}

function toChatMessage(message: PromptMessage, naming: ToolNaming): ChatMessage | ChatMessage[] {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content.map(userPart) };
    case 'assistant': {
      let text = '';
      const toolCalls: ChatToolCall[] = [];
      for (const part of message.content) {
        if (part.type === 'text' || part.type === 'reasoning') text += part.text;
        else if (part.type === 'tool-call') {
          toolCalls.push({
            id: part.toolCallId,
            type: 'function',
            function: { name: chatFunctionName(part.toolName, naming), arguments: JSON.stringify(part.input ?? {}) },
          });
        } else if (part.type === 'tool-result') text += outputText(part.output);
        else if (part.type === 'file') text += fileText(part.data);
      }
      return { role: 'assistant', content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
    }
    case 'tool':
      // One chat message per result; approval responses carry no text worth counting.
      return message.content.flatMap((part) =>
        part.type === 'tool-result' ? [{ role: 'tool' as const, tool_call_id: part.toolCallId, content: outputText(part.output) }] : [],
      );
  }
}

function userPart(part: Extract<PromptMessage, { role: 'user' }>['content'][number]): ChatContentPart {
  if (part.type === 'text') return { type: 'text', text: part.text };
  return { type: 'file', mediaType: part.mediaType, text: fileText(part.data) };
}

/**
 * File data as text the input bound can count: bytes as base64 (longer than the bytes, so the bound
 * holds), a URL as itself (the provider fetches it; its tokens cannot be known here).
 */
function fileText(data: Uint8Array | string | URL): string {
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  return data instanceof URL ? data.href : data;
}

function outputText(output: { type: string; value?: unknown; reason?: string }): string {
  if (typeof output.value === 'string') return output.value;
  if (output.value !== undefined) return JSON.stringify(output.value);
  return output.reason ?? '';
}

/** The call's tools as chat tools (their schemas count toward the input bound). */
export function toChatTools(tools: CallOptions['tools'], naming: ToolNaming): ChatTool[] | undefined {
  if (!tools || tools.length === 0) return undefined;
  return tools.map((tool) =>
    tool.type === 'function'
      ? {
          type: 'function',
          function: { name: chatFunctionName(tool.name, naming), description: tool.description, parameters: tool.inputSchema as Record<string, unknown> },
        }
      : { type: 'function', function: { name: chatFunctionName(tool.name, naming) } },
  );
}
