import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatResponse } from '../../src/core/chat.ts';
import { chatToMessage, MessagesEncoder, messagesUsage, stopReason } from '../../src/core/wire/messages-output.ts';

/**
 * Chat Completions results as Anthropic Messages API output (core/wire/messages-output.ts): stop
 * reasons, usage (cached input apart), the non-streamed message, and the stream encoder's events,
 * their order, block indexes and exact payloads.
 */

type Delta = ChatChunk['choices'][number]['delta'];

function chunk(delta: Delta, finish: ChatChunk['choices'][number]['finish_reason'] = null, index = 0): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index, delta, finish_reason: finish }] };
}

function response(
  message: Partial<ChatResponse['choices'][number]['message']>,
  finish: ChatResponse['choices'][number]['finish_reason'] = 'stop',
): ChatResponse {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model: 'upstream-model',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
  };
}

const envelope = { id: 'msg_1', model: 'claude-x' };
const noCacheUsage = { input_tokens: 5, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

describe('stopReason', () => {
  it('maps length, tool_calls and content_filter; stop and a missing reason end the turn', () => {
    expect(stopReason('length')).toBe('max_tokens');
    expect(stopReason('tool_calls')).toBe('tool_use');
    expect(stopReason('content_filter')).toBe('refusal');
    expect(stopReason('stop')).toBe('end_turn');
    expect(stopReason(null)).toBe('end_turn');
    expect(stopReason(undefined)).toBe('end_turn');
  });
});

describe('messagesUsage', () => {
  it('without cached tokens: the input as it is, nothing read from or written to the cache', () => {
    expect(messagesUsage({ inputTokens: 10, outputTokens: 3 })).toStrictEqual({
      input_tokens: 10,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it('cached input tokens move from input_tokens to cache_read_input_tokens', () => {
    expect(messagesUsage({ inputTokens: 10, outputTokens: 3, cachedInputTokens: 4 })).toStrictEqual({
      input_tokens: 6,
      output_tokens: 3,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 4,
    });
    expect(messagesUsage({ inputTokens: 4, outputTokens: 0, cachedInputTokens: 4 })).toStrictEqual({
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 4,
    });
  });

  it('never reports negative input tokens when the cached count exceeds the input', () => {
    expect(messagesUsage({ inputTokens: 2, outputTokens: 1, cachedInputTokens: 5 })).toStrictEqual({
      input_tokens: 0,
      output_tokens: 1,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 5,
    });
  });
});

describe('chatToMessage', () => {
  it('text and tool calls as content blocks in order, with the envelope, stop reason and usage', () => {
    const chat = response(
      {
        content: 'Looking.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } },
          { id: 'c2', type: 'function', function: { name: 'read', arguments: '' } },
          { id: 'c3', type: 'function', function: { name: 'bad', arguments: '{oops' } },
          { id: 'c4', type: 'function', function: { name: 'list', arguments: '[1]' } },
        ],
      },
      'tool_calls',
    );
    expect(chatToMessage(envelope, chat, { inputTokens: 9, outputTokens: 4, cachedInputTokens: 2 })).toStrictEqual({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [
        { type: 'text', text: 'Looking.' },
        { type: 'tool_use', id: 'c1', name: 'search', input: { q: 'x' } },
        { type: 'tool_use', id: 'c2', name: 'read', input: {} },
        { type: 'tool_use', id: 'c3', name: 'bad', input: { _raw: '{oops' } },
        { type: 'tool_use', id: 'c4', name: 'list', input: { value: [1] } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 7, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 2 },
    });
  });

  it('a text answer is one text block; the envelope model, not the upstream one, is reported', () => {
    expect(chatToMessage(envelope, response({ content: 'Hi' }), { inputTokens: 5, outputTokens: 3 })).toStrictEqual({
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [{ type: 'text', text: 'Hi' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: noCacheUsage,
    });
  });

  it('empty or null text makes no text block', () => {
    expect(chatToMessage(envelope, response({ content: '' }, 'length'), { inputTokens: 5, outputTokens: 3 }).content).toStrictEqual([]);
    const message = chatToMessage(envelope, response({ content: null }, 'content_filter'), { inputTokens: 5, outputTokens: 3 });
    expect(message.content).toStrictEqual([]);
    expect(message.stop_reason).toBe('refusal');
    expect(chatToMessage(envelope, response({ content: '' }, 'length'), { inputTokens: 5, outputTokens: 3 }).stop_reason).toBe('max_tokens');
  });

  it('only the first choice is read', () => {
    const chat = response({ content: 'first' });
    chat.choices.push({ index: 1, message: { role: 'assistant', content: 'second' }, finish_reason: 'length' });
    const message = chatToMessage(envelope, chat, { inputTokens: 5, outputTokens: 3 });
    expect(message.content).toStrictEqual([{ type: 'text', text: 'first' }]);
    expect(message.stop_reason).toBe('end_turn');
  });

  it('no choices, missing choices or a choice without message: an empty end_turn message', () => {
    const empty = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-x',
      content: [],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: noCacheUsage,
    };
    const usage = { inputTokens: 5, outputTokens: 3 };
    expect(chatToMessage(envelope, { ...response({}), choices: [] }, usage)).toStrictEqual(empty);
    expect(chatToMessage(envelope, { id: 'x' } as unknown as ChatResponse, usage)).toStrictEqual(empty);
    expect(chatToMessage(envelope, { choices: [{ index: 0 }] } as unknown as ChatResponse, usage)).toStrictEqual(empty);
    expect(chatToMessage(envelope, { choices: [{ index: 0, message: {}, finish_reason: 'length' }] } as unknown as ChatResponse, usage)).toStrictEqual({
      ...empty,
      stop_reason: 'max_tokens',
    });
  });
});

describe('MessagesEncoder', () => {
  it('start: one message_start with an empty assistant message and zero usage', () => {
    expect(new MessagesEncoder(envelope).start()).toStrictEqual([
      {
        type: 'message_start',
        message: {
          id: 'msg_1',
          type: 'message',
          role: 'assistant',
          model: 'claude-x',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      },
    ]);
  });

  it('text: the first piece opens a text block, later pieces are deltas on it, end closes it', () => {
    const encoder = new MessagesEncoder(envelope);
    expect(encoder.chunk(chunk({ role: 'assistant', content: 'Hel' }))).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
    ]);
    expect(encoder.chunk(chunk({ content: 'lo' }))).toStrictEqual([{ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } }]);
    expect(encoder.chunk(chunk({}, 'stop'))).toStrictEqual([]);
    expect(encoder.end({ inputTokens: 5, outputTokens: 3 })).toStrictEqual([
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: noCacheUsage },
      { type: 'message_stop' },
    ]);
  });

  it('empty or null text, no delta, another choice or no choices emit nothing and open no block', () => {
    const encoder = new MessagesEncoder(envelope);
    expect(encoder.chunk(chunk({ content: '' }))).toStrictEqual([]);
    expect(encoder.chunk(chunk({ content: null }))).toStrictEqual([]);
    expect(encoder.chunk(chunk({}))).toStrictEqual([]);
    expect(encoder.chunk({ ...chunk({}), choices: [{ index: 0, finish_reason: null }] } as unknown as ChatChunk)).toStrictEqual([]);
    expect(encoder.chunk(chunk({ content: 'other' }, 'length', 1))).toStrictEqual([]);
    expect(encoder.chunk({ ...chunk({}), choices: [] })).toStrictEqual([]);
    expect(encoder.chunk({ id: 'c', usage: null } as unknown as ChatChunk)).toStrictEqual([]);
    expect(encoder.chunk(chunk({ tool_calls: [] }))).toStrictEqual([]);
    // No block was opened, the other choice's finish reason was not taken.
    expect(encoder.end(undefined)).toStrictEqual([
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('reads choice 0 wherever it is in the list', () => {
    const encoder = new MessagesEncoder(envelope);
    const c: ChatChunk = {
      ...chunk({}),
      choices: [
        { index: 1, delta: { content: 'B' }, finish_reason: 'length' },
        { index: 0, delta: { content: 'A' }, finish_reason: null },
      ],
    };
    expect(encoder.chunk(c)).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'A' } },
    ]);
    expect(encoder.end(undefined)[1]).toStrictEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 0 },
    });
  });

  it('a tool call opens a tool_use block with empty input; its argument pieces are input_json deltas', () => {
    const encoder = new MessagesEncoder(envelope);
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'search', arguments: '' } }] }))).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'call_1', name: 'search', input: {} } },
    ]);
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q"' } }] }))).toStrictEqual([
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"q"' } },
    ]);
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, 'tool_calls'))).toStrictEqual([
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: ':1}' } },
    ]);
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0 }] }))).toStrictEqual([]);
    expect(encoder.end({ inputTokens: 7, outputTokens: 2, cachedInputTokens: 4 })).toStrictEqual([
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { input_tokens: 3, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 4 },
      },
      { type: 'message_stop' },
    ]);
  });

  it('a tool call without id or name in its first piece gets empty ones; arguments in the first piece are a delta', () => {
    const encoder = new MessagesEncoder(envelope);
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }))).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: '', name: '', input: {} } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{}' } },
    ]);
    const bare = new MessagesEncoder(envelope);
    expect(bare.chunk(chunk({ tool_calls: [{ index: 0, id: 'x' }] }))).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'x', name: '', input: {} } },
    ]);
  });

  it('text, then two tool calls, then text: a block each, numbered in order, each closed before the next opens', () => {
    const encoder = new MessagesEncoder(envelope);
    const events = [
      ...encoder.start(),
      ...encoder.chunk(chunk({ content: 'Hi' })),
      ...encoder.chunk(
        chunk({
          tool_calls: [
            { index: 0, id: 'a', function: { name: 'f', arguments: '{"x":' } },
            { index: 0, function: { arguments: '1}' } },
          ],
        }),
      ),
      ...encoder.chunk(chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } }] })),
      ...encoder.chunk(chunk({ content: 'ok' }, 'stop')),
      ...encoder.end({ inputTokens: 5, outputTokens: 3 }),
    ];
    expect(events.slice(1)).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'a', name: 'f', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"x":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'b', name: 'g', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 3, delta: { type: 'text_delta', text: 'ok' } },
      { type: 'content_block_stop', index: 3 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: noCacheUsage },
      { type: 'message_stop' },
    ]);
  });

  it('text and a tool call in one chunk: the text first, then the call in a new block', () => {
    const encoder = new MessagesEncoder(envelope);
    expect(encoder.chunk(chunk({ content: 'Hi', tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }] }))).toStrictEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'a', name: 'f', input: {} } },
    ]);
  });

  // The encoder expects each call's pieces together: the gateway's tool-call gate (StreamToolCalls)
  // releases calls whole and in order, so an upstream that interleaves them never reaches it that way
  // (test/gateway/messages-interleaved.test.ts).
  it('a call index seen again after another call opens a new block (the encoder follows the open block only)', () => {
    const encoder = new MessagesEncoder(envelope);
    encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }] }));
    encoder.chunk(chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g' } }] }));
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }))).toStrictEqual([
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: '', name: '', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
    ]);
  });

  it('the last finish reason given wins; a later chunk without one keeps it', () => {
    const encoder = new MessagesEncoder(envelope);
    encoder.chunk(chunk({ content: 'a' }, 'tool_calls'));
    encoder.chunk(chunk({ content: 'b' }, 'length'));
    encoder.chunk(chunk({ content: 'c' }, null));
    expect(encoder.end(undefined)[1]).toStrictEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { output_tokens: 0 },
    });
    const filtered = new MessagesEncoder(envelope);
    filtered.chunk(chunk({}, 'content_filter'));
    expect(filtered.end(undefined)).toStrictEqual([
      { type: 'message_delta', delta: { stop_reason: 'refusal', stop_sequence: null }, usage: { output_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('a block closed by end is not closed again by a second end', () => {
    const encoder = new MessagesEncoder(envelope);
    encoder.chunk(chunk({ content: 'a' }));
    expect(encoder.end(undefined).map((e) => e.type)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(encoder.end(undefined).map((e) => e.type)).toEqual(['message_delta', 'message_stop']);
  });

  it('text after end opens a new block numbered after the last', () => {
    const encoder = new MessagesEncoder(envelope);
    encoder.chunk(chunk({ content: 'a' }));
    encoder.end(undefined);
    expect(encoder.chunk(chunk({ content: 'b' }))).toStrictEqual([
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'b' } },
    ]);
  });

  it('fail: one error event carrying the error object itself', () => {
    const error = { type: 'rate_limit_error', message: 'slow down' };
    const events = new MessagesEncoder(envelope).fail(error);
    expect(events).toStrictEqual([{ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }]);
    expect(events[0]!.error).toBe(error);
  });

  it('encoders are independent: block numbering is per encoder', () => {
    const first = new MessagesEncoder(envelope);
    first.chunk(chunk({ content: 'a' }));
    first.chunk(chunk({ tool_calls: [{ index: 0, id: 'x' }] }));
    const second = new MessagesEncoder({ id: 'msg_2', model: 'n' });
    expect(second.chunk(chunk({ content: 'b' }))[0]).toStrictEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const message = second.start()[0]!.message as Record<string, unknown>;
    expect([message.id, message.model]).toEqual(['msg_2', 'n']);
  });
});
