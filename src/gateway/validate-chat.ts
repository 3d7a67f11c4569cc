import type { ChatRequest } from '../core/chat.ts';
import { guardError, type GuardError } from '../core/errors.ts';
import { typeName } from '../core/wire/checks.ts';

/**
 * Shape checks for a Chat Completions request body, by hand (no schema library on the hot path).
 * Only what fmguard or a typical upstream relies on is checked; unknown fields pass through. Every
 * failure is `request.invalid` with `param` naming the field, as OpenAI does.
 */

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function invalid(param: string, message: string): GuardError {
  return guardError('request.invalid', `${param}: ${message}`, { param });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(body: Record<string, unknown>, key: string, integer: boolean, min?: number): void {
  const value = body[key];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(key, `expected a number, got ${typeName(value)}`);
  if (integer && !Number.isInteger(value)) throw invalid(key, 'expected an integer');
  if (min !== undefined && value < min) throw invalid(key, `expected a number >= ${min}`);
}

function optionalType(body: Record<string, unknown>, key: string, type: 'boolean' | 'string', at = key): void {
  const value = body[key];
  if (value !== undefined && value !== null && typeof value !== type) throw invalid(at, `expected a ${type}, got ${typeName(value)}`);
}

function checkToolCalls(calls: unknown, at: string): void {
  if (!Array.isArray(calls)) throw invalid(at, `expected an array, got ${typeName(calls)}`);
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i];
    const path = `${at}[${i}]`;
    if (!isObject(call)) throw invalid(path, `expected an object, got ${typeName(call)}`);
    const fn = call.function;
    if (!isObject(fn) || typeof fn.name !== 'string') throw invalid(`${path}.function.name`, 'expected a string');
    if (fn.arguments !== undefined && typeof fn.arguments !== 'string') throw invalid(`${path}.function.arguments`, 'expected a string (JSON text)');
  }
}

function checkMessage(message: unknown, i: number): void {
  const at = `messages[${i}]`;
  if (!isObject(message)) throw invalid(at, `expected an object, got ${typeName(message)}`);
  const role = message.role;
  if (typeof role !== 'string' || !ROLES.has(role)) throw invalid(`${at}.role`, `expected one of ${[...ROLES].join(', ')}`);
  const content = message.content;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    if (!Array.isArray(content)) throw invalid(`${at}.content`, `expected a string or an array of parts, got ${typeName(content)}`);
    for (let j = 0; j < content.length; j++) {
      const part = content[j];
      if (!isObject(part) || typeof part.type !== 'string') throw invalid(`${at}.content[${j}]`, 'expected a content part object with a type');
    }
  }
  if (message.name !== undefined && typeof message.name !== 'string') throw invalid(`${at}.name`, 'expected a string');
  if (message.tool_calls !== undefined && message.tool_calls !== null) checkToolCalls(message.tool_calls, `${at}.tool_calls`);
  if (role === 'tool' && typeof message.tool_call_id !== 'string') throw invalid(`${at}.tool_call_id`, 'expected a string');
}

function checkTools(tools: unknown): void {
  if (tools === undefined || tools === null) return;
  if (!Array.isArray(tools)) throw invalid('tools', `expected an array, got ${typeName(tools)}`);
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i];
    if (!isObject(tool)) throw invalid(`tools[${i}]`, `expected an object, got ${typeName(tool)}`);
    if (tool.type === 'function' && (!isObject(tool.function) || typeof tool.function.name !== 'string')) {
      throw invalid(`tools[${i}].function.name`, 'expected a string');
    }
  }
}

/**
 * Check a parsed body; returns it typed, or throws `request.invalid`. `hasModel` says whether a
 * model name is configured, so an unknown model is refused before a run is created for it.
 */
export function validateChatRequest(body: unknown, hasModel: (name: string) => boolean): ChatRequest {
  if (!isObject(body)) throw guardError('request.invalid', `the request body must be a JSON object, got ${typeName(body)}`);
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalid('model', `expected a model name, got ${typeName(model)}`);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw invalid('messages', `expected an array of messages, got ${typeName(messages)}`);
  if (messages.length === 0) throw invalid('messages', 'expected at least one message');
  for (let i = 0; i < messages.length; i++) checkMessage(messages[i], i);

  optionalType(body, 'stream', 'boolean');
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (!isObject(streamOptions)) throw invalid('stream_options', `expected an object, got ${typeName(streamOptions)}`);
    optionalType(streamOptions, 'include_usage', 'boolean', 'stream_options.include_usage');
  }
  optionalNumber(body, 'max_tokens', true, 1);
  optionalNumber(body, 'max_completion_tokens', true, 1);
  optionalNumber(body, 'n', true, 1);
  optionalNumber(body, 'seed', true);
  optionalNumber(body, 'top_logprobs', true, 0);
  optionalNumber(body, 'temperature', false, 0);
  optionalNumber(body, 'top_p', false, 0);
  optionalNumber(body, 'presence_penalty', false);
  optionalNumber(body, 'frequency_penalty', false);
  optionalType(body, 'logprobs', 'boolean');
  optionalType(body, 'parallel_tool_calls', 'boolean');
  optionalType(body, 'user', 'string');
  checkTools(body.tools);
  const stop = body.stop;
  if (stop !== undefined && stop !== null && typeof stop !== 'string' && !(Array.isArray(stop) && stop.every((s) => typeof s === 'string'))) {
    throw invalid('stop', 'expected a string or an array of strings');
  }
  const choice = body.tool_choice;
  if (choice !== undefined && choice !== null && typeof choice !== 'string' && !isObject(choice))
    throw invalid('tool_choice', 'expected a string or an object');

  if (!hasModel(model)) throw guardError('request.invalid', `unknown model "${model}"`, { param: 'model' });
  return body as ChatRequest;
}
