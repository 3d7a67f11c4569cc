/**
 * parseResponsesRequest (src/core/wire/responses-request.ts): the OpenAI Responses API request as the
 * chat view fmguard decides on. Every accepted field's exact mapping, every default, and every
 * refusal's code, param and message.
 */
import { describe, expect, it } from 'vitest';
import { GuardError } from '../../src/core/errors.ts';
import { parseResponsesRequest } from '../../src/core/wire/responses-request.ts';

const any = () => true;
const HINT = "fmguard's /v1/responses is stateless: send the whole conversation as input items (and store: false)";

function parse(body: unknown) {
  return parseResponsesRequest(body, any);
}

/** The chat view of a request with these extra fields around a one-word input. */
function chatOf(fields: Record<string, unknown>) {
  return parse({ model: 'm', input: 'hi', ...fields }).chat;
}

/** The messages of a request with this input. */
function messagesOf(input: unknown) {
  return parse({ model: 'm', input }).chat.messages;
}

/** The refusal a body gets: its code, message and details. */
function refusal(body: unknown, hasModel: (name: string) => boolean = any) {
  let caught: unknown;
  try {
    parseResponsesRequest(body, hasModel);
  } catch (err) {
    caught = err;
  }
  expect(GuardError.isInstance(caught)).toBe(true);
  const e = caught as GuardError;
  return { code: e.code, message: e.message, details: e.details };
}

function invalid(param: string, message: string) {
  return { code: 'request.invalid', message: `${param}: ${message}`, details: { param } };
}

const base = (fields: Record<string, unknown>) => ({ model: 'm', input: 'hi', ...fields });

describe('parseResponsesRequest: the body and the model', () => {
  it('refuses a body that is not an object, naming what it was', () => {
    expect(refusal([])).toStrictEqual(invalid('body', 'the request body must be a JSON object, got an array'));
    expect(refusal(null)).toStrictEqual(invalid('body', 'the request body must be a JSON object, got null'));
    expect(refusal('x')).toStrictEqual(invalid('body', 'the request body must be a JSON object, got a string'));
  });

  it('refuses a missing or unknown model', () => {
    expect(refusal({ input: 'hi' })).toStrictEqual(invalid('model', 'expected a model name, got nothing'));
    expect(refusal({ model: 'x', input: 'hi' }, (name) => name === 'm')).toStrictEqual({
      code: 'request.invalid',
      message: 'unknown model "x"',
      details: { param: 'model' },
    });
  });

  it('a string input is one user turn; the defaults add nothing else; the body is kept as sent', () => {
    const body = { model: 'm', input: 'hi' };
    const parsed = parse(body);
    expect(parsed).toStrictEqual({ chat: { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: false }, body, stream: false });
    expect(parsed.body).toBe(body);
  });

  it('an empty string input is still a user turn', () => {
    expect(messagesOf('')).toStrictEqual([{ role: 'user', content: '' }]);
  });
});

describe('parseResponsesRequest: stateful features are refused with the stateless hint', () => {
  it('previous_response_id, conversation and prompt, even when empty strings', () => {
    expect(refusal(base({ previous_response_id: '' }))).toStrictEqual(invalid('previous_response_id', `previous_response_id is not supported; ${HINT}`));
    expect(refusal(base({ conversation: 'c' }))).toStrictEqual(invalid('conversation', `conversations are not supported; ${HINT}`));
    expect(refusal(base({ prompt: { id: 'p' } }))).toStrictEqual(invalid('prompt', `stored prompts are not supported; ${HINT}`));
  });

  it('null stateful fields count as absent', () => {
    expect(chatOf({ previous_response_id: null, conversation: null, prompt: null })).toStrictEqual(chatOf({}));
  });

  it('background: true is refused; false or a non-boolean true-ish value is not', () => {
    expect(refusal(base({ background: true }))).toStrictEqual(invalid('background', `background responses are not supported; ${HINT}`));
    expect(chatOf({ background: false })).toStrictEqual(chatOf({}));
    expect(chatOf({ background: 'true' })).toStrictEqual(chatOf({}));
  });

  it('store is accepted as a boolean and not carried; a non-boolean is refused', () => {
    expect(chatOf({ store: true })).toStrictEqual(chatOf({}));
    expect(chatOf({ store: false })).toStrictEqual(chatOf({}));
    expect(refusal(base({ store: 'no' }))).toStrictEqual(invalid('store', 'expected a boolean, got a string'));
  });
});

