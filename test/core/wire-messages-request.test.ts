import { describe, expect, it } from 'vitest';
import { GuardError } from '../../src/core/errors.ts';
import { parseMessagesRequest } from '../../src/core/wire/messages-request.ts';

/**
 * The Anthropic Messages API request as fmguard's chat view (core/wire/messages-request.ts): every
 * top-level field's mapping and default, the system prompt, user and assistant turns (text, images,
 * tool_use, tool_result, thinking), client tools and tool_choice, and the exact `request.invalid`
 * error for each refused shape.
 */

const any = () => true;

function invalidError(param: string, message: string) {
  return expect.objectContaining({ name: 'GuardError', code: 'request.invalid', message: `${param}: ${message}`, details: { param } });
}

/** A valid minimal body with `extra` fields over it. */
function body(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'm', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], ...extra };
}

const parse = (extra: Record<string, unknown> = {}) => parseMessagesRequest(body(extra), any);
const chatOf = (extra: Record<string, unknown> = {}) => parse(extra).chat;
/** The chat messages of a request with these turns (no system prompt). */
const turns = (messages: unknown[]) => chatOf({ messages }).messages;
const refuse = (extra: Record<string, unknown>) => () => parse(extra);
const refuseTurns = (messages: unknown[]) => refuse({ messages });

describe('parseMessagesRequest: the request', () => {
  it('a minimal request: model, max_tokens, one user turn, not streamed, the body kept as it came', () => {
    const input = body();
    const request = parseMessagesRequest(input, any);
    expect(request.body).toBe(input);
    expect(request.stream).toBe(false);
    expect(request.chat).toStrictEqual({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: false, max_tokens: 16 });
    expect(Object.keys(request)).toEqual(['chat', 'body', 'stream']);
  });

  it('refuses a body that is not a JSON object', () => {
    expect(() => parseMessagesRequest(null, any)).toThrow(invalidError('body', 'the request body must be a JSON object, got null'));
    expect(() => parseMessagesRequest([], any)).toThrow(invalidError('body', 'the request body must be a JSON object, got an array'));
    expect(() => parseMessagesRequest('{}', any)).toThrow(invalidError('body', 'the request body must be a JSON object, got a string'));
  });

  it('asks the configuration about the model and refuses an unknown or missing one', () => {
    const asked: string[] = [];
    parseMessagesRequest(body({ model: 'claude' }), (name) => {
      asked.push(name);
      return true;
    });
    expect(asked).toEqual(['claude']);
    expect(() => parseMessagesRequest(body(), () => false)).toThrow(
      expect.objectContaining({ code: 'request.invalid', message: 'unknown model "m"', details: { param: 'model' } }),
    );
    expect(refuse({ model: undefined })).toThrow(invalidError('model', 'expected a model name, got nothing'));
  });

  it('max_tokens is required: a positive integer', () => {
    expect(refuse({ max_tokens: undefined })).toThrow(invalidError('max_tokens', 'expected a positive integer (required)'));
    expect(refuse({ max_tokens: null })).toThrow(invalidError('max_tokens', 'expected a positive integer (required)'));
    expect(refuse({ max_tokens: 0 })).toThrow(invalidError('max_tokens', 'expected a number >= 1'));
    expect(refuse({ max_tokens: -4 })).toThrow(invalidError('max_tokens', 'expected a number >= 1'));
    expect(refuse({ max_tokens: 1.5 })).toThrow(invalidError('max_tokens', 'expected an integer'));
    expect(refuse({ max_tokens: '16' })).toThrow(invalidError('max_tokens', 'expected a number, got a string'));
    expect(chatOf({ max_tokens: 1 }).max_tokens).toBe(1);
  });

  it('stream: true streams (in the chat view too); false, null and absent do not; anything else is refused', () => {
    const streamed = parse({ stream: true });
    expect(streamed.stream).toBe(true);
    expect(streamed.chat.stream).toBe(true);
    for (const stream of [false, null, undefined]) {
      const request = parse({ stream });
      expect(request.stream).toBe(false);
      expect(request.chat.stream).toBe(false);
    }
    expect(refuse({ stream: 'true' })).toThrow(invalidError('stream', 'expected a boolean, got a string'));
    expect(refuse({ stream: 1 })).toThrow(invalidError('stream', 'expected a boolean, got a number'));
  });

  it('checks max_tokens before stream, and both before the messages', () => {
    expect(refuse({ max_tokens: 0, stream: 'x', messages: [] })).toThrow(invalidError('max_tokens', 'expected a number >= 1'));
    expect(refuse({ stream: 'x', messages: [] })).toThrow(invalidError('stream', 'expected a boolean, got a string'));
  });
});

