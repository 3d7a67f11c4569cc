import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool, ChatToolCall } from '../chat.ts';
import {
  absent,
  invalid,
  isObject,
  type Json,
  optionalBoolean,
  optionalNumber,
  optionalString,
  requireArray,
  requireModel,
  requireObject,
  requireString,
  requireTextOrArray,
  typeName,
} from './checks.ts';

/**
 * An Anthropic Messages API request as the Chat Completions request fmguard decides on and sends
 * upstream (an Anthropic upstream gets it translated back by its provider). `system` becomes a system
 * message; `tool_use` blocks become an assistant turn's tool calls and `tool_result` blocks tool
 * messages; images become image parts. Thinking blocks are dropped (they have no Chat Completions
 * form). Server tools (web search, code execution, bash …) run upstream where fmguard cannot check
 * them, so only client tools (`name` + `input_schema`) are accepted.
 */
export interface MessagesRequest {
  chat: ChatRequest;
  body: Json;
  stream: boolean;
}

export function parseMessagesRequest(body: unknown, hasModel: (name: string) => boolean): MessagesRequest {
  if (!isObject(body)) throw invalid('body', `the request body must be a JSON object, got ${typeName(body)}`);
  const model = requireModel(body, hasModel);
  const maxTokens = optionalNumber(body.max_tokens, 'max_tokens', { integer: true, min: 1 });
  if (maxTokens === undefined) throw invalid('max_tokens', 'expected a positive integer (required)');
  const stream = optionalBoolean(body.stream, 'stream') ?? false;

  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system) messages.push({ role: 'system', content: system });
  const turns = requireArray(body.messages, 'messages');
  if (turns.length === 0) throw invalid('messages', 'expected at least one message');
  turns.forEach((turn, i) => addTurn(messages, requireObject(turn, `messages[${i}]`), `messages[${i}]`));

  const chat: ChatRequest = { model, messages, stream, max_tokens: maxTokens };
  const temperature = optionalNumber(body.temperature, 'temperature', { min: 0 });
  if (temperature !== undefined) chat.temperature = temperature;
  const topP = optionalNumber(body.top_p, 'top_p', { min: 0 });
  if (topP !== undefined) chat.top_p = topP;
  if (!absent(body.stop_sequences)) {
    const stops = requireArray(body.stop_sequences, 'stop_sequences');
    if (!stops.every((s) => typeof s === 'string')) throw invalid('stop_sequences', 'expected an array of strings');
    if (stops.length > 0) chat.stop = stops;
  }
  const tools = clientTools(body.tools);
  // An empty list says nothing, and OpenAI-style upstreams refuse `tools: []`.
  if (tools && tools.length > 0) chat.tools = tools;
  applyToolChoice(chat, body.tool_choice);
  if (isObject(body.metadata) && typeof body.metadata.user_id === 'string') chat.user = body.metadata.user_id;
  return { chat, body, stream };
}

function systemText(system: unknown): string | undefined {
  if (absent(system)) return undefined;
  const text = requireTextOrArray(system, 'system');
  if (typeof text === 'string') return text;
  return text
    .map((block, i) => {
      const b = requireObject(block, `system[${i}]`);
      if (b.type !== 'text') throw invalid(`system[${i}].type`, 'expected a text block');
      return requireString(b.text, `system[${i}].text`);
    })
    .join('\n');
}

function addTurn(out: ChatMessage[], turn: Json, at: string): void {
  const role = turn.role;
  if (role !== 'user' && role !== 'assistant') throw invalid(`${at}.role`, 'expected "user" or "assistant"');
  const content = requireTextOrArray(turn.content, `${at}.content`);
  if (typeof content === 'string') {
    out.push({ role, content });
    return;
  }
  // Anthropic refuses an empty user turn; dropping it would send the model a conversation the client did not.
  if (role === 'user' && content.length === 0) throw invalid(`${at}.content`, 'expected at least one content block');
  const blocks = content.map((block, j) => requireObject(block, `${at}.content[${j}]`));
  if (role === 'assistant') out.push(assistantTurn(blocks, `${at}.content`));
  else userTurn(out, blocks, `${at}.content`);
}