describe('parseResponsesRequest: scalar fields', () => {
  it('stream: true streams; a non-boolean is refused', () => {
    const parsed = parse(base({ stream: true }));
    expect(parsed.stream).toBe(true);
    expect(parsed.chat.stream).toBe(true);
    expect(parse(base({ stream: false })).stream).toBe(false);
    expect(refusal(base({ stream: 1 }))).toStrictEqual(invalid('stream', 'expected a boolean, got a number'));
  });

  it('instructions become a leading system turn; empty instructions add none; a non-string is refused', () => {
    expect(chatOf({ instructions: 'Be brief.' }).messages).toStrictEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(chatOf({ instructions: '' }).messages).toStrictEqual([{ role: 'user', content: 'hi' }]);
    expect(refusal(base({ instructions: 3 }))).toStrictEqual(invalid('instructions', 'expected a string, got a number'));
  });

  it('max_output_tokens is max_tokens: an integer of at least 1', () => {
    expect(chatOf({ max_output_tokens: 1 })).toStrictEqual({ ...chatOf({}), max_tokens: 1 });
    expect(refusal(base({ max_output_tokens: 0 }))).toStrictEqual(invalid('max_output_tokens', 'expected a number >= 1'));
    expect(refusal(base({ max_output_tokens: 1.5 }))).toStrictEqual(invalid('max_output_tokens', 'expected an integer'));
    expect(refusal(base({ max_output_tokens: '5' }))).toStrictEqual(invalid('max_output_tokens', 'expected a number, got a string'));
  });

  it('temperature and top_p: any number from 0, 0 included', () => {
    expect(chatOf({ temperature: 0, top_p: 0 })).toStrictEqual({ ...chatOf({}), temperature: 0, top_p: 0 });
    expect(chatOf({ temperature: 1.5, top_p: 0.5 })).toStrictEqual({ ...chatOf({}), temperature: 1.5, top_p: 0.5 });
    expect(refusal(base({ temperature: -0.1 }))).toStrictEqual(invalid('temperature', 'expected a number >= 0'));
    expect(refusal(base({ top_p: -1 }))).toStrictEqual(invalid('top_p', 'expected a number >= 0'));
    expect(refusal(base({ top_p: 'x' }))).toStrictEqual(invalid('top_p', 'expected a number, got a string'));
  });

  it('parallel_tool_calls is carried, false included; a non-boolean is refused', () => {
    expect(chatOf({ parallel_tool_calls: false })).toStrictEqual({ ...chatOf({}), parallel_tool_calls: false });
    expect(chatOf({ parallel_tool_calls: true })).toStrictEqual({ ...chatOf({}), parallel_tool_calls: true });
    expect(refusal(base({ parallel_tool_calls: 'no' }))).toStrictEqual(invalid('parallel_tool_calls', 'expected a boolean, got a string'));
  });

  it('user, else safety_identifier, is the chat user', () => {
    expect(chatOf({ user: 'u' })).toStrictEqual({ ...chatOf({}), user: 'u' });
    expect(chatOf({ user: 'u', safety_identifier: 's' })).toStrictEqual({ ...chatOf({}), user: 'u' });
    expect(chatOf({ safety_identifier: 's' })).toStrictEqual({ ...chatOf({}), user: 's' });
    expect(chatOf({ user: '' })).toStrictEqual({ ...chatOf({}), user: '' });
    expect(refusal(base({ user: 1 }))).toStrictEqual(invalid('user', 'expected a string, got a number'));
    expect(refusal(base({ safety_identifier: true }))).toStrictEqual(invalid('safety_identifier', 'expected a string, got a boolean'));
    // A malformed safety_identifier is refused even beside a valid user (was accepted unread).
    expect(refusal(base({ user: 'u', safety_identifier: 7 }))).toStrictEqual(invalid('safety_identifier', 'expected a string, got a number'));
  });

  it('reasoning.effort is reasoning_effort when it is a string', () => {
    expect(chatOf({ reasoning: { effort: 'low' } })).toStrictEqual({ ...chatOf({}), reasoning_effort: 'low' });
    expect(chatOf({ reasoning: { effort: 1 } })).toStrictEqual(chatOf({}));
    expect(chatOf({ reasoning: 'low' })).toStrictEqual(chatOf({}));
    expect(chatOf({ reasoning: {} })).toStrictEqual(chatOf({}));
  });
});

