/**
 * src/core/wire/responses-output.ts: the Responses API response object built from a chat result
 * (usage, echoed request fields, items, end state), and the chat view of a Responses object an
 * upstream served itself (text, calls, finish reason, usage, defaults for missing fields).
 */
import { describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../src/core/chat.ts';
import {
  callOfItem,
  chatToResponse,
  chatUsageOf,
  endState,
  functionCallItem,
  messageItem,
  outputTextPart,
  type ResponseEnvelope,
  responseObject,
  responsesUsage,
  responseToChat,
  textOfItem,
} from '../../src/core/wire/responses-output.ts';
import { emptyResponse } from './wire-responses-fixtures.ts';

/** An envelope whose item ids count up per call: `msg_0`, `fc_1`, … */
function envelope(request: Record<string, unknown> = {}): ResponseEnvelope {
  let n = 0;
  return { ids: { response: 'resp_1', item: (prefix) => `${prefix}_${n++}` }, createdAt: 1700, model: 'gpt-x', request };
}

const call = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

describe('responsesUsage', () => {
  it('input, cached, output and their total; reasoning tokens 0', () => {
    expect(responsesUsage({ inputTokens: 10, outputTokens: 4, cachedInputTokens: 3 })).toStrictEqual({
      input_tokens: 10,
      input_tokens_details: { cached_tokens: 3 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 14,
    });
  });

  it('no cached count is 0 cached', () => {
    expect(responsesUsage({ inputTokens: 2, outputTokens: 0 })).toStrictEqual({
      input_tokens: 2,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 0,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 2,
    });
  });
});

describe('responseObject', () => {
  it('an empty request gets every default', () => {
    expect(responseObject(envelope(), 'in_progress', [])).toStrictEqual(emptyResponse('in_progress', []));
  });

  it('echoes the request fields a response carries, falsy values included', () => {
    const request = {
      instructions: '',
      max_output_tokens: 5,
      metadata: { k: 'v' },
      parallel_tool_calls: false,
      temperature: 0,
      text: { format: { type: 'json_object' } },
      tool_choice: 'none',
      tools: [{ type: 'function', name: 'f' }],
      top_p: 0,
      user: 'u',
      model: 'ignored',
      store: true,
    };
    const output = [{ id: 'x' }];
    expect(responseObject(envelope(request), 'completed', output)).toStrictEqual({
      ...emptyResponse('completed', output),
      instructions: '',
      max_output_tokens: 5,
      metadata: { k: 'v' },
      parallel_tool_calls: false,
      temperature: 0,
      text: { format: { type: 'json_object' } },
      tool_choice: 'none',
      tools: [{ type: 'function', name: 'f' }],
      top_p: 0,
      user: 'u',
    });
  });

  it('malformed metadata, text and tools fall back to the defaults', () => {
    expect(responseObject(envelope({ metadata: ['a'], text: 'x', tools: { a: 1 } }), 'completed', [])).toStrictEqual(emptyResponse('completed', []));
    expect(responseObject(envelope({ metadata: null, text: null, tools: null }), 'completed', [])).toStrictEqual(emptyResponse('completed', []));
  });

  it('extra fields override the defaults', () => {
    expect(responseObject(envelope(), 'failed', [], { error: { code: 'c', message: 'm' }, usage: 1 })).toStrictEqual({
      ...emptyResponse('failed', []),
      error: { code: 'c', message: 'm' },
      usage: 1,
    });
  });
});

describe('output items', () => {
  it('a completed message carries its text as one output_text part', () => {
    expect(messageItem('msg_a', 'hi')).toStrictEqual({
      id: 'msg_a',
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: 'hi', annotations: [], logprobs: [] }],
    });
    expect(messageItem('msg_a', 'hi', 'completed')).toStrictEqual(messageItem('msg_a', 'hi'));
  });

  it('an in-progress message has no content yet', () => {
    expect(messageItem('msg_a', 'hi', 'in_progress')).toStrictEqual({ id: 'msg_a', type: 'message', status: 'in_progress', role: 'assistant', content: [] });
  });

  it('outputTextPart', () => {
    expect(outputTextPart('')).toStrictEqual({ type: 'output_text', text: '', annotations: [], logprobs: [] });
  });

  it('a function call item: arguments when completed, empty while in progress', () => {
    const c = call('call_1', 'search', '{"q":1}');
    expect(functionCallItem('fc_a', c)).toStrictEqual({
      id: 'fc_a',
      type: 'function_call',
      status: 'completed',
      call_id: 'call_1',
      name: 'search',
      arguments: '{"q":1}',
    });
    expect(functionCallItem('fc_a', c, 'in_progress')).toStrictEqual({
      id: 'fc_a',
      type: 'function_call',
      status: 'in_progress',
      call_id: 'call_1',
      name: 'search',
      arguments: '',
    });
  });
});

