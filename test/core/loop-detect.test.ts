/**
 * Stateless loop detection (src/core/loop-detect.ts): how tool-call arguments are read, what counts as
 * "the same call" and "the same output", and the per-run memo (ToolCallCounter) agreeing with a full
 * count whatever the conversation holds: text-only turns, user and tool turns, an empty history, a
 * last turn rewritten in place.
 */
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatToolCall } from '../../src/core/chat.ts';
import { chatToolCallKey, mostRepeatedToolCall, outputKey, parseArguments, ToolCallCounter } from '../../src/core/loop-detect.ts';

const call = (id: string, name: string, args: string | undefined): ChatToolCall =>
  ({ id, type: 'function', function: args === undefined ? { name } : { name, arguments: args } }) as ChatToolCall;
const assistantCalls = (...calls: ChatToolCall[]): ChatMessage => ({ role: 'assistant', content: null, tool_calls: calls }) as ChatMessage;
const assistantText = (text: string): ChatMessage => ({ role: 'assistant', content: text }) as ChatMessage;
const user = (text: string): ChatMessage => ({ role: 'user', content: text }) as ChatMessage;
const toolResult = (id: string): ChatMessage => ({ role: 'tool', tool_call_id: id, content: `result of ${id}` }) as ChatMessage;

describe('tool-call arguments', () => {
  it('no arguments, or empty ones, read as an empty object', () => {
    expect(parseArguments(undefined)).toEqual({});
    expect(parseArguments('')).toEqual({});
  });

  it('JSON is parsed, and text that is not JSON is kept as text', () => {
    expect(parseArguments('{"q":"a","n":1}')).toEqual({ q: 'a', n: 1 });
    expect(parseArguments('find the cat')).toBe('find the cat');
  });

  it('the same call whatever the spacing, key order or missing arguments', () => {
    expect(chatToolCallKey(call('1', 'search', '{"q":"a","n":1}'))).toBe(chatToolCallKey(call('2', 'search', '{ "n": 1, "q": "a" }')));
    expect(chatToolCallKey(call('1', 'list', undefined))).toBe(chatToolCallKey(call('2', 'list', '{}')));
    expect(chatToolCallKey(call('1', 'list', ''))).toBe(chatToolCallKey(call('2', 'list', '{}')));
    expect(chatToolCallKey(call('1', 'search', 'cat'))).not.toBe(chatToolCallKey(call('2', 'search', 'dog')));
  });
});

describe('mostRepeatedToolCall', () => {
  it('counts the tool calls of assistant turns only, past text-only, user and tool turns', () => {
    const messages = [
      user('go'),
      assistantText('Let me look.'),
      assistantCalls(call('1', 'search', '{"q":"a"}')),
      toolResult('1'),
      { role: 'tool', tool_call_id: 'x', content: 'not a call', tool_calls: [call('9', 'search', '{"q":"b"}')] } as unknown as ChatMessage,
      assistantCalls(call('2', 'search', '{"q":"b"}'), call('3', 'search', '{"q":"a"}')),
      assistantText('Still looking.'),
    ];
    expect(mostRepeatedToolCall(messages)).toEqual({ key: 'search:{"q":"a"}', name: 'search', count: 2 });
    expect(mostRepeatedToolCall([user('hi'), assistantText('hello')])).toBeUndefined();
  });
});