describe('parseResponsesRequest: input', () => {
  it('refuses input that is neither a string nor an array', () => {
    expect(refusal({ model: 'm' })).toStrictEqual(invalid('input', 'expected a string or an array of input items, got nothing'));
    expect(refusal({ model: 'm', input: { role: 'user' } })).toStrictEqual(invalid('input', 'expected a string or an array of input items, got an object'));
  });

  it('refuses input without a non-system turn', () => {
    expect(refusal({ model: 'm', input: [] })).toStrictEqual(invalid('input', 'expected at least one input item'));
    expect(refusal({ model: 'm', instructions: 'x', input: [] })).toStrictEqual(invalid('input', 'expected at least one input item'));
    expect(refusal({ model: 'm', input: [{ role: 'system', content: 's' }] })).toStrictEqual(invalid('input', 'expected at least one input item'));
    expect(refusal({ model: 'm', input: [{ type: 'reasoning' }] })).toStrictEqual(invalid('input', 'expected at least one input item'));
  });

  it('refuses an item that is not an object, by its index', () => {
    expect(refusal({ model: 'm', input: ['hi'] })).toStrictEqual(invalid('input[0]', 'expected an object, got a string'));
    expect(refusal({ model: 'm', input: [{ role: 'user', content: 'a' }, null] })).toStrictEqual(invalid('input[1]', 'expected an object, got null'));
  });

  it('an item with a role and no type is a message; one with neither is refused', () => {
    expect(messagesOf([{ role: 'user', content: 'a' }])).toStrictEqual([{ role: 'user', content: 'a' }]);
    expect(messagesOf([{ type: 'message', role: 'user', content: 'a' }])).toStrictEqual([{ role: 'user', content: 'a' }]);
    expect(refusal({ model: 'm', input: [{ content: 'a' }] })).toStrictEqual(
      invalid('input[0].type', 'input items of type undefined are not supported (message, function_call, function_call_output, reasoning)'),
    );
  });

  it('a null role still makes a message item, refused for its role', () => {
    expect(refusal({ model: 'm', input: [{ role: null, content: 'a' }] })).toStrictEqual(
      invalid('input[0].role', 'expected one of user, system, developer, assistant'),
    );
  });

  it('refuses unknown item types and item references', () => {
    expect(refusal({ model: 'm', input: [{ role: 'user', content: 'a' }, { type: 'web_search_call' }] })).toStrictEqual(
      invalid('input[1].type', 'input items of type "web_search_call" are not supported (message, function_call, function_call_output, reasoning)'),
    );
    expect(refusal({ model: 'm', input: [{ type: 'item_reference', id: 'x' }] })).toStrictEqual(
      invalid('input[0].type', `item references are not supported; ${HINT}`),
    );
  });

  it('reasoning items are dropped', () => {
    expect(messagesOf([{ type: 'reasoning', id: 'rs' }, { role: 'user', content: 'a' }, { type: 'reasoning' }])).toStrictEqual([
      { role: 'user', content: 'a' },
    ]);
  });
});

