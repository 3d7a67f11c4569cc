import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatMessage, ChatRequest } from '../../src/core/chat.ts';
import { AnthropicStreamTranslator } from '../../src/providers/anthropic/stream.ts';
import {
  DEFAULT_MAX_TOKENS,
  fromAnthropicMessage,
  toAnthropicMessages,
  toAnthropicRequest,
  toChatUsage,
  toFinishReason,
} from '../../src/providers/anthropic/translate.ts';
import { ProviderError } from '../../src/providers/provider.ts';

const call = (id: string, name: string, args: string) => ({ id, type: 'function' as const, function: { name, arguments: args } });

describe('toAnthropicMessages', () => {
  const cases: Array<{ name: string; in: ChatMessage[]; out: ReturnType<typeof toAnthropicMessages> }> = [
    {
      name: 'system and developer messages become one system prompt',
      in: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: 'hi' },
      ],
      out: { system: 'Be brief.\n\nUse metric units.', messages: [{ role: 'user', content: 'hi' }] },
    },
    {
      name: 'tool calls become tool_use blocks after the text',
      in: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: 'Checking.', tool_calls: [call('t1', 'weather', '{"city":"Oslo"}')] },
      ],
      out: {
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: [
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 't1', name: 'weather', input: { city: 'Oslo' } },
            ],
          },
        ],
      },
    },
    {
      name: 'consecutive tool results merge into one user turn, before any user text',
      in: [
        { role: 'assistant', content: null, tool_calls: [call('a', 'f', '{}'), call('b', 'g', '')] },
        { role: 'tool', tool_call_id: 'a', content: 'A' },
        { role: 'tool', tool_call_id: 'b', content: '' },
        { role: 'user', content: 'and now?' },
      ],
      out: {
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'a', name: 'f', input: {} },
              { type: 'tool_use', id: 'b', name: 'g', input: {} },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'a', content: 'A' },
              { type: 'tool_result', tool_use_id: 'b' },
              { type: 'text', text: 'and now?' },
            ],
          },
        ],
      },
    },
    {
      name: 'text parts and images (data URL and URL); empty assistant turns are dropped',
      in: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
            { type: 'image_url', image_url: { url: 'https://x.test/a.jpg' } },
          ],
        },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'well?' },
      ],
      out: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
              { type: 'image', source: { type: 'url', url: 'https://x.test/a.jpg' } },
              { type: 'text', text: 'well?' },
            ],
          },
        ],
      },
    },
  ];
  for (const c of cases) it(c.name, () => expect(toAnthropicMessages(c.in)).toEqual(c.out));

  it.each([
    ['arguments that are not JSON', [{ role: 'assistant', content: null, tool_calls: [call('t', 'f', '{oops')] }]],
    ['arguments that are not an object', [{ role: 'assistant', content: null, tool_calls: [call('t', 'f', '[1]')] }]],
    ['a content part with no equivalent', [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }]],
  ] as Array<[string, ChatMessage[]]>)('refuses %s with a 400', (_name, messages) => {
    expect(() => toAnthropicMessages(messages)).toThrow(ProviderError);
    try {
      toAnthropicMessages(messages);
    } catch (error) {
      expect((error as ProviderError).status).toBe(400);
    }
  });
});

