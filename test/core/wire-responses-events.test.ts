/**
 * src/core/wire/responses-events.ts: ResponsesEncoder (chat chunks as the Responses API's stream
 * events, payloads and sequence numbers exactly) and eventToChunk (an upstream's Responses events
 * as the chat chunks fmguard meters).
 */
import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../src/core/chat.ts';
import { eventToChunk, ResponsesEncoder } from '../../src/core/wire/responses-events.ts';
import type { ResponseEnvelope } from '../../src/core/wire/responses-output.ts';
import { emptyResponse } from './wire-responses-fixtures.ts';

/** An envelope whose item ids count up per call: `msg_0`, `fc_1`, … */
function envelope(request: Record<string, unknown> = {}): ResponseEnvelope {
  let n = 0;
  return { ids: { response: 'resp_1', item: (prefix) => `${prefix}_${n++}` }, createdAt: 1700, model: 'gpt-x', request };
}

type Delta = ChatChunk['choices'][number]['delta'];
type Finish = ChatChunk['choices'][number]['finish_reason'];

function chunk(delta: Delta, finish: Finish = null): ChatChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] };
}

const part = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] });
const msg = (id: string, text: string | null) =>
  text === null
    ? { id, type: 'message', status: 'in_progress', role: 'assistant', content: [] }
    : { id, type: 'message', status: 'completed', role: 'assistant', content: [part(text)] };
const fc = (id: string, callId: string, name: string, args: string | null) => ({
  id,
  type: 'function_call',
  status: args === null ? 'in_progress' : 'completed',
  call_id: callId,
  name,
  arguments: args ?? '',
});

describe('ResponsesEncoder: a text run, then a function call', () => {
  it('every event, payload and sequence number, in order', () => {
    const encoder = new ResponsesEncoder(envelope());
    const started = encoder.start();
    expect(started).toStrictEqual([
      { type: 'response.created', sequence_number: 0, response: emptyResponse('in_progress', []) },
      { type: 'response.in_progress', sequence_number: 1, response: emptyResponse('in_progress', []) },
    ]);
    expect(encoder.chunk(chunk({ role: 'assistant', content: 'Hel' }))).toStrictEqual([
      { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: msg('msg_0', null) },
      { type: 'response.content_part.added', sequence_number: 3, item_id: 'msg_0', output_index: 0, content_index: 0, part: part('') },
      { type: 'response.output_text.delta', sequence_number: 4, item_id: 'msg_0', output_index: 0, content_index: 0, delta: 'Hel', logprobs: [] },
    ]);
    expect(encoder.chunk(chunk({ content: 'lo' }))).toStrictEqual([
      { type: 'response.output_text.delta', sequence_number: 5, item_id: 'msg_0', output_index: 0, content_index: 0, delta: 'lo', logprobs: [] },
    ]);
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"q"' } }] }))).toStrictEqual(
      [
        { type: 'response.output_text.done', sequence_number: 6, item_id: 'msg_0', output_index: 0, content_index: 0, text: 'Hello', logprobs: [] },
        { type: 'response.content_part.done', sequence_number: 7, item_id: 'msg_0', output_index: 0, content_index: 0, part: part('Hello') },
        { type: 'response.output_item.done', sequence_number: 8, output_index: 0, item: msg('msg_0', 'Hello') },
        { type: 'response.output_item.added', sequence_number: 9, output_index: 1, item: fc('fc_1', 'call_1', 'search', null) },
        { type: 'response.function_call_arguments.delta', sequence_number: 10, item_id: 'fc_1', output_index: 1, delta: '{"q"' },
      ],
    );
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, 'tool_calls'))).toStrictEqual([
      { type: 'response.function_call_arguments.delta', sequence_number: 11, item_id: 'fc_1', output_index: 1, delta: ':1}' },
    ]);
    expect(encoder.end({ inputTokens: 5, outputTokens: 3, cachedInputTokens: 1 })).toStrictEqual([
      { type: 'response.function_call_arguments.done', sequence_number: 12, item_id: 'fc_1', output_index: 1, name: 'search', arguments: '{"q":1}' },
      { type: 'response.output_item.done', sequence_number: 13, output_index: 1, item: fc('fc_1', 'call_1', 'search', '{"q":1}') },
      {
        type: 'response.completed',
        sequence_number: 14,
        response: emptyResponse('completed', [msg('msg_0', 'Hello'), fc('fc_1', 'call_1', 'search', '{"q":1}')], {
          usage: {
            input_tokens: 5,
            input_tokens_details: { cached_tokens: 1 },
            output_tokens: 3,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: 8,
          },
        }),
      },
    ]);
  });

  it('the response events echo the request', () => {
    const encoder = new ResponsesEncoder(envelope({ instructions: 'I', temperature: 0.5 }));
    expect(encoder.start()[0]).toStrictEqual({
      type: 'response.created',
      sequence_number: 0,
      response: emptyResponse('in_progress', [], { instructions: 'I', temperature: 0.5 }),
    });
  });
});

