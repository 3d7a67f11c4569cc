import { describe, expect, it } from 'vitest';
import { createGuard, GuardError } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

describe('guard smoke', () => {
  it('makes a guarded call and counts it', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const res = await run.callModel(ask('hello'));
    expect(res.response.choices[0]!.message.content).toBeTruthy();
    const usage = await run.usage();
    expect(usage.steps).toBe(1);
    expect(usage.costUsd).toBeGreaterThan(0);
    expect(usage.reservedCostUsd).toBe(0);
    await guard.close();
  });

  it('streams', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('hello'));
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    const result = await stream.result;
    expect(text).toBe(result.content);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    await guard.close();
  });

  it('stops at the step limit', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxSteps: 2, maxIdenticalOutputs: 10 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('a'));
    await run.callModel(ask('b'));
    const err = await run.callModel(ask('c')).catch((e) => e);
    expect(GuardError.isInstance(err)).toBe(true);
    expect(err.code).toBe('limit.steps');
    await guard.close();
  });
});