function assistantTurn(blocks: Json[], at: string): ChatMessage {
  let text = '';
  const calls: ChatToolCall[] = [];
  blocks.forEach((block, j) => {
    const where = `${at}[${j}]`;
    switch (block.type) {
      case 'text':
        text += requireString(block.text, `${where}.text`);
        break;
      case 'tool_use':
        calls.push({
          id: requireString(block.id, `${where}.id`),
          type: 'function',
          function: { name: requireString(block.name, `${where}.name`), arguments: JSON.stringify(block.input ?? {}) },
        });
        break;
      case 'thinking':
      case 'redacted_thinking':
        break;
      default:
        throw invalid(`${where}.type`, `assistant blocks of type ${JSON.stringify(block.type)} are not supported (text, tool_use, thinking)`);
    }
  });
  return calls.length > 0 ? { role: 'assistant', content: text || null, tool_calls: calls } : { role: 'assistant', content: text };
}

/** Tool results first (each a tool message, right after the assistant turn that called), then the rest as one user turn. */
function userTurn(out: ChatMessage[], blocks: Json[], at: string): void {
  const parts: ChatContentPart[] = [];
  blocks.forEach((block, j) => {
    const where = `${at}[${j}]`;
    switch (block.type) {
      case 'tool_result':
        out.push({ role: 'tool', tool_call_id: requireString(block.tool_use_id, `${where}.tool_use_id`), content: resultText(block, where) });
        break;
      case 'text':
        parts.push({ type: 'text', text: requireString(block.text, `${where}.text`) });
        break;
      case 'image':
        parts.push(imagePart(block, where));
        break;
      default:
        throw invalid(`${where}.type`, `user blocks of type ${JSON.stringify(block.type)} are not supported (text, image, tool_result)`);
    }
  });
  if (parts.length === 0) return;
  out.push({ role: 'user', content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('') : parts });
}

function resultText(block: Json, at: string): string {
  const content = absent(block.content) ? '' : requireTextOrArray(block.content, `${at}.content`);
  const text =
    typeof content === 'string'
      ? content
      : content.map((part) => (isObject(part) && part.type === 'text' && typeof part.text === 'string' ? part.text : JSON.stringify(part))).join('');
  // Chat Completions has no error flag on a tool result: say it in the text.
  return block.is_error === true ? `[tool error] ${text}` : text;
}

function imagePart(block: Json, at: string): ChatContentPart {
  const source = requireObject(block.source, `${at}.source`);
  if (source.type === 'url') return { type: 'image_url', image_url: { url: requireString(source.url, `${at}.source.url`) } };
  if (source.type === 'base64') {
    const media = requireString(source.media_type, `${at}.source.media_type`);
    return { type: 'image_url', image_url: { url: `data:${media};base64,${requireString(source.data, `${at}.source.data`)}` } };
  }
  throw invalid(`${at}.source.type`, 'expected "base64" or "url"');
}

function clientTools(tools: unknown): ChatTool[] | undefined {
  if (absent(tools)) return undefined;
  return requireArray(tools, 'tools').map((value, i) => {
    const at = `tools[${i}]`;
    const tool = requireObject(value, at);
    if (tool.type !== undefined && tool.type !== null && tool.type !== 'custom') {
      throw invalid(`${at}.type`, `only client tools are supported: server tools (${String(tool.type)}) run upstream, where fmguard cannot check their calls`);
    }
    const fn: ChatTool['function'] = { name: requireString(tool.name, `${at}.name`) };
    const description = optionalString(tool.description, `${at}.description`);
    if (description !== undefined) fn.description = description;
    fn.parameters = requireObject(tool.input_schema, `${at}.input_schema`);
    return { type: 'function', function: fn };
  });
}

function applyToolChoice(chat: ChatRequest, choice: unknown): void {
  if (absent(choice)) return;
  const c = requireObject(choice, 'tool_choice');
  switch (c.type) {
    case 'auto':
      chat.tool_choice = 'auto';
      break;
    case 'any':
      chat.tool_choice = 'required';
      break;
    case 'none':
      chat.tool_choice = 'none';
      break;
    case 'tool':
      chat.tool_choice = { type: 'function', function: { name: requireString(c.name, 'tool_choice.name') } };
      break;
    default:
      throw invalid('tool_choice.type', 'expected "auto", "any", "tool" or "none"');
  }
  if (c.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
}