describe('parseResponsesRequest: message items', () => {
  it('string content keeps every role as it is', () => {
    expect(
      messagesOf([
        { role: 'system', content: 's' },
        { role: 'developer', content: 'd' },
        { role: 'assistant', content: 'a' },
        { role: 'user', content: 'u' },
      ]),
    ).toStrictEqual([
      { role: 'system', content: 's' },
      { role: 'developer', content: 'd' },
      { role: 'assistant', content: 'a' },
      { role: 'user', content: 'u' },
    ]);
  });

  it('refuses an unknown or non-string role', () => {
    const refused = invalid('input[0].role', 'expected one of user, system, developer, assistant');
    expect(refusal({ model: 'm', input: [{ role: 'tool', content: 'a' }] })).toStrictEqual(refused);
    expect(refusal({ model: 'm', input: [{ role: 1, content: 'a' }] })).toStrictEqual(refused);
  });

  it('refuses content that is neither a string nor an array', () => {
    expect(refusal({ model: 'm', input: [{ role: 'user', content: 5 }] })).toStrictEqual(
      invalid('input[0].content', 'expected a string or an array of parts, got a number'),
    );
    expect(refusal({ model: 'm', input: [{ role: 'user' }] })).toStrictEqual(
      invalid('input[0].content', 'expected a string or an array of parts, got nothing'),
    );
  });

  it('user parts: text (input or output), refusals, images with and without detail, inline files with and without a name', () => {
    expect(
      messagesOf([
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'a' },
            { type: 'output_text', text: 'b' },
            { type: 'refusal', refusal: 'no' },
            { type: 'input_image', image_url: 'https://x/i.png' },
            { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'high' },
            { type: 'input_image', image_url: 'u', detail: 1 },
            { type: 'input_file', file_data: 'data:application/pdf;base64,BB' },
            { type: 'input_file', file_data: 'f', filename: 'a.pdf' },
            { type: 'input_file', file_data: 'g', filename: 2 },
          ],
        },
      ]),
    ).toStrictEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
          { type: 'text', text: 'no' },
          { type: 'image_url', image_url: { url: 'https://x/i.png' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'high' } },
          { type: 'image_url', image_url: { url: 'u' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,BB' } },
          { type: 'file', file: { file_data: 'f', filename: 'a.pdf' } },
          { type: 'file', file: { file_data: 'g' } },
        ],
      },
    ]);
  });

  it('an empty parts array is an empty user turn', () => {
    expect(messagesOf([{ role: 'user', content: [] }])).toStrictEqual([{ role: 'user', content: [] }]);
  });

  it('system, developer and assistant parts are joined text; parts without text add nothing', () => {
    const parts = [
      { type: 'input_text', text: 'one ' },
      { type: 'input_image', image_url: 'u' },
      { type: 'output_text', text: 'two' },
    ];
    expect(
      messagesOf([
        { role: 'system', content: parts },
        { role: 'developer', content: parts },
        { role: 'assistant', content: parts },
        { role: 'user', content: 'u' },
      ]),
    ).toStrictEqual([
      { role: 'system', content: 'one two' },
      { role: 'developer', content: 'one two' },
      { role: 'assistant', content: 'one two' },
      { role: 'user', content: 'u' },
    ]);
    expect(
      messagesOf([
        { role: 'assistant', content: [] },
        { role: 'user', content: 'u' },
      ])[0],
    ).toStrictEqual({ role: 'assistant', content: '' });
  });

  it('refuses a bad part, naming it by its path', () => {
    const at = (content: unknown[]) =>
      refusal({
        model: 'm',
        input: [
          { role: 'user', content: 'x' },
          { role: 'user', content },
        ],
      });
    expect(at([{ type: 'input_text', text: 'a' }, 'b'])).toStrictEqual(invalid('input[1].content[1]', 'expected an object, got a string'));
    expect(at([{ type: 'input_text' }])).toStrictEqual(invalid('input[1].content[0].text', 'expected a string, got nothing'));
    expect(at([{ type: 'output_text', text: 1 }])).toStrictEqual(invalid('input[1].content[0].text', 'expected a string, got a number'));
    expect(at([{ type: 'refusal', text: 'a' }])).toStrictEqual(invalid('input[1].content[0].refusal', 'expected a string, got nothing'));
    expect(at([{ type: 'input_image', file_id: 'f' }])).toStrictEqual(
      invalid('input[1].content[0].image_url', 'expected an image URL or data URL (uploaded file ids are not supported)'),
    );
    expect(at([{ type: 'input_image', image_url: 3 }])).toStrictEqual(invalid('input[1].content[0].image_url', 'expected a string, got a number'));
    expect(at([{ type: 'input_file', file_id: 'f' }])).toStrictEqual(
      invalid('input[1].content[0].file_data', 'expected the file inline as file_data (uploaded file ids are not supported)'),
    );
    expect(at([{ type: 'input_file', file_data: {} }])).toStrictEqual(invalid('input[1].content[0].file_data', 'expected a string, got an object'));
    expect(at([{ type: 'input_audio' }])).toStrictEqual(invalid('input[1].content[0].type', 'content parts of type "input_audio" are not supported'));
    expect(at([{ text: 'a' }])).toStrictEqual(invalid('input[1].content[0].type', 'content parts of type undefined are not supported'));
  });
});