describe('ResponsesEncoder: calls, then text', () => {
  it('calls open in order with defaults for a missing id and name; empty arguments send no delta; text after them is a new item, closed first', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.start();
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }, { index: 1 }] }))).toStrictEqual([
      { type: 'response.output_item.added', sequence_number: 2, output_index: 0, item: fc('fc_0', 'a', 'f', null) },
      { type: 'response.output_item.added', sequence_number: 3, output_index: 1, item: fc('fc_1', '', '', null) },
    ]);
    expect(
      encoder.chunk(
        chunk({
          tool_calls: [
            { index: 1, function: { arguments: '' } },
            { index: 0, function: { arguments: '{}' } },
          ],
        }),
      ),
    ).toStrictEqual([{ type: 'response.function_call_arguments.delta', sequence_number: 4, item_id: 'fc_0', output_index: 0, delta: '{}' }]);
    expect(encoder.chunk(chunk({ content: 'tail' }, 'length'))).toStrictEqual([
      { type: 'response.output_item.added', sequence_number: 5, output_index: 2, item: msg('msg_2', null) },
      { type: 'response.content_part.added', sequence_number: 6, item_id: 'msg_2', output_index: 2, content_index: 0, part: part('') },
      { type: 'response.output_text.delta', sequence_number: 7, item_id: 'msg_2', output_index: 2, content_index: 0, delta: 'tail', logprobs: [] },
    ]);
    // A later chunk without a finish reason keeps the one seen.
    expect(encoder.chunk(chunk({}, null))).toStrictEqual([]);
    expect(encoder.end(undefined)).toStrictEqual([
      { type: 'response.output_text.done', sequence_number: 8, item_id: 'msg_2', output_index: 2, content_index: 0, text: 'tail', logprobs: [] },
      { type: 'response.content_part.done', sequence_number: 9, item_id: 'msg_2', output_index: 2, content_index: 0, part: part('tail') },
      { type: 'response.output_item.done', sequence_number: 10, output_index: 2, item: msg('msg_2', 'tail') },
      { type: 'response.function_call_arguments.done', sequence_number: 11, item_id: 'fc_0', output_index: 0, name: 'f', arguments: '{}' },
      { type: 'response.output_item.done', sequence_number: 12, output_index: 0, item: fc('fc_0', 'a', 'f', '{}') },
      { type: 'response.function_call_arguments.done', sequence_number: 13, item_id: 'fc_1', output_index: 1, name: '', arguments: '' },
      { type: 'response.output_item.done', sequence_number: 14, output_index: 1, item: fc('fc_1', '', '', '') },
      {
        type: 'response.incomplete',
        sequence_number: 15,
        response: emptyResponse('incomplete', [fc('fc_0', 'a', 'f', '{}'), fc('fc_1', '', '', ''), msg('msg_2', 'tail')], {
          incomplete_details: { reason: 'max_output_tokens' },
        }),
      },
    ]);
  });

  it('arguments for an open call leave the text run open; the run goes on in the same item', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '[' } }] }));
    encoder.chunk(chunk({ content: 'x' }));
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: ']' } }] }))).toStrictEqual([
      { type: 'response.function_call_arguments.delta', sequence_number: 5, item_id: 'fc_0', output_index: 0, delta: ']' },
    ]);
    expect(encoder.chunk(chunk({ content: 'y' }))).toStrictEqual([
      { type: 'response.output_text.delta', sequence_number: 6, item_id: 'msg_1', output_index: 1, content_index: 0, delta: 'y', logprobs: [] },
    ]);
    const ended = encoder.end(undefined);
    expect(ended.map((e) => [e.type, e.sequence_number, e.output_index])).toStrictEqual([
      ['response.output_text.done', 7, 1],
      ['response.content_part.done', 8, 1],
      ['response.output_item.done', 9, 1],
      ['response.function_call_arguments.done', 10, 0],
      ['response.output_item.done', 11, 0],
      ['response.completed', 12, undefined],
    ]);
    expect(ended.at(-1)!.response).toStrictEqual(emptyResponse('completed', [fc('fc_0', 'a', 'f', '[]'), msg('msg_1', 'xy')]));
  });

  it('a call at a new index closes the text run before it', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }] }));
    encoder.chunk(chunk({ content: 'x' }));
    expect(encoder.chunk(chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'g', arguments: '{}' } }] })).map((e) => e.type)).toStrictEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
    ]);
    expect(encoder.end(undefined).at(-1)!.response).toStrictEqual(
      emptyResponse('completed', [fc('fc_0', 'a', 'f', ''), msg('msg_1', 'x'), fc('fc_2', 'b', 'g', '{}')]),
    );
  });
});

