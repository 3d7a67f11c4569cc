import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeAll, gatewayConfig, startGateway } from './helpers.ts';
import { anthropic, messagesTool } from './inbound-helpers.ts';

/**
 * `POST /v1/messages` streamed over an OpenAI-shaped upstream that interleaves the pieces of two tool
 * calls (some OpenAI-compatible servers do). Messages blocks are sequential, so the official SDK must
 * still see each `tool_use` whole, with its own input, and its `contentBlock` event per block: the
 * tool-call gate holds calls until the choice finishes and releases them whole, in order.
 */
const pieces = [
  { index: 0, id: 'call_a', type: 'function', function: { name: 'search', arguments: '{"query":' } },
  { index: 1, id: 'call_b', type: 'function', function: { name: 'lookup', arguments: '{"query":"b' } },
  { index: 0, function: { arguments: '"a"}' } },
  { index: 1, function: { arguments: 'ee"}' } },
];

function chunk(delta: unknown, finish: string | null = null) {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'up', choices: [{ index: 0, delta, finish_reason: finish }] };
}

let upstream: Server;
let upstreamUrl = '';

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/event-stream');
      const events = [
        chunk({ role: 'assistant', content: '' }),
        ...pieces.map((piece) => chunk({ tool_calls: [piece] })),
        chunk({}, 'tool_calls'),
        { ...chunk({}), choices: [], usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } },
      ];
      for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => upstream.close(resolve)));
afterEach(closeAll);

describe('POST /v1/messages over an upstream that interleaves tool calls', () => {
  it('messages.stream: each tool_use block whole, in order, with its own input; one contentBlock event each', async () => {
    const config = gatewayConfig({}, { providers: { sim: { kind: 'openai', baseUrl: `${upstreamUrl}/v1` } } });
    const gw = await startGateway({ config, guard: { providers: {} } });
    const stream = anthropic(gw).messages.stream({
      model: 'sim-small',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'find a and b' }],
      tools: [messagesTool('search'), messagesTool('lookup')],
    });
    const blocks: unknown[] = [];
    stream.on('contentBlock', (block) => blocks.push(block));
    const message = await stream.finalMessage();
    const expected = [
      { type: 'tool_use', id: 'call_a', name: 'search', input: { query: 'a' } },
      { type: 'tool_use', id: 'call_b', name: 'lookup', input: { query: 'bee' } },
    ];
    expect(message.content).toMatchObject(expected);
    expect(blocks).toMatchObject(expected);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 9 });
  });
});