describe('parseResponsesRequest: function calls and their outputs', () => {
  const call = (id: string, name = 'f', args: unknown = '{}') => ({ type: 'function_call', call_id: id, name, arguments: args });
  const tc = (id: string, name = 'f', args = '{}') => ({ id, type: 'function', function: { name, arguments: args } });

  it('a call with nothing before it is an assistant turn without text', () => {
    expect(messagesOf([call('a')])).toStrictEqual([{ role: 'assistant', content: null, tool_calls: [tc('a')] }]);
  });

  it('consecutive calls are one turn, joined to the assistant text before them; a call after a user turn starts a new one', () => {
    expect(
      messagesOf([
        { role: 'user', content: 'u' },
        call('a'),
        call('b', 'g', '{"x":1}'),
        { type: 'function_call_output', call_id: 'a', output: 'A' },
        { role: 'assistant', content: 'text' },
        call('c'),
        { role: 'user', content: 'v' },
        call('d'),
      ]),
    ).toStrictEqual([
      { role: 'user', content: 'u' },
      { role: 'assistant', content: null, tool_calls: [tc('a'), tc('b', 'g', '{"x":1}')] },
      { role: 'tool', tool_call_id: 'a', content: 'A' },
      { role: 'assistant', content: 'text', tool_calls: [tc('c')] },
      { role: 'user', content: 'v' },
      { role: 'assistant', content: null, tool_calls: [tc('d')] },
    ]);
  });

  it('absent or null arguments are empty text; other non-strings are refused', () => {
    expect(messagesOf([{ type: 'function_call', call_id: 'a', name: 'f' }])).toStrictEqual([
      { role: 'assistant', content: null, tool_calls: [tc('a', 'f', '')] },
    ]);
    expect(messagesOf([call('a', 'f', null)])).toStrictEqual([{ role: 'assistant', content: null, tool_calls: [tc('a', 'f', '')] }]);
    expect(messagesOf([call('a', 'f', '')])).toStrictEqual([{ role: 'assistant', content: null, tool_calls: [tc('a', 'f', '')] }]);
    expect(refusal({ model: 'm', input: [call('a', 'f', { x: 1 })] })).toStrictEqual(invalid('input[0].arguments', 'expected a string (JSON text)'));
  });

  it('refuses a call without a call_id or a name', () => {
    expect(refusal({ model: 'm', input: [{ type: 'function_call', name: 'f' }] })).toStrictEqual(invalid('input[0].call_id', 'expected a string, got nothing'));
    expect(refusal({ model: 'm', input: [{ type: 'function_call', call_id: 'a' }] })).toStrictEqual(invalid('input[0].name', 'expected a string, got nothing'));
    expect(refusal({ model: 'm', input: [{ type: 'function_call' }] })).toStrictEqual(invalid('input[0].call_id', 'expected a string, got nothing'));
  });

  it('an output is a tool turn: text as it is, parts with text joined, other parts as JSON', () => {
    expect(
      messagesOf([
        { type: 'function_call_output', call_id: 'a', output: 'plain' },
        { type: 'function_call_output', call_id: 'b', output: '' },
        {
          type: 'function_call_output',
          call_id: 'c',
          output: [{ type: 'input_text', text: 'x' }, { type: 'input_image', image_url: 'u' }, 'raw', 5, { text: 7 }, { text: 'y' }],
        },
        { type: 'function_call_output', call_id: 'd', output: [] },
      ]),
    ).toStrictEqual([
      { role: 'tool', tool_call_id: 'a', content: 'plain' },
      { role: 'tool', tool_call_id: 'b', content: '' },
      { role: 'tool', tool_call_id: 'c', content: 'x{"type":"input_image","image_url":"u"}"raw"5{"text":7}y' },
      { role: 'tool', tool_call_id: 'd', content: '' },
    ]);
  });

  it('refuses an output without a call_id or with output neither text nor parts', () => {
    expect(refusal({ model: 'm', input: [{ type: 'function_call_output', output: 'x' }] })).toStrictEqual(
      invalid('input[0].call_id', 'expected a string, got nothing'),
    );
    expect(refusal({ model: 'm', input: [{ type: 'function_call_output', call_id: 'a', output: { text: 'x' } }] })).toStrictEqual(
      invalid('input[0].output', 'expected a string or an array of parts, got an object'),
    );
  });
});