describe('ResponsesEncoder: chunks that add nothing', () => {
  it('no first choice, no delta, empty or null content: no events and no sequence numbers used', () => {
    const encoder = new ResponsesEncoder(envelope());
    const noChoices = { id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm' } as unknown as ChatChunk;
    expect(encoder.chunk(noChoices)).toStrictEqual([]);
    expect(
      encoder.chunk({ ...chunk({ content: 'other' }, 'length'), choices: [{ index: 1, delta: { content: 'other' }, finish_reason: 'length' }] }),
    ).toStrictEqual([]);
    expect(encoder.chunk({ ...chunk({}), choices: [{ index: 0, finish_reason: null }] } as unknown as ChatChunk)).toStrictEqual([]);
    expect(encoder.chunk(chunk({ content: '' }))).toStrictEqual([]);
    expect(encoder.chunk(chunk({ content: null }))).toStrictEqual([]);
    expect(encoder.chunk(chunk({ tool_calls: [] }))).toStrictEqual([]);
    // The finish reason of another choice was not taken: the response completes.
    expect(encoder.end(undefined)).toStrictEqual([{ type: 'response.completed', sequence_number: 0, response: emptyResponse('completed', []) }]);
  });

  it('only the choice at index 0 is read, wherever it is in the list', () => {
    const encoder = new ResponsesEncoder(envelope());
    const both: ChatChunk = {
      ...chunk({}),
      choices: [
        { index: 1, delta: { content: 'B' }, finish_reason: null },
        { index: 0, delta: { content: 'A' }, finish_reason: null },
      ],
    };
    expect(encoder.chunk(both).at(-1)).toStrictEqual({
      type: 'response.output_text.delta',
      sequence_number: 2,
      item_id: 'msg_0',
      output_index: 0,
      content_index: 0,
      delta: 'A',
      logprobs: [],
    });
  });
});

describe('ResponsesEncoder: how a stream ends', () => {
  it('a content filter ends incomplete with its reason, usage counted', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.chunk(chunk({}, 'content_filter'));
    expect(encoder.end({ inputTokens: 2, outputTokens: 0 })).toStrictEqual([
      {
        type: 'response.incomplete',
        sequence_number: 0,
        response: emptyResponse('incomplete', [], {
          incomplete_details: { reason: 'content_filter' },
          usage: {
            input_tokens: 2,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens: 0,
            output_tokens_details: { reasoning_tokens: 0 },
            total_tokens: 2,
          },
        }),
      },
    ]);
  });

  it('a stop finish completes', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.chunk(chunk({ content: 'a' }, 'stop'));
    expect(encoder.end(undefined).at(-1)).toStrictEqual({
      type: 'response.completed',
      sequence_number: 6,
      response: emptyResponse('completed', [msg('msg_0', 'a')]),
    });
  });

  it('a failure reports the items so far, those it cut incomplete with what came (were empty), then an error event', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.start();
    encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f', arguments: '{' } }] }));
    encoder.chunk(chunk({ content: 'x' }));
    encoder.chunk(chunk({ content: 'yz' }));
    const error = { type: 'fmguard_error', code: 'budget.exceeded', details: { limit: 1 } };
    const cutCall = { ...fc('fc_0', 'a', 'f', '{'), status: 'incomplete' };
    const cutText = { ...msg('msg_1', 'xyz'), status: 'incomplete' };
    expect(encoder.fail({ code: 'budget.exceeded', message: 'over budget', param: null, error })).toStrictEqual([
      {
        type: 'response.failed',
        sequence_number: 8,
        response: emptyResponse('failed', [cutCall, cutText], { error: { code: 'budget.exceeded', message: 'over budget' } }),
      },
      { type: 'error', sequence_number: 9, code: 'budget.exceeded', message: 'over budget', param: null, error },
    ]);
  });

  it('a failure before any output has an empty output list and carries the param', () => {
    const encoder = new ResponsesEncoder(envelope());
    expect(encoder.fail({ code: 'c', message: 'm', param: 'p', error: {} })).toStrictEqual([
      { type: 'response.failed', sequence_number: 0, response: emptyResponse('failed', [], { error: { code: 'c', message: 'm' } }) },
      { type: 'error', sequence_number: 1, code: 'c', message: 'm', param: 'p', error: {} },
    ]);
  });

  it('a second end has no open items left to close', () => {
    const encoder = new ResponsesEncoder(envelope());
    encoder.chunk(chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'f' } }] }));
    encoder.end(undefined);
    expect(encoder.end(undefined)).toStrictEqual([
      { type: 'response.completed', sequence_number: 4, response: emptyResponse('completed', [fc('fc_0', 'a', 'f', '')]) },
    ]);
  });
});