describe('endState', () => {
  it('length and content_filter are incomplete, with their reasons', () => {
    expect(endState('length')).toStrictEqual({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(endState('content_filter')).toStrictEqual({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
  });

  it('everything else is completed', () => {
    for (const finish of ['stop', 'tool_calls', null, undefined] as const) {
      expect(endState(finish)).toStrictEqual({ status: 'completed', incomplete_details: null });
    }
  });
});

describe('chatToResponse', () => {
  const chat = (message: ChatResponse['choices'][number]['message'], finish: ChatResponse['choices'][number]['finish_reason'] = 'stop'): ChatResponse => ({
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [{ index: 0, message, finish_reason: finish }],
  });
  const usage = { inputTokens: 3, outputTokens: 2 };
  const usageJson = {
    input_tokens: 3,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 2,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 5,
  };

  it('text, then each call, ids in that order; completed with usage', () => {
    const result = chatToResponse(
      envelope(),
      chat({ role: 'assistant', content: 'Hi', tool_calls: [call('a', 'f', '{}'), call('b', 'g', '[1]')] }, 'tool_calls'),
      usage,
    );
    expect(result).toStrictEqual({
      ...emptyResponse('completed', [
        messageItem('msg_0', 'Hi'),
        functionCallItem('fc_1', call('a', 'f', '{}')),
        functionCallItem('fc_2', call('b', 'g', '[1]')),
      ]),
      usage: usageJson,
    });
  });

  it('empty or null text makes no message item', () => {
    expect(chatToResponse(envelope(), chat({ role: 'assistant', content: '' }), usage)).toStrictEqual({ ...emptyResponse('completed', []), usage: usageJson });
    expect(chatToResponse(envelope(), chat({ role: 'assistant', content: null, tool_calls: [call('a', 'f', '')] }), usage)).toStrictEqual({
      ...emptyResponse('completed', [functionCallItem('fc_0', call('a', 'f', ''))]),
      usage: usageJson,
    });
  });

  it('a length finish is incomplete at max_output_tokens', () => {
    expect(chatToResponse(envelope(), chat({ role: 'assistant', content: 'abc' }, 'length'), usage)).toStrictEqual({
      ...emptyResponse('incomplete', [messageItem('msg_0', 'abc')]),
      incomplete_details: { reason: 'max_output_tokens' },
      usage: usageJson,
    });
  });

  it('no choices, or a choice without a message, is an empty completed response', () => {
    const none = { id: 'c', object: 'chat.completion', created: 0, model: 'm' } as unknown as ChatResponse;
    expect(chatToResponse(envelope(), none, usage)).toStrictEqual({ ...emptyResponse('completed', []), usage: usageJson });
    const empty = { ...none, choices: [] } as ChatResponse;
    expect(chatToResponse(envelope(), empty, usage)).toStrictEqual({ ...emptyResponse('completed', []), usage: usageJson });
    const bare = { ...none, choices: [{ index: 0, finish_reason: 'length' }] } as unknown as ChatResponse;
    expect(chatToResponse(envelope(), bare, usage)).toStrictEqual({
      ...emptyResponse('incomplete', []),
      incomplete_details: { reason: 'max_output_tokens' },
      usage: usageJson,
    });
  });
});

describe('chatUsageOf', () => {
  it('input and output tokens with their total; cached only when a number, 0 included', () => {
    expect(chatUsageOf({ input_tokens: 4, output_tokens: 2 })).toStrictEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
    expect(chatUsageOf({ input_tokens: 4, output_tokens: 2, input_tokens_details: { cached_tokens: 0 } })).toStrictEqual({
      prompt_tokens: 4,
      completion_tokens: 2,
      total_tokens: 6,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(chatUsageOf({ input_tokens: 4, output_tokens: 2, input_tokens_details: { cached_tokens: '1' } })).toStrictEqual({
      prompt_tokens: 4,
      completion_tokens: 2,
      total_tokens: 6,
    });
    expect(chatUsageOf({ input_tokens: 4, output_tokens: 2, input_tokens_details: 3 })).toStrictEqual({
      prompt_tokens: 4,
      completion_tokens: 2,
      total_tokens: 6,
    });
  });

  it('nothing without numeric input and output counts', () => {
    expect(chatUsageOf(undefined)).toBeUndefined();
    expect(chatUsageOf(null)).toBeUndefined();
    expect(chatUsageOf([1])).toBeUndefined();
    expect(chatUsageOf({ output_tokens: 2 })).toBeUndefined();
    expect(chatUsageOf({ input_tokens: 4 })).toBeUndefined();
    expect(chatUsageOf({ input_tokens: '4', output_tokens: 2 })).toBeUndefined();
    expect(chatUsageOf({ input_tokens: 4, output_tokens: '2' })).toBeUndefined();
  });
});

describe('callOfItem and textOfItem', () => {
  it('a function_call item as a tool call; missing or mistyped fields are empty', () => {
    expect(callOfItem({ type: 'function_call', call_id: 'c', name: 'n', arguments: '{}' })).toStrictEqual(call('c', 'n', '{}'));
    expect(callOfItem({})).toStrictEqual(call('', '', ''));
    expect(callOfItem({ call_id: 1, name: 2, arguments: { a: 1 } })).toStrictEqual(call('', '', ''));
  });

  it('the output_text parts of a message item joined; other parts and content add nothing', () => {
    expect(
      textOfItem({
        content: [
          { type: 'output_text', text: 'a' },
          { type: 'refusal', refusal: 'r', text: 'no' },
          'b',
          { type: 'output_text', text: 3 },
          { type: 'output_text', text: 'c' },
        ],
      }),
    ).toBe('ac');
    expect(textOfItem({ content: 'abc' })).toBe('');
    expect(textOfItem({})).toBe('');
  });
});

describe('responseToChat', () => {
  it('the text of every message item, no calls, stop, usage, the object as native', () => {
    const native = {
      id: 'resp_9',
      created_at: 42,
      model: 'gpt-y',
      output: [
        { type: 'message', content: [{ type: 'output_text', text: 'one ' }] },
        { type: 'reasoning', content: [{ type: 'output_text', text: 'hidden' }] },
        'junk',
        null,
        { type: 'message', content: [{ type: 'output_text', text: 'two' }] },
      ],
      usage: { input_tokens: 5, output_tokens: 1 },
    };
    const chat = responseToChat(native);
    expect(chat).toStrictEqual({
      id: 'resp_9',
      object: 'chat.completion',
      created: 42,
      model: 'gpt-y',
      choices: [{ index: 0, message: { role: 'assistant', content: 'one two' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      native,
    });
    expect(chat.native).toBe(native);
  });

  it('calls make tool_calls, which wins over an incomplete reason', () => {
    const native = {
      output: [
        { type: 'message', content: [{ type: 'output_text', text: 'x' }] },
        { type: 'function_call', call_id: 'a', name: 'f', arguments: '{}' },
        { type: 'function_call', call_id: 'b', name: 'g' },
      ],
      incomplete_details: { reason: 'max_output_tokens' },
    };
    expect(responseToChat(native)).toStrictEqual({
      id: '',
      object: 'chat.completion',
      created: 0,
      model: '',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'x', tool_calls: [call('a', 'f', '{}'), call('b', 'g', '')] }, finish_reason: 'tool_calls' },
      ],
      native,
    });
  });

  it('the incomplete reason as the finish reason; anything else is stop', () => {
    const finish = (incomplete_details: unknown) => responseToChat({ output: [], incomplete_details }).choices[0]!.finish_reason;
    expect(finish({ reason: 'max_output_tokens' })).toBe('length');
    expect(finish({ reason: 'content_filter' })).toBe('content_filter');
    expect(finish({ reason: 'other' })).toBe('stop');
    expect(finish('max_output_tokens')).toBe('stop');
    expect(finish(null)).toBe('stop');
  });

  it('anything that is not an object is an empty chat result with the value as native', () => {
    const empty = (native: unknown) => ({
      id: '',
      object: 'chat.completion',
      created: 0,
      model: '',
      choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' }],
      native,
    });
    expect(responseToChat(null)).toStrictEqual(empty(null));
    expect(responseToChat('x')).toStrictEqual(empty('x'));
    expect(responseToChat([{ type: 'message' }])).toStrictEqual(empty([{ type: 'message' }]));
  });

  it('mistyped top-level fields take their defaults; empty text is null content', () => {
    const native = { id: 1, created_at: '5', model: null, output: { type: 'message' }, usage: { input_tokens: 1 } };
    expect(responseToChat(native)).toStrictEqual({
      id: '',
      object: 'chat.completion',
      created: 0,
      model: '',
      choices: [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'stop' }],
      native,
    });
    const blank = { output: [{ type: 'message', content: [{ type: 'output_text', text: '' }] }], created_at: 0 };
    expect(responseToChat(blank).choices[0]!.message).toStrictEqual({ role: 'assistant', content: null });
  });
});