describe('parseResponsesRequest: tools', () => {
  it('function tools: name, and description, parameters and strict only when well typed', () => {
    expect(
      chatOf({
        tools: [
          { type: 'function', name: 'a' },
          { type: 'function', name: 'b', description: 'd', parameters: { type: 'object' }, strict: false },
          { type: 'function', name: 'c', description: 1, parameters: [], strict: 'yes' },
        ],
      }).tools,
    ).toStrictEqual([
      { type: 'function', function: { name: 'a' } },
      { type: 'function', function: { name: 'b', description: 'd', parameters: { type: 'object' }, strict: false } },
      { type: 'function', function: { name: 'c' } },
    ]);
  });

  it('absent, null or empty tools add none (an OpenAI-style upstream refuses `tools: []`)', () => {
    expect(chatOf({ tools: null })).toStrictEqual(chatOf({}));
    expect(chatOf({ tools: [] })).toStrictEqual(chatOf({}));
  });

  it('refuses tools that are not a list, a tool that is not an object, a hosted tool, a tool without a name', () => {
    expect(refusal(base({ tools: {} }))).toStrictEqual(invalid('tools', 'expected an array, got an object'));
    expect(refusal(base({ tools: [{ type: 'function', name: 'a' }, 'b'] }))).toStrictEqual(invalid('tools[1]', 'expected an object, got a string'));
    expect(refusal(base({ tools: [{ type: 'web_search' }] }))).toStrictEqual(
      invalid('tools[0].type', 'only function tools are supported: hosted tools (web_search) run upstream, where fmguard cannot check their calls'),
    );
    expect(refusal(base({ tools: [{ name: 'a' }] }))).toStrictEqual(
      invalid('tools[0].type', 'only function tools are supported: hosted tools (undefined) run upstream, where fmguard cannot check their calls'),
    );
    expect(refusal(base({ tools: [{ type: 'function' }] }))).toStrictEqual(invalid('tools[0].name', 'expected a string, got nothing'));
  });
});