describe('eventToChunk', () => {
  const base = (native: unknown) => ({ id: '', object: 'chat.completion.chunk', created: 0, model: '', native });

  it('a text delta is content; a non-string delta is empty content', () => {
    const e = { type: 'response.output_text.delta', delta: 'hi', output_index: 3 };
    expect(eventToChunk(e)).toStrictEqual({ ...base(e), choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] });
    const bad = { type: 'response.output_text.delta', delta: 5 };
    expect(eventToChunk(bad)).toStrictEqual({ ...base(bad), choices: [{ index: 0, delta: { content: '' }, finish_reason: null }] });
  });

  it('an arguments delta is a tool-call delta at the output index (0 when missing or not a number)', () => {
    const e = { type: 'response.function_call_arguments.delta', delta: '{"a"', output_index: 2 };
    expect(eventToChunk(e)).toStrictEqual({
      ...base(e),
      choices: [{ index: 0, delta: { tool_calls: [{ index: 2, function: { arguments: '{"a"' } }] }, finish_reason: null }],
    });
    const loose = { type: 'response.function_call_arguments.delta', delta: 1, output_index: 'x' };
    expect(eventToChunk(loose)).toStrictEqual({
      ...base(loose),
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '' } }] }, finish_reason: null }],
    });
    const numeric = { type: 'response.function_call_arguments.delta', delta: '', output_index: '4' };
    expect(eventToChunk(numeric).choices[0]!.delta.tool_calls![0]!.index).toBe(4);
  });

  it('an added function_call item opens a tool call with its id and name', () => {
    const e = { type: 'response.output_item.added', output_index: 1, item: { type: 'function_call', call_id: 'c', name: 'f', arguments: '' } };
    expect(eventToChunk(e)).toStrictEqual({
      ...base(e),
      choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: 'c', type: 'function', function: { name: 'f' } }] }, finish_reason: null }],
    });
    const bare = { type: 'response.output_item.added', item: { type: 'function_call', call_id: 7 } };
    expect(eventToChunk(bare)).toStrictEqual({
      ...base(bare),
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: '7', type: 'function', function: { name: '' } }] }, finish_reason: null }],
    });
    const nulls = { type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', call_id: null, name: null } };
    expect(eventToChunk(nulls).choices[0]!.delta.tool_calls![0]).toStrictEqual({ index: 0, id: '', type: 'function', function: { name: '' } });
  });

  it('other added items, and an added event without an item, are empty chunks', () => {
    const message = { type: 'response.output_item.added', output_index: 0, item: { type: 'message' } };
    expect(eventToChunk(message)).toStrictEqual({ ...base(message), choices: [] });
    const none = { type: 'response.output_item.added', output_index: 0 };
    expect(eventToChunk(none)).toStrictEqual({ ...base(none), choices: [] });
  });

  it('completed, incomplete and failed carry the final usage when there is one', () => {
    for (const type of ['response.completed', 'response.incomplete', 'response.failed']) {
      const e = { type, response: { usage: { input_tokens: 3, output_tokens: 4, input_tokens_details: { cached_tokens: 2 } } } };
      expect(eventToChunk(e)).toStrictEqual({
        ...base(e),
        choices: [],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 2 } },
      });
    }
    const noUsage = { type: 'response.completed', response: { usage: null } };
    expect(eventToChunk(noUsage)).toStrictEqual({ ...base(noUsage), choices: [] });
    const noResponse = { type: 'response.completed', response: 'x' };
    expect(eventToChunk(noResponse)).toStrictEqual({ ...base(noResponse), choices: [] });
    const bare = { type: 'response.failed' };
    expect(eventToChunk(bare)).toStrictEqual({ ...base(bare), choices: [] });
  });

  it('any other event, or a value that is not an event, is an empty chunk with it as native', () => {
    const done = { type: 'response.output_text.done', text: 'x', delta: 'x' };
    expect(eventToChunk(done)).toStrictEqual({ ...base(done), choices: [] });
    expect(eventToChunk('response.output_text.delta')).toStrictEqual({ ...base('response.output_text.delta'), choices: [] });
    expect(eventToChunk(null)).toStrictEqual({ ...base(null), choices: [] });
  });
});
