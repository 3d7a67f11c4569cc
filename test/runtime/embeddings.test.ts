import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createGuard, type GuardError, type GuardEvent } from '../../src/index.ts';
import { baseConfig } from './fixtures.ts';

/** `run.callEmbeddings` in the runtime: a model call without output, reported like one. */
function config(agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  const base = baseConfig(agent, extra);
  return {
    ...base,
    models: {
      ...base.models,
      'sim-embed': { provider: 'sim', inputPerMTok: 0.02, outputPerMTok: 0, fallbacks: ['sim-embed-2'] },
      'sim-embed-2': { provider: 'sim2', inputPerMTok: 0.05, outputPerMTok: 0 },
    },
    providers: { ...base.providers, sim2: { kind: 'simulated' } },
  };
}

describe('run.callEmbeddings', () => {
  it('reports call.allowed with the input tokens only, and call.refused when refused', async () => {
    const guard = createGuard({ config: config() });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callEmbeddings({ model: 'sim-embed', input: 'refund policy' });
    expect(result.usage).toEqual({ inputTokens: result.response.usage.prompt_tokens, outputTokens: 0 });
    const allowed = events.find((e) => e.type === 'call.allowed');
    expect(allowed).toMatchObject({ action: 'invokeModel', resource: 'sim-embed', usage: { outputTokens: 0 }, maxTokens: 0, streamed: false });
    await guard.kill('agent:bot', 'stop');
    const refused = (await run.callEmbeddings({ model: 'sim-embed', input: 'x' }).catch((e: unknown) => e)) as GuardError;
    expect(refused.code).toBe('kill.switch');
    expect(events.find((e) => e.type === 'call.refused')).toMatchObject({ resource: 'sim-embed', code: 'kill.switch' });
    await guard.close();
  });

  it('an open breaker sends the call to the configured fallback, priced as the fallback', async () => {
    const guard = createGuard({ config: config() });
    await guard.breakers.open('model:sim-embed', { cooldownMs: 30_000, by: 'test', reason: 'test' });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callEmbeddings({ model: 'sim-embed', input: 'refund policy' });
    expect(result).toMatchObject({ model: 'sim-embed', servedBy: 'sim-embed-2' });
    expect(result.costUsd).toBeCloseTo((result.usage.inputTokens * 0.05) / 1e6, 12);
    await guard.close();
  });

  it('a kill aborts an embeddings call in flight', async () => {
    const guard = createGuard({ config: config() });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callEmbeddings({ model: 'sim-embed', input: '[sim:stall_first] x' }).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    await run.stop('operator');
    expect(((await pending) as GuardError).code).toBe('kill.switch');
    expect((await run.usage()).steps).toBe(1);
    await guard.close();
  });
});