describe('parseMessagesRequest: sampling, stops and metadata', () => {
  it('temperature and top_p: any number >= 0 is copied, 0 included; absent or null adds nothing', () => {
    expect(chatOf({ temperature: 0, top_p: 0 })).toStrictEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
      max_tokens: 16,
      temperature: 0,
      top_p: 0,
    });
    const chat = chatOf({ temperature: 0.7, top_p: 1.5 });
    expect(chat.temperature).toBe(0.7);
    expect(chat.top_p).toBe(1.5);
    expect(chatOf({ temperature: null, top_p: null })).toStrictEqual(chatOf());
  });

  it('temperature and top_p below 0 or not numbers are refused', () => {
    expect(refuse({ temperature: -0.1 })).toThrow(invalidError('temperature', 'expected a number >= 0'));
    expect(refuse({ temperature: 'hot' })).toThrow(invalidError('temperature', 'expected a number, got a string'));
    expect(refuse({ top_p: -1 })).toThrow(invalidError('top_p', 'expected a number >= 0'));
    expect(refuse({ top_p: true })).toThrow(invalidError('top_p', 'expected a number, got a boolean'));
  });

  it('stop_sequences become stop; an empty list, null or absence adds none', () => {
    expect(chatOf({ stop_sequences: ['END', ''] }).stop).toEqual(['END', '']);
    expect(chatOf({ stop_sequences: [] })).toStrictEqual(chatOf());
    expect(chatOf({ stop_sequences: null })).toStrictEqual(chatOf());
  });

  it('stop_sequences must be an array of strings', () => {
    expect(refuse({ stop_sequences: 'END' })).toThrow(invalidError('stop_sequences', 'expected an array, got a string'));
    expect(refuse({ stop_sequences: ['END', 1] })).toThrow(invalidError('stop_sequences', 'expected an array of strings'));
    expect(refuse({ stop_sequences: [null] })).toThrow(invalidError('stop_sequences', 'expected an array of strings'));
  });

  it('metadata.user_id becomes user when it is a string; anything else is ignored', () => {
    expect(chatOf({ metadata: { user_id: 'u-1' } }).user).toBe('u-1');
    expect(chatOf({ metadata: { user_id: '' } }).user).toBe('');
    expect(chatOf({ metadata: { user_id: 5 } })).toStrictEqual(chatOf());
    expect(chatOf({ metadata: {} })).toStrictEqual(chatOf());
    expect(chatOf({ metadata: 'u-1' })).toStrictEqual(chatOf());
    expect(chatOf({ metadata: null })).toStrictEqual(chatOf());
    expect(chatOf({ metadata: [{ user_id: 'u' }] })).toStrictEqual(chatOf());
  });

  it('a request with every option maps each to its chat field', () => {
    const chat = chatOf({
      system: 'S',
      stream: true,
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['X'],
      tools: [{ name: 't', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 't', disable_parallel_tool_use: true },
      metadata: { user_id: 'u' },
    });
    expect(chat).toStrictEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'hi' },
      ],
      stream: true,
      max_tokens: 16,
      temperature: 0.5,
      top_p: 0.9,
      stop: ['X'],
      tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 't' } },
      parallel_tool_calls: false,
      user: 'u',
    });
  });
});