describe('toAnthropicRequest', () => {
  const base: ChatRequest = { model: 'claude-x', messages: [{ role: 'user', content: 'hi' }] };
  const tools = [
    { type: 'function' as const, function: { name: 'search', description: 'Search', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
  ];

  it.each<[string, Partial<ChatRequest>, boolean, Record<string, unknown>]>([
    ['max_tokens defaults when absent', {}, false, { max_tokens: DEFAULT_MAX_TOKENS }],
    ['max_completion_tokens wins over max_tokens', { max_tokens: 10, max_completion_tokens: 20 }, false, { max_tokens: 20 }],
    [
      'stop string, temperature, top_p, user',
      { stop: 'END', temperature: 0.2, top_p: 0.9, user: 'u1' },
      false,
      { stop_sequences: ['END'], temperature: 0.2, top_p: 0.9, metadata: { user_id: 'u1' } },
    ],
    ['stop array and stream', { stop: ['a', 'b'] }, true, { stop_sequences: ['a', 'b'], stream: true }],
    [
      'tools',
      { tools },
      false,
      { tools: [{ name: 'search', description: 'Search', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }] },
    ],
    [
      'tool_choice required, no parallel calls',
      { tools, tool_choice: 'required', parallel_tool_calls: false },
      false,
      { tool_choice: { type: 'any', disable_parallel_tool_use: true } },
    ],
    [
      'tool_choice by name',
      { tools, tool_choice: { type: 'function', function: { name: 'search' } } },
      false,
      { tool_choice: { type: 'tool', name: 'search' } },
    ],
  ])('%s', (_name, extra, stream, expected) => {
    expect(toAnthropicRequest({ ...base, ...extra }, stream)).toMatchObject(expected);
  });

  it('leaves out fields Anthropic does not know', () => {
    const out = toAnthropicRequest(
      { ...base, n: 1, seed: 3, frequency_penalty: 1, stream: true, stream_options: { include_usage: true }, response_format: { type: 'json_object' } },
      false,
    );
    expect(out).toEqual({ model: 'claude-x', max_tokens: DEFAULT_MAX_TOKENS, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('a tool without parameters gets an empty object schema', () => {
    const out = toAnthropicRequest({ ...base, tools: [{ type: 'function', function: { name: 'now' } }] }, false);
    expect(out.tools).toEqual([{ name: 'now', input_schema: { type: 'object', properties: {} } }]);
  });
});

describe('response translation', () => {
  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'stop'],
    [null, 'stop'],
  ])('stop_reason %s → %s', (reason, finish) => expect(toFinishReason(reason)).toBe(finish));

  it.each([
    [
      { input_tokens: 10, output_tokens: 5 },
      { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    ],
    [
      { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
      { prompt_tokens: 130, completion_tokens: 5, total_tokens: 135, prompt_tokens_details: { cached_tokens: 100 } },
    ],
    [
      { input_tokens: 3, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: null },
      { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, prompt_tokens_details: { cached_tokens: 0 } },
    ],
  ])('usage %j', (usage, expected) => expect(toChatUsage(usage)).toEqual(expected));

  it('a message with text and tool_use blocks', () => {
    const res = fromAnthropicMessage(
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-x',
        content: [
          { type: 'thinking', thinking: '…' },
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'budgets' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 7, output_tokens: 9 },
      },
      1700,
    );
    expect(res).toEqual({
      id: 'msg_1',
      object: 'chat.completion',
      created: 1700,
      model: 'claude-x',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me look.',
            tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'search', arguments: '{"q":"budgets"}' } }],
            refusal: null,
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 },
    });
  });

  it('only tool calls: content is null', () => {
    const res = fromAnthropicMessage(
      {
        id: 'm',
        type: 'message',
        role: 'assistant',
        model: 'c',
        content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }],
        stop_reason: 'tool_use',
        usage: {},
      },
      0,
    );
    expect(res.choices[0].message).toMatchObject({ content: null, tool_calls: [{ function: { arguments: '{}' } }] });
  });
});

describe('AnthropicStreamTranslator', () => {
  function run(events: Array<Record<string, unknown>>): { chunks: ChatChunk[]; done: boolean } {
    const t = new AnthropicStreamTranslator(1700, 'requested-model');
    const chunks = events.map((e) => t.next(e)).filter((c): c is ChatChunk => c !== undefined);
    return { chunks, done: t.done };
  }
  const start = {
    type: 'message_start',
    message: { id: 'msg_9', model: 'claude-x', usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 4 } },
  };

  it('text, then two tools with stable indexes, finish and usage', () => {
    const { chunks, done } = run([
      start,
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_a', name: 'search', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"x"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_b', name: 'now', input: {} } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } },
      { type: 'message_stop' },
    ]);
    expect(done).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta ?? null)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hi' },
      { tool_calls: [{ index: 0, id: 'toolu_a', type: 'function', function: { name: 'search', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] },
      { tool_calls: [{ index: 1, id: 'toolu_b', type: 'function', function: { name: 'now', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{}' } }] },
      {},
      null,
    ]);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toEqual({
      id: 'msg_9',
      object: 'chat.completion.chunk',
      created: 1700,
      model: 'claude-x',
      choices: [],
      usage: { prompt_tokens: 16, completion_tokens: 30, total_tokens: 46, prompt_tokens_details: { cached_tokens: 4 } },
    });
    expect(chunks.every((c) => c.id === 'msg_9' && c.model === 'claude-x')).toBe(true);
  });

  it('skips thinking blocks and unknown events', () => {
    const { chunks } = run([
      start,
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'something_new' },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'ok' } },
      { type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 2 } },
      { type: 'message_stop' },
    ]);
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'ok', undefined, undefined]);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('length');
  });
});
