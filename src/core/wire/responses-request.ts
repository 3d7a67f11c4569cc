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
 * An OpenAI Responses API request as the Chat Completions request fmguard decides on (and sends to
 * an upstream that speaks only Chat Completions). The body itself is kept too: an upstream that
 * serves the Responses API gets it passed through.
 *
 * fmguard is stateless here: nothing is stored upstream or in fmguard, so `previous_response_id`,
 * `conversation`, stored `prompt`s, `background` and `item_reference` input items are refused with
 * `request.invalid` (send the whole conversation as `input`). `store` is accepted and treated as
 * false. Only function tools are accepted: hosted tools (web search, file search, code interpreter,
 * computer use, MCP) run on the upstream, where fmguard cannot check the calls they make.
 */
export interface ResponsesRequest {
  /** The chat view the runtime decides on. */
  chat: ChatRequest;
  /** The body as the agent sent it (passed through to a Responses upstream). */
  body: Json;
  stream: boolean;
}

const STATEFUL: Record<string, string> = {
  previous_response_id: 'previous_response_id is not supported',
  conversation: 'conversations are not supported',
  prompt: 'stored prompts are not supported',
};

const STATELESS_HINT = "fmguard's /v1/responses is stateless: send the whole conversation as input items (and store: false)";

export function parseResponsesRequest(body: unknown, hasModel: (name: string) => boolean): ResponsesRequest {
  if (!isObject(body)) throw invalid('body', `the request body must be a JSON object, got ${typeName(body)}`);
  const model = requireModel(body, hasModel);
  for (const [field, what] of Object.entries(STATEFUL)) {
    if (!absent(body[field])) throw invalid(field, `${what}; ${STATELESS_HINT}`);
  }
  if (body.background === true) throw invalid('background', `background responses are not supported; ${STATELESS_HINT}`);
  optionalBoolean(body.store, 'store');
  const stream = optionalBoolean(body.stream, 'stream') ?? false;
  const instructions = optionalString(body.instructions, 'instructions');

  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else if (Array.isArray(body.input)) inputItems(body.input, messages);
  else throw invalid('input', `expected a string or an array of input items, got ${typeName(body.input)}`);
  if (!messages.some((m) => m.role !== 'system')) throw invalid('input', 'expected at least one input item');

  const chat: ChatRequest = { model, messages, stream };
  const maxOutput = optionalNumber(body.max_output_tokens, 'max_output_tokens', { integer: true, min: 1 });
  if (maxOutput !== undefined) chat.max_tokens = maxOutput;
  const temperature = optionalNumber(body.temperature, 'temperature', { min: 0 });
  if (temperature !== undefined) chat.temperature = temperature;
  const topP = optionalNumber(body.top_p, 'top_p', { min: 0 });
  if (topP !== undefined) chat.top_p = topP;
  const parallel = optionalBoolean(body.parallel_tool_calls, 'parallel_tool_calls');
  if (parallel !== undefined) chat.parallel_tool_calls = parallel;
  // Both are checked, even when `user` wins: a malformed field is refused wherever it is.
  const user = optionalString(body.user, 'user');
  const safetyIdentifier = optionalString(body.safety_identifier, 'safety_identifier');
  const endUser = user ?? safetyIdentifier;
  if (endUser !== undefined) chat.user = endUser;
  const tools = functionTools(body.tools);
  // An empty list says nothing, and OpenAI-style upstreams refuse `tools: []`.
  if (tools && tools.length > 0) chat.tools = tools;
  const choice = toolChoice(body.tool_choice);
  if (choice !== undefined) chat.tool_choice = choice;
  const format = responseFormat(body.text);
  if (format) chat.response_format = format;
  if (isObject(body.reasoning) && typeof body.reasoning.effort === 'string') chat.reasoning_effort = body.reasoning.effort;
  return { chat, body, stream };
}

function inputItems(items: unknown[], out: ChatMessage[]): void {
  for (let i = 0; i < items.length; i++) {
    const at = `input[${i}]`;
    const item = requireObject(items[i], at);
    const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message':
        out.push(messageItem(item, at));
        break;
      case 'function_call':
        addCall(out, functionCall(item, at));
        break;
      case 'function_call_output':
        out.push({ role: 'tool', tool_call_id: requireString(item.call_id, `${at}.call_id`), content: outputText(item.output, `${at}.output`) });
        break;
      case 'reasoning':
        // Reasoning items have no Chat Completions form; a Responses upstream still gets them.
        break;
      case 'item_reference':
        throw invalid(`${at}.type`, `item references are not supported; ${STATELESS_HINT}`);
      default:
        throw invalid(`${at}.type`, `input items of type ${JSON.stringify(type)} are not supported (message, function_call, function_call_output, reasoning)`);
    }
  }
}

