import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../src/core/chat.ts';
import { MessagesEncoder } from '../../src/core/wire/messages-output.ts';
import { parseMessagesRequest } from '../../src/core/wire/messages-request.ts';
import { eventToChunk, ResponsesEncoder } from '../../src/core/wire/responses-events.ts';
import { type ResponseEnvelope, responseToChat } from '../../src/core/wire/responses-output.ts';
import { parseResponsesRequest } from '../../src/core/wire/responses-request.ts';

/** The pure shape mappings behind /v1/responses and /v1/messages (the routes' tests drive them with the official clients). */
const any = () => true;

function chunk(delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] };
}

describe('Responses API request → chat view', () => {
  it('instructions, messages, function calls (one assistant turn, joined to its text), outputs, images; reasoning dropped', () => {
    const { chat, stream } = parseResponsesRequest(
      {
        model: 'm',
        instructions: 'Be brief.',
        stream: true,
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_text', text: 'look ' },
              { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' },
            ],
          },
          { type: 'reasoning', id: 'rs_1', summary: [] },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
          { type: 'function_call', call_id: 'a', name: 'search', arguments: '{"q":1}' },
          { type: 'function_call', call_id: 'b', name: 'read', arguments: '{}' },
          { type: 'function_call_output', call_id: 'a', output: 'one' },
          { type: 'function_call_output', call_id: 'b', output: [{ type: 'input_text', text: 'two' }] },
        ],
        tools: [{ type: 'function', name: 'search', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'search' },
        max_output_tokens: 99,
        text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      },
      any,
    );
    expect(stream).toBe(true);
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look ' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'search', arguments: '{"q":1}' } },
          { id: 'b', type: 'function', function: { name: 'read', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: 'one' },
      { role: 'tool', tool_call_id: 'b', content: 'two' },
    ]);
    expect(chat).toMatchObject({
      max_tokens: 99,
      tools: [{ type: 'function', function: { name: 'search', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'search' } },
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
    });
  });
});

describe('Messages API request → chat view', () => {
  it('system blocks, tool_use as tool calls, tool results first (errors said in the text), images, tool_choice', () => {
    const { chat } = parseMessagesRequest(
      {
        model: 'm',
        max_tokens: 10,
        system: [
          { type: 'text', text: 'One.' },
          { type: 'text', text: 'Two.' },
        ],
        messages: [
          { role: 'user', content: 'find x' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: '…', signature: 's' },
              { type: 'text', text: 'Looking.' },
              { type: 'tool_use', id: 't1', name: 'search', input: { q: 'x' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'and this: ' },
              { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'no match' }], is_error: true },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA' } },
            ],
          },
        ],
        tools: [{ name: 'search', description: 'd', input_schema: { type: 'object' } }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        stop_sequences: ['END'],
      },
      any,
    );
    expect(chat.messages).toEqual([
      { role: 'system', content: 'One.\nTwo.' },
      { role: 'user', content: 'find x' },
      { role: 'assistant', content: 'Looking.', tool_calls: [{ id: 't1', type: 'function', function: { name: 'search', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 't1', content: '[tool error] no match' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'and this: ' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
        ],
      },
    ]);
    expect(chat).toMatchObject({ max_tokens: 10, tool_choice: 'required', parallel_tool_calls: false, stop: ['END'] });
    expect(chat.tools).toEqual([{ type: 'function', function: { name: 'search', description: 'd', parameters: { type: 'object' } } }]);
  });
});

describe('stream encoders', () => {
  const envelope: ResponseEnvelope = { ids: { response: 'resp_1', item: (p) => `${p}_x` }, createdAt: 1, model: 'm', request: {} };

  it('Responses: text then a function call; items numbered in order, closed before completed, usage last', () => {
    const encoder = new ResponsesEncoder(envelope);
    const events = [
      ...encoder.start(),
      ...encoder.chunk(chunk({ content: 'Hi' })),
      ...encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q"' } }] })),
      ...encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, 'tool_calls')),
      ...encoder.end({ inputTokens: 5, outputTokens: 3 }),
    ];
    expect(events.map((e) => `${e.type}${'output_index' in e ? `@${e.output_index}` : ''}`)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added@0',
      'response.content_part.added@0',
      'response.output_text.delta@0',
      'response.output_text.done@0',
      'response.content_part.done@0',
      'response.output_item.done@0',
      'response.output_item.added@1',
      'response.function_call_arguments.delta@1',
      'response.function_call_arguments.delta@1',
      'response.function_call_arguments.done@1',
      'response.output_item.done@1',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.at(-1)!.response).toMatchObject({
      status: 'completed',
      output: [
        { type: 'message', content: [{ type: 'output_text', text: 'Hi' }] },
        { type: 'function_call', call_id: 'call_1', name: 'search', arguments: '{"q":1}', status: 'completed' },
      ],
      usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 },
    });
  });

  it('Messages: a block per text run or tool call, stop reason and usage in message_delta', () => {
    const encoder = new MessagesEncoder({ id: 'msg_1', model: 'm' });
    const events = [
      ...encoder.start(),
      ...encoder.chunk(chunk({ content: 'Hi' })),
      ...encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 't', function: { name: 'search', arguments: '{}' } }] }, 'tool_calls')),
      ...encoder.end({ inputTokens: 7, outputTokens: 2, cachedInputTokens: 4 }),
    ];
    expect(events.map((e) => `${e.type}${'index' in e ? `@${e.index}` : ''}`)).toEqual([
      'message_start',
      'content_block_start@0',
      'content_block_delta@0',
      'content_block_stop@0',
      'content_block_start@1',
      'content_block_delta@1',
      'content_block_stop@1',
      'message_delta',
      'message_stop',
    ]);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { input_tokens: 3, cache_read_input_tokens: 4, output_tokens: 2 } });
  });
});

describe('the chat view of a passed-through response', () => {
  it('function calls, usage and the cap as a chat result, the object kept as native', () => {
    const native = {
      id: 'resp_1',
      output: [
        { type: 'reasoning', id: 'rs' },
        { type: 'function_call', call_id: 'c', name: 'search', arguments: '{}' },
      ],
      usage: { input_tokens: 4, output_tokens: 2, input_tokens_details: { cached_tokens: 1 } },
    };
    const chat = responseToChat(native);
    expect(chat.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { tool_calls: [{ id: 'c', function: { name: 'search' } }] } });
    expect(chat.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6, prompt_tokens_details: { cached_tokens: 1 } });
    expect(chat.native).toBe(native);
    expect(responseToChat({ output: [], incomplete_details: { reason: 'max_output_tokens' } }).choices[0]!.finish_reason).toBe('length');
    expect(eventToChunk({ type: 'response.output_text.delta', delta: 'x' }).choices[0]!.delta.content).toBe('x');
    expect(eventToChunk({ type: 'response.completed', response: { usage: { input_tokens: 1, output_tokens: 1 } } }).usage?.total_tokens).toBe(2);
  });
});