describe('parseMessagesRequest: system', () => {
  it('a string system prompt is the first message', () => {
    expect(chatOf({ system: 'Be brief.' }).messages).toStrictEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('text blocks are joined by newlines into one system message', () => {
    const system = [
      { type: 'text', text: 'One.' },
      { type: 'text', text: 'Two.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Three.' },
    ];
    expect(chatOf({ system }).messages[0]).toStrictEqual({ role: 'system', content: 'One.\nTwo.\nThree.' });
  });

  it('no system message for an absent, null, empty or empty-list system prompt', () => {
    const plain = [{ role: 'user', content: 'hi' }];
    expect(chatOf({ system: undefined }).messages).toStrictEqual(plain);
    expect(chatOf({ system: null }).messages).toStrictEqual(plain);
    expect(chatOf({ system: '' }).messages).toStrictEqual(plain);
    expect(chatOf({ system: [] }).messages).toStrictEqual(plain);
    expect(chatOf({ system: [{ type: 'text', text: '' }] }).messages).toStrictEqual(plain);
  });

  it('refuses a system prompt that is neither a string nor text blocks', () => {
    expect(refuse({ system: 5 })).toThrow(invalidError('system', 'expected a string or an array of parts, got a number'));
    expect(refuse({ system: { type: 'text', text: 'x' } })).toThrow(invalidError('system', 'expected a string or an array of parts, got an object'));
    expect(refuse({ system: [{ type: 'text', text: 'a' }, 'b'] })).toThrow(invalidError('system[1]', 'expected an object, got a string'));
    expect(refuse({ system: [{ type: 'text', text: 'a' }, { type: 'image' }] })).toThrow(invalidError('system[1].type', 'expected a text block'));
    expect(refuse({ system: [{ text: 'a' }] })).toThrow(invalidError('system[0].type', 'expected a text block'));
    expect(refuse({ system: [{ type: 'text' }] })).toThrow(invalidError('system[0].text', 'expected a string, got nothing'));
    expect(refuse({ system: [{ type: 'text', text: 1 }] })).toThrow(invalidError('system[0].text', 'expected a string, got a number'));
  });
});

describe('parseMessagesRequest: messages', () => {
  it('refuses messages that are missing, not a list, or empty', () => {
    expect(refuse({ messages: undefined })).toThrow(invalidError('messages', 'expected an array, got nothing'));
    expect(refuse({ messages: 'hi' })).toThrow(invalidError('messages', 'expected an array, got a string'));
    expect(refuse({ messages: [] })).toThrow(invalidError('messages', 'expected at least one message'));
  });

  it('refuses a turn that is not an object, or whose role is not user or assistant, naming its index', () => {
    expect(refuseTurns([{ role: 'user', content: 'a' }, 'b'])).toThrow(invalidError('messages[1]', 'expected an object, got a string'));
    expect(refuseTurns([null])).toThrow(invalidError('messages[0]', 'expected an object, got null'));
    expect(
      refuseTurns([
        { role: 'user', content: 'a' },
        { role: 'system', content: 'b' },
      ]),
    ).toThrow(invalidError('messages[1].role', 'expected "user" or "assistant"'));
    expect(refuseTurns([{ content: 'a' }])).toThrow(invalidError('messages[0].role', 'expected "user" or "assistant"'));
    expect(refuseTurns([{ role: 'tool', content: 'a' }])).toThrow(invalidError('messages[0].role', 'expected "user" or "assistant"'));
  });

  it('string content is the turn as it is, for either role, the empty string included', () => {
    expect(
      turns([
        { role: 'user', content: 'a' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: '' },
        { role: 'assistant', content: '' },
      ]),
    ).toStrictEqual([
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'user', content: '' },
      { role: 'assistant', content: '' },
    ]);
  });

  it('refuses content that is neither a string nor a list of block objects, naming the block', () => {
    expect(refuseTurns([{ role: 'user', content: 5 }])).toThrow(invalidError('messages[0].content', 'expected a string or an array of parts, got a number'));
    expect(refuseTurns([{ role: 'user', content: 'a' }, { role: 'assistant' }])).toThrow(
      invalidError('messages[1].content', 'expected a string or an array of parts, got nothing'),
    );
    expect(refuseTurns([{ role: 'user', content: [{ type: 'text', text: 'a' }, 7] }])).toThrow(
      invalidError('messages[0].content[1]', 'expected an object, got a number'),
    );
    expect(refuseTurns([{ role: 'assistant', content: [[]] }])).toThrow(invalidError('messages[0].content[0]', 'expected an object, got an array'));
  });
});

describe('parseMessagesRequest: assistant turns', () => {
  const assistant = (content: unknown[]) =>
    turns([
      { role: 'user', content: 'q' },
      { role: 'assistant', content },
    ])[1];
  const refuseAssistant = (content: unknown[]) =>
    refuseTurns([
      { role: 'user', content: 'q' },
      { role: 'assistant', content },
    ]);

  it('text blocks are concatenated without separator; no tool_calls field without tool_use', () => {
    expect(
      assistant([
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ]),
    ).toStrictEqual({ role: 'assistant', content: 'ab' });
  });

  it('an empty block list is an empty assistant text', () => {
    expect(assistant([])).toStrictEqual({ role: 'assistant', content: '' });
  });

  it('thinking and redacted_thinking blocks are dropped', () => {
    expect(
      assistant([
        { type: 'thinking', thinking: 't', signature: 's' },
        { type: 'text', text: 'x' },
        { type: 'redacted_thinking', data: 'd' },
      ]),
    ).toStrictEqual({ role: 'assistant', content: 'x' });
  });

  it('tool_use blocks become tool calls in order, with their input as JSON text', () => {
    expect(
      assistant([
        { type: 'text', text: 'Looking.' },
        { type: 'tool_use', id: 't1', name: 'search', input: { q: 'x', n: 2 } },
        { type: 'tool_use', id: 't2', name: 'read', input: ['a'] },
      ]),
    ).toStrictEqual({
      role: 'assistant',
      content: 'Looking.',
      tool_calls: [
        { id: 't1', type: 'function', function: { name: 'search', arguments: '{"q":"x","n":2}' } },
        { id: 't2', type: 'function', function: { name: 'read', arguments: '["a"]' } },
      ],
    });
  });

  it('a turn of tool calls only has null content; a missing or null input is {}', () => {
    expect(
      assistant([
        { type: 'tool_use', id: 't1', name: 'a' },
        { type: 'tool_use', id: 't2', name: 'b', input: null },
        { type: 'thinking', thinking: '' },
      ]),
    ).toStrictEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 't1', type: 'function', function: { name: 'a', arguments: '{}' } },
        { id: 't2', type: 'function', function: { name: 'b', arguments: '{}' } },
      ],
    });
    expect(
      assistant([
        { type: 'text', text: '' },
        { type: 'tool_use', id: 't', name: 'a', input: {} },
      ]),
    ).toStrictEqual({ role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'a', arguments: '{}' } }] });
  });

  it('refuses a text block without text and a tool_use without id or name, naming the field', () => {
    expect(refuseAssistant([{ type: 'text', text: 'a' }, { type: 'text' }])).toThrow(
      invalidError('messages[1].content[1].text', 'expected a string, got nothing'),
    );
    expect(refuseAssistant([{ type: 'tool_use', name: 'a' }])).toThrow(invalidError('messages[1].content[0].id', 'expected a string, got nothing'));
    expect(refuseAssistant([{ type: 'tool_use', id: 't', name: 3 }])).toThrow(invalidError('messages[1].content[0].name', 'expected a string, got a number'));
  });

  it('refuses any other block type, quoting it', () => {
    expect(
      refuseAssistant([
        { type: 'text', text: 'a' },
        { type: 'image', source: {} },
      ]),
    ).toThrow(invalidError('messages[1].content[1].type', 'assistant blocks of type "image" are not supported (text, tool_use, thinking)'));
    expect(refuseAssistant([{ type: 'tool_result', tool_use_id: 't' }])).toThrow(
      invalidError('messages[1].content[0].type', 'assistant blocks of type "tool_result" are not supported (text, tool_use, thinking)'),
    );
    expect(refuseAssistant([{ text: 'a' }])).toThrow(
      invalidError('messages[1].content[0].type', 'assistant blocks of type undefined are not supported (text, tool_use, thinking)'),
    );
  });
});

