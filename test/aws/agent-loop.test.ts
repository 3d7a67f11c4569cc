import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { costNano, inputTokenUpperBound, type ChatRequest } from './helpers.ts';

const require = createRequire(import.meta.url);
const loop = require('../../src/aws/export/lambda/agent-loop.cjs') as {
  createHandler: (clock?: () => number) => (event: unknown) => Promise<Record<string, any>>;
  inputTokenUpperBound: (messages: unknown[], tools: unknown[]) => number;
  costNano: (price: unknown, usage: unknown) => number;
};

const tools = [
  { type: 'function', function: { name: 'lookup', description: 'Find ü', parameters: { type: 'object', properties: { q: { type: 'string' } } } } },
];
const conversations: ChatRequest['messages'][] = [
  [{ role: 'user', content: 'hello' }],
  [
    { role: 'system', content: 'Be brief. Ünïcödé €' },
    { role: 'user', content: 'Find Ada' },
    { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'lookup', arguments: '{"q":"Ada"}' } }] },
    { role: 'tool', tool_call_id: 't1', content: '{"found":true}' },
    { role: 'assistant', content: 'She is a customer.' },
  ],
];

function settings(family: 'anthropic' | 'converse') {
  return {
    agent: 'bot',
    model: { name: 'm', id: family === 'anthropic' ? 'anthropic.claude-3-5-haiku-20241022-v1:0' : 'amazon.nova-pro-v1:0', family },
    price: { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 },
    limits: { maxCostNano: 1_000_000_000, maxOutputTokensPerCall: 512, maxTotalTokens: 100_000, maxDurationMs: 60_000 },
    tools,
  };
}

describe('the agent-loop function does fmguard’s arithmetic', () => {
  it('the same input-token bound and cost as fmguard’s core', () => {
    for (const messages of conversations) {
      expect(loop.inputTokenUpperBound(messages, tools)).toBe(inputTokenUpperBound({ messages, tools: tools as ChatRequest['tools'] }));
      expect(loop.inputTokenUpperBound(messages, [])).toBe(inputTokenUpperBound({ messages }));
    }
    const price = { inputPerMTok: 0.8, outputPerMTok: 4, cachedInputPerMTok: 0.08 };
    for (const usage of [
      { inputTokens: 0, outputTokens: 0 },
      { inputTokens: 1234, outputTokens: 567 },
      { inputTokens: 1000, outputTokens: 3, cachedInputTokens: 900 },
      { inputTokens: 7, outputTokens: 1, cachedInputTokens: 50 },
    ]) {
      expect(loop.costNano(price, usage)).toBe(costNano(price, usage));
    }
  });

  it('Anthropic bodies: system, tool_use and tool_result blocks, the clamped max_tokens', async () => {
    const handler = loop.createHandler(() => Date.UTC(2026, 0, 1));
    const started = await handler({
      op: 'start',
      input: {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Find Ada' },
        ],
      },
      settings: settings('anthropic'),
    });
    expect(started.body).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 512,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Find Ada' }] }],
      tools: [{ name: 'lookup', description: 'Find ü', input_schema: tools[0]!.function.parameters }],
    });
    expect(started.deadline).toBe('2026-01-01T00:01:00.000Z');
    const after = await handler({
      op: 'afterModel',
      account: started,
      response: {
        content: [{ type: 'tool_use', id: 'tu1', name: 'lookup', input: { q: 'Ada' } }],
        usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 50 },
      },
    });
    expect(after.toolCalls).toEqual([{ id: 'tu1', name: 'lookup', arguments: { q: 'Ada' } }]);
    expect(after.done).toBe(false);
    expect(after.costNano).toBe(
      costNano({ inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3 }, { inputTokens: 150, outputTokens: 20, cachedInputTokens: 50 }),
    );
    const next = await handler({ op: 'afterTools', account: after, results: [{ id: 'tu1', name: 'lookup', result: { found: true } }] });
    expect(next.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Find Ada' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'tu1', name: 'lookup', input: { q: 'Ada' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: '{"found":true}' }] },
    ]);
  });

  it('Amazon Nova (messages-v1) bodies and responses', async () => {
    const handler = loop.createHandler();
    const started = await handler({ op: 'start', input: { messages: [{ role: 'user', content: 'Find Ada' }] }, settings: settings('converse') });
    expect(started.body).toMatchObject({
      schemaVersion: 'messages-v1',
      inferenceConfig: { maxTokens: 512 },
      messages: [{ role: 'user', content: [{ text: 'Find Ada' }] }],
    });
    expect(started.body.toolConfig.tools[0]).toEqual({
      toolSpec: { name: 'lookup', description: 'Find ü', inputSchema: { json: tools[0]!.function.parameters } },
    });
    const after = await handler({
      op: 'afterModel',
      account: started,
      response: { output: { message: { content: [{ text: 'Done.' }] } }, stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 2 } },
    });
    expect(after).toMatchObject({ done: true, inputTokens: 10, outputTokens: 2, toolCalls: [] });
  });

  it('stops the next call when the budget cannot pay for one output token, naming the binding limit', async () => {
    const handler = loop.createHandler();
    const tight = { ...settings('anthropic'), limits: { ...settings('anthropic').limits, maxCostNano: 1000 } };
    expect(await handler({ op: 'start', input: { messages: [{ role: 'user', content: 'Find Ada' }] }, settings: tight })).toMatchObject({
      maxTokens: 0,
      binding: 'limit.cost',
      body: null,
    });
    const tokens = { ...settings('anthropic'), limits: { ...settings('anthropic').limits, maxTotalTokens: 10 } };
    expect(await handler({ op: 'start', input: { messages: [{ role: 'user', content: 'Find Ada' }] }, settings: tokens })).toMatchObject({
      maxTokens: 0,
      binding: 'limit.tokens',
    });
  });

  it('bad input is an error, never a silent default', async () => {
    const handler = loop.createHandler();
    await expect(handler({ op: 'start', input: {}, settings: settings('anthropic') })).rejects.toMatchObject({
      name: 'request.invalid',
      message: expect.stringContaining('"messages"'),
    });
    await expect(handler({ op: 'explode' })).rejects.toMatchObject({ name: 'request.invalid', message: expect.stringContaining('unknown op') });
  });
});
