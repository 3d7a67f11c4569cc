import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatTool } from '../../src/core/chat.ts';
import { inputTokenUpperBound } from '../../src/core/token-estimate.ts';

/**
 * The reservation bound (core/token-estimate.ts, README "one reservation ... the input tokens' upper
 * bound"): 8 per request, then per message its UTF-8 bytes + 8, where the bytes are the text content,
 * each assistant tool call's name + arguments + 8, and the message's name; plus the tools' JSON when
 * there are any. The same arithmetic as the exported AWS agent loop (src/aws/export/lambda/agent-loop.cjs).
 */
const bound = (messages: ChatMessage[], tools?: ChatTool[]) => inputTokenUpperBound({ messages, tools });

describe('inputTokenUpperBound', () => {
  it('counts a string content as its UTF-8 bytes, not its characters', () => {
    expect(bound([])).toBe(8);
    expect(bound([{ role: 'user', content: 'hello' }])).toBe(8 + 5 + 8);
    // 'é' is 2 bytes, '日' 3 bytes, '🙂' 4 bytes (2 UTF-16 units): 1 + 2 + 3 + 4 = 10 bytes for 4 characters.
    expect(bound([{ role: 'user', content: 'aé日🙂' }])).toBe(8 + 10 + 8);
    expect(bound([{ role: 'system', content: '' }])).toBe(8 + 0 + 8);
  });

  it('counts each content part: its text if it has one, else the part as JSON', () => {
    const image = { type: 'image_url', image_url: { url: 'data:x' } };
    const imageBytes = Buffer.byteLength(JSON.stringify(image), 'utf8');
    expect(imageBytes).toBe(49);
    expect(
      bound([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'text', text: 'wörld' },
          ],
        },
      ]),
    ).toBe(8 + 2 + 6 + 8);
    expect(bound([{ role: 'user', content: [image] }])).toBe(8 + 49 + 8);
    expect(bound([{ role: 'user', content: [{ type: 'text', text: 'hi' }, image] }])).toBe(8 + 2 + 49 + 8);
    // A part whose `text` is not a string is not text: it counts as its JSON, like any other part.
    expect(bound([{ role: 'user', content: [{ type: 'x', text: 7 as never }] }])).toBe(8 + '{"type":"x","text":7}'.length + 8);
    expect(bound([{ role: 'user', content: [] }])).toBe(8 + 0 + 8);
  });

  it("counts an assistant message's tool calls: name + arguments + 8 each", () => {
    const call = (name: string, args?: string) => ({ id: 'c', type: 'function' as const, function: { name, arguments: args as string } });
    expect(bound([{ role: 'assistant', content: null, tool_calls: [call('search', '{"q":"x"}')] }])).toBe(8 + (6 + 9 + 8) + 8);
    expect(bound([{ role: 'assistant', content: 'ok', tool_calls: [call('search', '{"q":"x"}'), call('fetch', '{"u":"日"}')] }])).toBe(
      8 + 2 + (6 + 9 + 8) + (5 + 11 + 8) + 8,
    );
    // Missing arguments (the gateway accepts them absent) count as none.
    expect(bound([{ role: 'assistant', content: null, tool_calls: [call('f')] }])).toBe(8 + (1 + 0 + 8) + 8);
    expect(bound([{ role: 'assistant', content: null, tool_calls: [] }])).toBe(8 + 0 + 8);
    expect(bound([{ role: 'assistant', content: null }])).toBe(8 + 0 + 8);
  });

  it('counts tool calls only on assistant messages, the only role whose tool_calls a model reads', () => {
    const stray = { role: 'user', content: 'hi', tool_calls: [{ id: 'c', type: 'function', function: { name: 'search', arguments: '{}' } }] };
    expect(bound([stray as ChatMessage])).toBe(8 + 2 + 8);
  });

  it("counts a message's name", () => {
    expect(bound([{ role: 'user', content: 'hi', name: 'alice' }])).toBe(8 + 2 + 5 + 8);
    expect(bound([{ role: 'system', content: '', name: 'zoë' }])).toBe(8 + 4 + 8);
    expect(bound([{ role: 'assistant', content: null, name: 'bot', tool_calls: [] }])).toBe(8 + 3 + 8);
    // A name key present but undefined (a client that spreads optional fields) counts as no name.
    expect(bound([{ role: 'user', content: 'hi', name: undefined }])).toBe(8 + 2 + 8);
  });

  it('adds the tools as JSON when there are any, nothing for an empty list', () => {
    const tools: ChatTool[] = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];
    const toolsBytes = Buffer.byteLength(JSON.stringify(tools), 'utf8');
    expect(toolsBytes).toBe(81);
    expect(bound([{ role: 'user', content: 'hi' }], tools)).toBe(8 + 2 + 8 + 81);
    expect(bound([{ role: 'user', content: 'hi' }], [])).toBe(8 + 2 + 8);
    expect(bound([{ role: 'user', content: 'hi' }])).toBe(8 + 2 + 8);
    const wide: ChatTool[] = [{ type: 'function', function: { name: 'ü', description: '日本' } }];
    expect(bound([], wide)).toBe(8 + Buffer.byteLength(JSON.stringify(wide), 'utf8'));
    expect(Buffer.byteLength(JSON.stringify(wide), 'utf8')).toBe(JSON.stringify(wide).length + 1 + 4);
  });

  it('sums every message of a conversation', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'find x' }], name: 'u' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'demo__search', arguments: '{"q":"x"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'found' },
    ];
    expect(bound(messages)).toBe(8 + (8 + 8) + (6 + 1 + 8) + (12 + 9 + 8 + 8) + (5 + 8));
  });
});