describe('parseMessagesRequest: user turns', () => {
  it('text blocks only: one user message of the texts concatenated', () => {
    expect(
      turns([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a ' },
            { type: 'text', text: 'b' },
          ],
        },
      ]),
    ).toStrictEqual([{ role: 'user', content: 'a b' }]);
  });

  it('text with an image: content parts in order', () => {
    expect(
      turns([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image', source: { type: 'url', url: 'https://x/y.png' } },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'QUJD' } },
          ],
        },
      ]),
    ).toStrictEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } },
        ],
      },
    ]);
  });

  it('an image alone is a one-part user message', () => {
    expect(turns([{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'u' } }] }])).toStrictEqual([
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'u' } }] },
    ]);
  });

  it('refuses a user turn with no blocks, as Anthropic does (it was dropped without a word)', () => {
    expect(
      refuseTurns([
        { role: 'user', content: [] },
        { role: 'user', content: 'x' },
      ]),
    ).toThrow(invalidError('messages[0].content', 'expected at least one content block'));
    expect(refuseTurns([{ role: 'user', content: [] }])).toThrow(invalidError('messages[0].content', 'expected at least one content block'));
  });

  it('tool results become tool messages ahead of the turn’s other content, whatever the block order', () => {
    expect(
      turns([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'and ' },
            { type: 'tool_result', tool_use_id: 't1', content: 'one' },
            { type: 'text', text: 'this' },
            { type: 'tool_result', tool_use_id: 't2', content: 'two' },
          ],
        },
      ]),
    ).toStrictEqual([
      { role: 'tool', tool_call_id: 't1', content: 'one' },
      { role: 'tool', tool_call_id: 't2', content: 'two' },
      { role: 'user', content: 'and this' },
    ]);
  });

  it('tool results alone add no user message', () => {
    expect(turns([{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'one' }] }])).toStrictEqual([
      { role: 'tool', tool_call_id: 't1', content: 'one' },
    ]);
  });

  it('tool result content: absent or null is empty, text parts are joined, other parts kept as JSON', () => {
    const result = (block: Record<string, unknown>) => turns([{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', ...block }] }])[0];
    expect(result({})).toStrictEqual({ role: 'tool', tool_call_id: 't', content: '' });
    expect(result({ content: null })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: '' });
    expect(result({ content: '' })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: '' });
    expect(result({ content: [] })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: '' });
    expect(
      result({
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      }),
    ).toStrictEqual({ role: 'tool', tool_call_id: 't', content: 'ab' });
    expect(
      result({
        content: [
          { type: 'text', text: 'a' },
          { type: 'image', source: { type: 'url', url: 'u' } },
          { type: 'text', text: 5 },
          { type: 'other', text: 'c' },
          'raw',
          null,
        ],
      }),
    ).toStrictEqual({
      role: 'tool',
      tool_call_id: 't',
      content: 'a{"type":"image","source":{"type":"url","url":"u"}}{"type":"text","text":5}{"type":"other","text":"c"}"raw"null',
    });
  });

  it('an error result says so in its text; only is_error === true counts', () => {
    const result = (block: Record<string, unknown>) => turns([{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', ...block }] }])[0];
    expect(result({ content: 'boom', is_error: true })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: '[tool error] boom' });
    expect(result({ is_error: true })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: '[tool error] ' });
    expect(result({ content: [{ type: 'text', text: 'x' }], is_error: true })).toStrictEqual({
      role: 'tool',
      tool_call_id: 't',
      content: '[tool error] x',
    });
    expect(result({ content: 'ok', is_error: false })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: 'ok' });
    expect(result({ content: 'ok', is_error: 'true' })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: 'ok' });
    expect(result({ content: 'ok', is_error: 1 })).toStrictEqual({ role: 'tool', tool_call_id: 't', content: 'ok' });
  });

  it('refuses a tool result without tool_use_id, or with content that is neither text nor a list', () => {
    expect(
      refuseTurns([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'tool_result', content: 'x' },
          ],
        },
      ]),
    ).toThrow(invalidError('messages[0].content[1].tool_use_id', 'expected a string, got nothing'));
    expect(refuseTurns([{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 5 }] }])).toThrow(
      invalidError('messages[0].content[0].content', 'expected a string or an array of parts, got a number'),
    );
    expect(refuseTurns([{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: { type: 'text', text: 'x' } }] }])).toThrow(
      invalidError('messages[0].content[0].content', 'expected a string or an array of parts, got an object'),
    );
  });

  it('refuses a text block without text', () => {
    expect(refuseTurns([{ role: 'user', content: [{ type: 'text', text: null }] }])).toThrow(
      invalidError('messages[0].content[0].text', 'expected a string, got null'),
    );
  });

  it('refuses images without a usable source, naming the field', () => {
    const refuseImage = (image: Record<string, unknown>) =>
      refuseTurns([
        { role: 'user', content: 'a' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'b' },
            { type: 'image', ...image },
          ],
        },
      ]);
    expect(refuseImage({})).toThrow(invalidError('messages[1].content[1].source', 'expected an object, got nothing'));
    expect(refuseImage({ source: 'u' })).toThrow(invalidError('messages[1].content[1].source', 'expected an object, got a string'));
    expect(refuseImage({ source: { type: 'url' } })).toThrow(invalidError('messages[1].content[1].source.url', 'expected a string, got nothing'));
    expect(refuseImage({ source: { type: 'base64', data: 'AA' } })).toThrow(
      invalidError('messages[1].content[1].source.media_type', 'expected a string, got nothing'),
    );
    expect(refuseImage({ source: { type: 'base64', media_type: 'image/png' } })).toThrow(
      invalidError('messages[1].content[1].source.data', 'expected a string, got nothing'),
    );
    expect(refuseImage({ source: { type: 'file', file_id: 'f' } })).toThrow(invalidError('messages[1].content[1].source.type', 'expected "base64" or "url"'));
    expect(refuseImage({ source: { url: 'u' } })).toThrow(invalidError('messages[1].content[1].source.type', 'expected "base64" or "url"'));
  });

  it('refuses any other block type, quoting it', () => {
    expect(
      refuseTurns([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'a' },
            { type: 'document', source: {} },
          ],
        },
      ]),
    ).toThrow(invalidError('messages[0].content[1].type', 'user blocks of type "document" are not supported (text, image, tool_result)'));
    expect(refuseTurns([{ role: 'user', content: [{ type: 'tool_use', id: 'x', name: 'y' }] }])).toThrow(
      invalidError('messages[0].content[0].type', 'user blocks of type "tool_use" are not supported (text, image, tool_result)'),
    );
    expect(refuseTurns([{ role: 'user', content: [{ type: 'thinking', thinking: 't' }] }])).toThrow(
      invalidError('messages[0].content[0].type', 'user blocks of type "thinking" are not supported (text, image, tool_result)'),
    );
    expect(refuseTurns([{ role: 'user', content: [{}] }])).toThrow(
      invalidError('messages[0].content[0].type', 'user blocks of type undefined are not supported (text, image, tool_result)'),
    );
  });

  it('a conversation keeps the turns in order, tool messages right after the assistant turn that called', () => {
    expect(
      chatOf({
        system: 'S',
        messages: [
          { role: 'user', content: 'find' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'c', name: 'search', input: { q: 1 } }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'next' },
              { type: 'tool_result', tool_use_id: 'c', content: 'r' },
            ],
          },
          { role: 'assistant', content: 'done' },
        ],
      }).messages,
    ).toStrictEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'find' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'search', arguments: '{"q":1}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'r' },
      { role: 'user', content: 'next' },
      { role: 'assistant', content: 'done' },
    ]);
  });
});