const MESSAGE_ROLES = new Set(['user', 'system', 'developer', 'assistant']);

function messageItem(item: Json, at: string): ChatMessage {
  const role = item.role;
  if (typeof role !== 'string' || !MESSAGE_ROLES.has(role)) throw invalid(`${at}.role`, `expected one of ${[...MESSAGE_ROLES].join(', ')}`);
  const content = requireTextOrArray(item.content, `${at}.content`);
  if (typeof content === 'string') return { role, content } as ChatMessage;
  const parts = content.map((part, j) => contentPart(part, `${at}.content[${j}]`));
  if (role === 'user') return { role, content: parts };
  // System, developer and assistant turns are text.
  const text = parts.map((part) => part.text ?? '').join('');
  return role === 'assistant' ? { role, content: text } : { role: role as 'system' | 'developer', content: text };
}

function contentPart(value: unknown, at: string): ChatContentPart {
  const part = requireObject(value, at);
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return { type: 'text', text: requireString(part.text, `${at}.text`) };
    case 'refusal':
      return { type: 'text', text: requireString(part.refusal, `${at}.refusal`) };
    case 'input_image': {
      const url = optionalString(part.image_url, `${at}.image_url`);
      if (url === undefined) throw invalid(`${at}.image_url`, 'expected an image URL or data URL (uploaded file ids are not supported)');
      return { type: 'image_url', image_url: { url, ...(typeof part.detail === 'string' ? { detail: part.detail } : {}) } };
    }
    case 'input_file': {
      const data = optionalString(part.file_data, `${at}.file_data`);
      if (data === undefined) throw invalid(`${at}.file_data`, 'expected the file inline as file_data (uploaded file ids are not supported)');
      return { type: 'file', file: { file_data: data, ...(typeof part.filename === 'string' ? { filename: part.filename } : {}) } };
    }
    default:
      throw invalid(`${at}.type`, `content parts of type ${JSON.stringify(part.type)} are not supported`);
  }
}

function functionCall(item: Json, at: string): ChatToolCall {
  const args = item.arguments;
  if (!absent(args) && typeof args !== 'string') throw invalid(`${at}.arguments`, 'expected a string (JSON text)');
  return {
    id: requireString(item.call_id, `${at}.call_id`),
    type: 'function',
    function: { name: requireString(item.name, `${at}.name`), arguments: (args as string | undefined) ?? '' },
  };
}

/** Consecutive function calls are one assistant turn, joined to the assistant text just before them. */
function addCall(out: ChatMessage[], call: ChatToolCall): void {
  const last = out.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls = [...(last.tool_calls ?? []), call];
    return;
  }
  out.push({ role: 'assistant', content: null, tool_calls: [call] });
}

/** A function call's output: text, or parts whose text is joined (others as JSON). */
function outputText(output: unknown, at: string): string {
  const text = requireTextOrArray(output, at);
  if (typeof text === 'string') return text;
  return text.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : JSON.stringify(part))).join('');
}

function functionTools(tools: unknown): ChatTool[] | undefined {
  if (absent(tools)) return undefined;
  return requireArray(tools, 'tools').map((value, i) => {
    const at = `tools[${i}]`;
    const tool = requireObject(value, at);
    if (tool.type !== 'function') {
      throw invalid(
        `${at}.type`,
        `only function tools are supported: hosted tools (${String(tool.type)}) run upstream, where fmguard cannot check their calls`,
      );
    }
    const fn: ChatTool['function'] & { strict?: boolean } = { name: requireString(tool.name, `${at}.name`) };
    if (typeof tool.description === 'string') fn.description = tool.description;
    if (isObject(tool.parameters)) fn.parameters = tool.parameters;
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
    return { type: 'function', function: fn };
  });
}

function toolChoice(choice: unknown): ChatRequest['tool_choice'] {
  if (absent(choice)) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isObject(choice) && choice.type === 'function') return { type: 'function', function: { name: requireString(choice.name, 'tool_choice.name') } };
  throw invalid('tool_choice', 'expected "auto", "none", "required" or { type: "function", name }');
}

/** `text.format` as Chat Completions' `response_format`. */
function responseFormat(text: unknown): Json | undefined {
  if (!isObject(text) || !isObject(text.format)) return undefined;
  const format = text.format;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const schema: Json = { name: requireString(format.name, 'text.format.name') };
    if (isObject(format.schema)) schema.schema = format.schema;
    if (typeof format.strict === 'boolean') schema.strict = format.strict;
    if (typeof format.description === 'string') schema.description = format.description;
    return { type: 'json_schema', json_schema: schema };
  }
  return undefined;
}