describe('ToolCallCounter', () => {
  it('an empty conversation has no repeated call', () => {
    const counter = new ToolCallCounter();
    expect(counter.mostRepeated([])).toBeUndefined();
    expect(counter.mostRepeated([])).toBeUndefined();
  });

  it('agrees with a full count when turns end in text, user or tool messages', () => {
    const counter = new ToolCallCounter();
    const messages: ChatMessage[] = [user('go')];
    const steps: ChatMessage[][] = [
      [assistantText('Thinking.')],
      [assistantCalls(call('1', 'search', '{"q":"a"}'))],
      [toolResult('1')],
      [assistantCalls(call('2', 'search', '{"q":"a"}'), call('3', 'fetch', undefined))],
      [toolResult('2'), toolResult('3'), user('and?')],
      [assistantText('Done.')],
    ];
    for (const step of steps) {
      messages.push(...step);
      expect(counter.mostRepeated(messages)).toEqual(mostRepeatedToolCall(messages));
    }
    expect(counter.mostRepeated(messages)).toEqual({ key: 'search:{"q":"a"}', name: 'search', count: 2 });
  });

  it('the same conversation sent again costs no new key', () => {
    const counter = new ToolCallCounter();
    const messages = [user('go'), assistantCalls(call('1', 'search', '{"q":"a"}')), toolResult('1'), assistantCalls(call('2', 'search', '{"q":"a"}'))];
    expect(counter.mostRepeated(messages)?.count).toBe(2);
    expect(counter.keysComputed).toBe(2);
    expect(counter.mostRepeated([...messages])?.count).toBe(2);
    expect(counter.keysComputed).toBe(2);
  });

  it('counts afresh when the last turn is rewritten with another tool, id or argument length', () => {
    const base = [user('go'), assistantCalls(call('1', 'search', '{"q":"a"}')), toolResult('1')];
    const rewrites = [
      call('2', 'fetch', '{"q":"a"}'), // other tool, other id
      call('1', 'fetch', '{"q":"a"}'), // other tool, same id
      call('1', 'search', '{"q":"abc"}'), // same tool and id, longer arguments
    ];
    for (const rewritten of rewrites) {
      const counter = new ToolCallCounter();
      const first = [...base, assistantCalls(call('1', 'search', '{"q":"a"}'))];
      expect(counter.mostRepeated(first)).toMatchObject({ name: 'search', count: 2 });
      const second = [...base, assistantCalls(rewritten)];
      expect(counter.mostRepeated(second), JSON.stringify(rewritten)).toEqual(mostRepeatedToolCall(second));
      expect(counter.mostRepeated(second)?.count).toBe(1);
    }
  });

  it('reads a tool call without arguments', () => {
    const counter = new ToolCallCounter();
    const messages = [user('go'), assistantCalls(call('1', 'list', undefined))];
    expect(counter.mostRepeated(messages)).toEqual({ key: 'list:{}', name: 'list', count: 1 });
    messages.push(toolResult('1'), assistantCalls(call('2', 'list', '{}')));
    expect(counter.mostRepeated(messages)).toEqual({ key: 'list:{}', name: 'list', count: 2 });
  });
});

describe('outputKey', () => {
  it('the same output up to surrounding whitespace, and no text is empty text', () => {
    expect(outputKey('  the answer\n', undefined)).toBe(outputKey('the answer', undefined));
    expect(outputKey(null, undefined)).toBe(outputKey('', []));
    expect(outputKey(undefined, undefined)).toBe(outputKey('', undefined));
    expect(outputKey('the answer', undefined)).not.toBe(outputKey('the answer.', undefined));
  });

  it('tells tool calls apart from text and from each other, call by call', () => {
    const two = outputKey('', [call('1', 'p', '1'), call('2', 'q', '2')]);
    // One call whose name and arguments spell the two keys run together ("p:1" + "q:2").
    const one = outputKey('', [call('1', 'p:1q', '2')]);
    expect(two).not.toBe(one);
    expect(two).toBe(outputKey('', [call('7', 'p', '1'), call('8', 'q', '2')]));
    expect(outputKey('', [call('1', 'p', '1')])).not.toBe(outputKey('p:1', undefined));
  });
});

describe('a call without a function (malformed SDK input or provider reply)', () => {
  // Regression: each of these read `call.function.name` and threw a TypeError; the policy check reads
  // such a call as the tool "", and so do they.
  const bare = { id: 'x', type: 'function' } as unknown as ChatToolCall;

  it('has the key of the tool "" without arguments', () => {
    expect(chatToolCallKey(bare)).toBe(chatToolCallKey(call('y', '', undefined)));
  });

  it('is counted as the tool "" by the full count and by the per-run memo', () => {
    const conversation = [assistantCalls(bare), toolResult('x'), assistantCalls({ ...bare, id: 'z' } as ChatToolCall)];
    const expected = { key: chatToolCallKey(bare), name: '', count: 2 };
    expect(mostRepeatedToolCall(conversation)).toEqual(expected);
    const counter = new ToolCallCounter();
    expect(counter.mostRepeated(conversation.slice(0, 2))).toEqual({ ...expected, count: 1 });
    expect(counter.mostRepeated(conversation)).toEqual(expected);
  });
});