describe('parseMessagesRequest: tools', () => {
  it('client tools become functions: name, description when given, input_schema as parameters', () => {
    expect(
      chatOf({
        tools: [
          { name: 'a', description: 'does a', input_schema: { type: 'object', properties: { q: { type: 'string' } } } },
          { type: 'custom', name: 'b', input_schema: {}, cache_control: { type: 'ephemeral' } },
          { type: null, name: 'c', description: null, input_schema: { type: 'object' } },
          { name: 'd', description: '', input_schema: {} },
        ],
      }).tools,
    ).toStrictEqual([
      { type: 'function', function: { name: 'a', description: 'does a', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
      { type: 'function', function: { name: 'b', parameters: {} } },
      { type: 'function', function: { name: 'c', parameters: { type: 'object' } } },
      { type: 'function', function: { name: 'd', description: '', parameters: {} } },
    ]);
  });

  it('no tools field when tools is absent, null or empty (an OpenAI-style upstream refuses `tools: []`)', () => {
    expect(chatOf({ tools: null })).toStrictEqual(chatOf());
    expect('tools' in chatOf()).toBe(false);
    expect(chatOf({ tools: [] })).toStrictEqual(chatOf());
  });

  it('refuses server tools, naming their type', () => {
    expect(
      refuse({
        tools: [
          { name: 'a', input_schema: {} },
          { type: 'web_search_20250305', name: 'web_search' },
        ],
      }),
    ).toThrow(
      invalidError('tools[1].type', 'only client tools are supported: server tools (web_search_20250305) run upstream, where fmguard cannot check their calls'),
    );
    expect(refuse({ tools: [{ type: 'function', name: 'a', input_schema: {} }] })).toThrow(
      invalidError('tools[0].type', 'only client tools are supported: server tools (function) run upstream, where fmguard cannot check their calls'),
    );
    expect(refuse({ tools: [{ type: 0, name: 'a', input_schema: {} }] })).toThrow(
      invalidError('tools[0].type', 'only client tools are supported: server tools (0) run upstream, where fmguard cannot check their calls'),
    );
  });

  it('refuses malformed tools, naming the field', () => {
    expect(refuse({ tools: { name: 'a' } })).toThrow(invalidError('tools', 'expected an array, got an object'));
    expect(refuse({ tools: ['a'] })).toThrow(invalidError('tools[0]', 'expected an object, got a string'));
    expect(refuse({ tools: [{ input_schema: {} }] })).toThrow(invalidError('tools[0].name', 'expected a string, got nothing'));
    expect(refuse({ tools: [{ name: 'a', description: 1, input_schema: {} }] })).toThrow(
      invalidError('tools[0].description', 'expected a string, got a number'),
    );
    expect(refuse({ tools: [{ name: 'a' }] })).toThrow(invalidError('tools[0].input_schema', 'expected an object, got nothing'));
    expect(refuse({ tools: [{ name: 'a', input_schema: [] }] })).toThrow(invalidError('tools[0].input_schema', 'expected an object, got an array'));
  });
});

describe('parseMessagesRequest: tool_choice', () => {
  it('auto, any and none map to auto, required and none; tool names a function', () => {
    expect(chatOf({ tool_choice: { type: 'auto' } })).toStrictEqual({ ...chatOf(), tool_choice: 'auto' });
    expect(chatOf({ tool_choice: { type: 'any' } })).toStrictEqual({ ...chatOf(), tool_choice: 'required' });
    expect(chatOf({ tool_choice: { type: 'none' } })).toStrictEqual({ ...chatOf(), tool_choice: 'none' });
    expect(chatOf({ tool_choice: { type: 'tool', name: 'search' } })).toStrictEqual({
      ...chatOf(),
      tool_choice: { type: 'function', function: { name: 'search' } },
    });
  });

  it('disable_parallel_tool_use: true turns parallel tool calls off, with any choice; other values do nothing', () => {
    for (const [type, choice] of [
      ['auto', 'auto'],
      ['any', 'required'],
      ['none', 'none'],
    ] as const) {
      expect(chatOf({ tool_choice: { type, disable_parallel_tool_use: true } })).toStrictEqual({
        ...chatOf(),
        tool_choice: choice,
        parallel_tool_calls: false,
      });
    }
    expect(chatOf({ tool_choice: { type: 'tool', name: 't', disable_parallel_tool_use: true } }).parallel_tool_calls).toBe(false);
    expect(chatOf({ tool_choice: { type: 'auto', disable_parallel_tool_use: false } })).toStrictEqual({ ...chatOf(), tool_choice: 'auto' });
    expect(chatOf({ tool_choice: { type: 'auto', disable_parallel_tool_use: 'true' } })).toStrictEqual({ ...chatOf(), tool_choice: 'auto' });
  });

  it('absent or null adds no tool_choice', () => {
    expect(chatOf({ tool_choice: null })).toStrictEqual(chatOf());
    expect('tool_choice' in chatOf()).toBe(false);
  });

  it('refuses a choice that is not an object, of an unknown type, or a tool choice without name', () => {
    expect(refuse({ tool_choice: 'auto' })).toThrow(invalidError('tool_choice', 'expected an object, got a string'));
    expect(refuse({ tool_choice: { type: 'required' } })).toThrow(invalidError('tool_choice.type', 'expected "auto", "any", "tool" or "none"'));
    expect(refuse({ tool_choice: {} })).toThrow(invalidError('tool_choice.type', 'expected "auto", "any", "tool" or "none"'));
    expect(refuse({ tool_choice: { type: 'tool' } })).toThrow(invalidError('tool_choice.name', 'expected a string, got nothing'));
  });
});

describe('parseMessagesRequest: errors', () => {
  it('every refusal is a GuardError with status 400', () => {
    let error: unknown;
    try {
      parse({ messages: [] });
    } catch (e) {
      error = e;
    }
    expect(GuardError.isInstance(error)).toBe(true);
    expect((error as GuardError).status).toBe(400);
  });
});