describe('parseResponsesRequest: tool_choice', () => {
  it('the three modes pass as they are; a function choice is named in chat form', () => {
    expect(chatOf({ tool_choice: 'auto' })).toStrictEqual({ ...chatOf({}), tool_choice: 'auto' });
    expect(chatOf({ tool_choice: 'none' })).toStrictEqual({ ...chatOf({}), tool_choice: 'none' });
    expect(chatOf({ tool_choice: 'required' })).toStrictEqual({ ...chatOf({}), tool_choice: 'required' });
    expect(chatOf({ tool_choice: { type: 'function', name: 'f' } })).toStrictEqual({
      ...chatOf({}),
      tool_choice: { type: 'function', function: { name: 'f' } },
    });
    expect(chatOf({ tool_choice: null })).toStrictEqual(chatOf({}));
  });

  it('refuses any other choice, and a function choice without a name', () => {
    const refused = invalid('tool_choice', 'expected "auto", "none", "required" or { type: "function", name }');
    expect(refusal(base({ tool_choice: 'any' }))).toStrictEqual(refused);
    expect(refusal(base({ tool_choice: { type: 'web_search' } }))).toStrictEqual(refused);
    expect(refusal(base({ tool_choice: '' }))).toStrictEqual(refused);
    expect(refusal(base({ tool_choice: { type: 'function' } }))).toStrictEqual(invalid('tool_choice.name', 'expected a string, got nothing'));
  });
});

describe('parseResponsesRequest: text.format as response_format', () => {
  it('json_object', () => {
    expect(chatOf({ text: { format: { type: 'json_object', name: 'ignored' } } })).toStrictEqual({
      ...chatOf({}),
      response_format: { type: 'json_object' },
    });
  });

  it('json_schema: name, and schema, strict and description only when well typed', () => {
    expect(chatOf({ text: { format: { type: 'json_schema', name: 'n' } } })).toStrictEqual({
      ...chatOf({}),
      response_format: { type: 'json_schema', json_schema: { name: 'n' } },
    });
    expect(chatOf({ text: { format: { type: 'json_schema', name: 'n', schema: { type: 'object' }, strict: false, description: 'd' } } })).toStrictEqual({
      ...chatOf({}),
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object' }, strict: false, description: 'd' } },
    });
    expect(chatOf({ text: { format: { type: 'json_schema', name: 'n', schema: 's', strict: 1, description: 2 } } })).toStrictEqual({
      ...chatOf({}),
      response_format: { type: 'json_schema', json_schema: { name: 'n' } },
    });
  });

  it('refuses a json_schema without a name', () => {
    expect(refusal(base({ text: { format: { type: 'json_schema' } } }))).toStrictEqual(invalid('text.format.name', 'expected a string, got nothing'));
  });

  it('plain text, a missing format or a malformed text add no response_format', () => {
    expect(chatOf({ text: { format: { type: 'text' } } })).toStrictEqual(chatOf({}));
    expect(chatOf({ text: {} })).toStrictEqual(chatOf({}));
    expect(chatOf({ text: { format: 'json_object' } })).toStrictEqual(chatOf({}));
    expect(chatOf({ text: 'json' })).toStrictEqual(chatOf({}));
  });
});

describe('parseResponsesRequest: everything at once', () => {
  it('the whole chat view, field by field', () => {
    const body = {
      model: 'm',
      instructions: 'I',
      stream: true,
      store: false,
      input: [{ role: 'user', content: 'u' }],
      max_output_tokens: 10,
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      user: 'me',
      tools: [{ type: 'function', name: 't' }],
      tool_choice: 'required',
      text: { format: { type: 'json_object' } },
      reasoning: { effort: 'high' },
    };
    expect(parse(body)).toStrictEqual({
      chat: {
        model: 'm',
        messages: [
          { role: 'system', content: 'I' },
          { role: 'user', content: 'u' },
        ],
        stream: true,
        max_tokens: 10,
        temperature: 0.2,
        top_p: 0.9,
        parallel_tool_calls: false,
        user: 'me',
        tools: [{ type: 'function', function: { name: 't' } }],
        tool_choice: 'required',
        response_format: { type: 'json_object' },
        reasoning_effort: 'high',
      },
      body,
      stream: true,
    });
  });
});
