import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/core/chat.ts';
import { createGuard } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> },
  );

describe('model admission: request validation', () => {
  it('refuses an unknown model, bad messages and a non-positive max_tokens with request.invalid and the parameter', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    expect(await refusal(run.callModel(ask('hi', 'nope')))).toMatchObject({
      code: 'request.invalid',
      message: 'unknown model "nope"',
      details: { param: 'model' },
    });
    const user = { role: 'user', content: 'hi' };
    const badLists: unknown[][] = [
      [user, null],
      [user, { content: 'no role' }],
      [user, { role: 5, content: 'x' }],
      [user, Object.assign(() => {}, { role: 'user' })],
    ];
    for (const messages of badLists) {
      expect(await refusal(run.callModel({ model: 'sim-small', messages: messages as ChatMessage[] }))).toMatchObject({
        code: 'request.invalid',
        message: 'messages must be a non-empty array of messages with a role',
        details: { param: 'messages' },
      });
    }
    for (const max_tokens of [0, -1, 1.5]) {
      expect(await refusal(run.callModel({ ...ask('hi'), max_tokens }))).toMatchObject({
        code: 'request.invalid',
        message: 'max_tokens must be a positive integer',
        details: { param: 'max_tokens' },
      });
    }
    expect(await run.usage()).toMatchObject({ steps: 0, costUsd: 0 });
    await guard.close();
  });

  it('a repeated tool call in the conversation is refused with a message naming the tool and count', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxIdenticalToolCalls: 1 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const messages: ChatMessage[] = [{ role: 'user', content: 'find it' }];
    for (let i = 0; i < 2; i++) {
      messages.push({
        role: 'assistant',
        content: null,
        tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'search', arguments: '{"q":"same"}' } }],
      });
      messages.push({ role: 'tool', tool_call_id: `c${i}`, content: 'nothing' });
    }
    expect(await refusal(run.callModel({ model: 'sim-small', messages }))).toMatchObject({
      code: 'loop.repeated_tool_call',
      message: 'the conversation repeats the call to search with the same arguments 2 times',
      details: { limit: 1, used: 2, tool: 'search' },
    });
    await guard.close();
  });
});

describe('model admission: the output cap clamped to what is left', () => {
  it('a run cost limit that cannot pay for the full cap clamps it, and the call goes ahead', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxCostUsd: 0.5 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ ...ask('hi', 'sim-pricey'), max_tokens: 4000 });
    expect(result.maxTokens).toBeGreaterThan(0);
    expect(result.maxTokens).toBeLessThan(4000);
    expect(result.model).toBe('sim-pricey');
    expect(result.servedBy).toBeUndefined();
    expect((await run.usage()).costUsd).toBeLessThanOrEqual(0.5);
    await guard.close();
  });

  it('a tenant budget that cannot pay for the full cap clamps it too', async () => {
    const guard = createGuard({
      config: baseConfig({ limits: { maxCostUsd: 100 } }, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.5 }] } } } as never),
    });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ ...ask('hi', 'sim-pricey'), max_tokens: 4000 });
    expect(result.maxTokens).toBeGreaterThan(0);
    expect(result.maxTokens).toBeLessThan(4000);
    await guard.close();
  });

  it('a run output-token limit below the cap clamps it', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxOutputTokens: 300 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ ...ask('hi'), max_tokens: 4000 });
    expect(result.maxTokens).toBeGreaterThan(0);
    expect(result.maxTokens).toBeLessThanOrEqual(300);
    await guard.close();
  });
});

describe('model admission: concurrency slots', () => {
  it("an agent's maxConcurrentCalls is held by an open stream", async () => {
    const guard = createGuard({ config: baseConfig({ maxConcurrentCalls: 1 }) });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('[sim:long 50] hello'));
    const err = await refusal(run.callModel(ask('again')));
    expect(err?.code).toMatch(/concurren/);
    await stream.close();
    expect((await run.callModel(ask('after'))).model).toBe('sim-small');
    await guard.close();
  });
});
