import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../src/core/wire/embeddings.ts';
import { guardError } from '../../src/core/errors.ts';
import { createGuard, ProviderError, type GuardError, type GuardEvent } from '../../src/index.ts';
import type { ModelProvider } from '../../src/providers/provider.ts';
import type { AuthorizeRequest } from '../../src/runtime/context.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig } from './fixtures.ts';

/** Edges of `run.callEmbeddings`: request checks, the policy context, retries, reservations, timeouts. */

const T0 = Date.UTC(2026, 0, 1);

function config(agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}, models: Record<string, unknown> = {}): ConfigInput {
  const base = baseConfig(agent, extra);
  return {
    ...base,
    models: {
      ...base.models,
      'sim-embed': { provider: 'sim', inputPerMTok: 0.02, outputPerMTok: 0 },
      'own-embed': { provider: 'own', inputPerMTok: 1, outputPerMTok: 0 },
      'chat-only': { provider: 'chatonly', inputPerMTok: 1, outputPerMTok: 1 },
      ...models,
    },
    providers: { ...base.providers, own: { kind: 'simulated' }, chatonly: { kind: 'simulated' } },
  } as ConfigInput;
}

const vectors: EmbeddingsResponse = {
  object: 'list',
  data: [{ object: 'embedding', index: 0, embedding: [1, 0] }],
  model: 'own-embed',
} as never;

/** A provider whose embed answers after `delayMs` on the clock (with no usage unless given), or stalls until aborted. */
function ownProvider(
  clock: FakeClock,
  { delayMs = 0, usage, stall = false, failFirst = false }: { delayMs?: number; usage?: unknown; stall?: boolean; failFirst?: boolean } = {},
) {
  const seen: { signal?: AbortSignal; calls: number } = { calls: 0 };
  const provider = {
    name: 'own',
    complete: () => Promise.reject(new Error('not used')),
    stream: () => {
      throw new Error('not used');
    },
    embed: (_req: EmbeddingsRequest, { signal }: { signal: AbortSignal }) =>
      new Promise<EmbeddingsResponse>((resolve, reject) => {
        seen.signal = signal;
        if (failFirst && seen.calls++ === 0) return reject(new ProviderError('the upstream answered 503', { status: 503 }));
        signal.addEventListener('abort', () => reject(new Error('aborted by the guard')), { once: true });
        const answer = usage === undefined ? vectors : ({ ...vectors, usage } as never);
        if (stall) return;
        if (delayMs === 0) resolve(answer);
        else clock.setTimeout(() => resolve(answer), delayMs);
      }),
  } as unknown as ModelProvider;
  return { provider, seen };
}

const chatOnly = {
  name: 'chatonly',
  complete: () => Promise.reject(new Error('not used')),
  stream: () => {
    throw new Error('not used');
  },
} as unknown as ModelProvider;

async function refusal(p: Promise<unknown>): Promise<GuardError> {
  return (await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  )) as GuardError;
}

describe('callEmbeddings request checks', () => {
  it('an unknown or missing model, a provider without embeddings and a missing input are request.invalid, named', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: config(), clock, providers: { chatonly: chatOnly } });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const run = await guard.startRun({ agent: 'bot' });

    const unknown = await refusal(run.callEmbeddings({ model: 'nope', input: 'x' }));
    expect(unknown).toMatchObject({ code: 'request.invalid', message: 'unknown model "nope"', details: { param: 'model' } });
    const missing = await refusal(run.callEmbeddings(undefined as never));
    expect(missing).toMatchObject({ code: 'request.invalid', message: 'unknown model "undefined"', details: { param: 'model' } });

    const noEmbed = await refusal(run.callEmbeddings({ model: 'chat-only', input: 'x' }));
    expect(noEmbed).toMatchObject({
      code: 'request.invalid',
      message: 'model "chat-only" is served by provider "chatonly", which has no embeddings',
      details: { param: 'model' },
    });

    for (const input of [undefined, null]) {
      const noInput = await refusal(run.callEmbeddings({ model: 'sim-embed', input } as never));
      expect(noInput).toMatchObject({ code: 'request.invalid', message: 'input is required', details: { param: 'input' } });
    }
    expect(events.filter((e) => e.type === 'call.refused').map((e) => (e as { code: string }).code)).toEqual(Array(5).fill('request.invalid'));
    // Nothing was reserved: the run has made no step.
    expect((await run.usage()).steps).toBe(0);
    await guard.close();
  });

  it('a fallback served by a provider without embeddings is refused at the attempt, naming the provider', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({
      config: config({}, {}, { 'sim-embed': { provider: 'sim', inputPerMTok: 0.02, outputPerMTok: 0, fallbacks: ['chat-only'] } }),
      clock,
      providers: { chatonly: chatOnly },
    });
    await guard.breakers.open('model:sim-embed', { cooldownMs: 30_000, by: 'test', reason: 'test' });
    const run = await guard.startRun({ agent: 'bot' });
    const error = await refusal(run.callEmbeddings({ model: 'sim-embed', input: 'x' }));
    expect(error).toMatchObject({ code: 'request.invalid', message: 'provider "chatonly" has no embeddings', details: { param: 'model' } });
    await guard.close();
  });
});

describe('callEmbeddings and the policy', () => {
  it('admission and every retry (not the first attempt) ask the policy, with the context of a call without output', async () => {
    const clock = new FakeClock(T0);
    const asked: (AuthorizeRequest & { at: number })[] = [];
    const authorizer = {
      authorize(request: AuthorizeRequest) {
        asked.push({ ...request, at: clock.now() });
        return { effect: 'allow' as const, policies: [] };
      },
    };
    const retry = [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 2, backoffRate: 1 }];
    const { provider } = ownProvider(clock, { failFirst: true });
    const guard = createGuard({ config: config({ retry }), clock, authorizer, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callEmbeddings({ model: 'own-embed', input: 'refund policy' }, { inputTokens: 2 });
    for (let i = 0; i < 10; i++) await clock.advance(100);
    const result = await pending;
    expect(result.attempts).toBe(2);
    const models = asked.filter((a) => a.action === 'invokeModel');
    expect(models.map((a) => a.at)).toEqual([T0, T0 + 100]);
    expect(models[0]).toEqual({
      agent: 'bot',
      tenant: 'acme',
      action: 'invokeModel',
      resource: 'own-embed',
      context: { maxTokens: 0, stream: false, runSteps: 0, runCostNanoUsd: 0, runDepth: 0, hourUtc: 0 },
      at: T0,
    });
    expect(models[1]).toMatchObject({ action: 'invokeModel', resource: 'own-embed', context: { maxTokens: 0, stream: false, runDepth: 0, hourUtc: 0 } });
    await guard.close();
  });

  it('a retry the policy now denies ends the call with policy.denied', async () => {
    const clock = new FakeClock(T0);
    let calls = 0;
    const authorizer = {
      authorize: () => (++calls >= 2 ? { effect: 'deny' as const, policies: ['no-retry'] } : { effect: 'allow' as const, policies: [] }),
    };
    const retry = [{ errorEquals: ['upstream.error'], intervalMs: 100, maxAttempts: 2, backoffRate: 1 }];
    const { provider } = ownProvider(clock, { failFirst: true });
    const guard = createGuard({ config: config({ retry }), clock, authorizer, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = refusal(run.callEmbeddings({ model: 'own-embed', input: 'x' }, { inputTokens: 2 }));
    for (let i = 0; i < 10; i++) await clock.advance(100);
    expect((await pending).code).toBe('policy.denied');
    await guard.close();
  });
});

describe('callEmbeddings usage, reservations and timeouts', () => {
  it('without reported usage the reserved input tokens are settled and priced', async () => {
    const clock = new FakeClock(T0);
    const { provider } = ownProvider(clock);
    const guard = createGuard({ config: config(), clock, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callEmbeddings({ model: 'own-embed', input: 'hello' }, { inputTokens: 7 });
    expect(result.usage).toEqual({ inputTokens: 7, outputTokens: 0 });
    expect(result.costUsd).toBeCloseTo(7 / 1e6, 15);
    expect(result.attempts).toBe(1);
    await guard.close();
  });

  it('reported usage wins over the reserved bound', async () => {
    const clock = new FakeClock(T0);
    const { provider } = ownProvider(clock, { usage: { prompt_tokens: 3, total_tokens: 3 } });
    const guard = createGuard({ config: config(), clock, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callEmbeddings({ model: 'own-embed', input: 'hello' }, { inputTokens: 7 });
    expect(result.usage).toEqual({ inputTokens: 3, outputTokens: 0 });
    await guard.close();
  });

  it('a call in flight holds the run (no idle end, interruptible); a finished one leaves no timer or count behind', async () => {
    const clock = new FakeClock(T0);
    const { provider, seen } = ownProvider(clock, { delayMs: 1000 });
    const guard = createGuard({ config: config({}, { defaults: { retry: [], runIdleTtlMs: 100 } } as never), clock, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const before = clock.pending;
    const pending = run.callEmbeddings({ model: 'own-embed', input: 'hello' }, { inputTokens: 2 });
    await clock.advance(500);
    expect(await guard.sweepIdle()).toBe(0);
    await clock.advance(500);
    const result = await pending;
    expect(result.usage.inputTokens).toBe(2);
    expect(seen.signal?.aborted).toBe(false);
    expect(clock.pending).toBe(before);
    expect(guard.interruptCalls(guardError('gateway.shutting_down', 'test'))).toBe(0);
    await guard.close();
  });

  it('a stalled upstream is aborted at the total timeout (no first-token timer: nothing streams)', async () => {
    const clock = new FakeClock(T0);
    const { provider, seen } = ownProvider(clock, { stall: true });
    const timeouts = { model: { totalMs: 2000, firstTokenMs: 500, idleMs: 300 } };
    const guard = createGuard({ config: config({ timeouts }), clock, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = refusal(run.callEmbeddings({ model: 'own-embed', input: 'hello' }, { inputTokens: 2 }));
    for (let i = 0; i < 25; i++) await clock.advance(100);
    const error = await pending;
    expect(error).toMatchObject({ code: 'timeout.total', message: 'model call exceeded its total timeout of 2000 ms', details: { limit: 2000 } });
    expect(seen.signal?.aborted).toBe(true);
    await guard.close();
  });

  it('a call in flight holds its step: a second call over maxSteps is refused', async () => {
    const clock = new FakeClock(T0);
    const { provider } = ownProvider(clock, { delayMs: 1000 });
    const guard = createGuard({ config: config({ limits: { maxSteps: 1 } }), clock, providers: { own: provider } });
    const run = await guard.startRun({ agent: 'bot' });
    const first = run.callEmbeddings({ model: 'own-embed', input: 'a' }, { inputTokens: 2 });
    await clock.advance(10);
    const second = await refusal(run.callEmbeddings({ model: 'own-embed', input: 'b' }, { inputTokens: 2 }));
    expect(second).toMatchObject({ code: 'limit.steps', details: { limit: 1 } });
    await clock.advance(1000);
    await first;
    const third = await refusal(run.callEmbeddings({ model: 'own-embed', input: 'c' }, { inputTokens: 2 }));
    expect(third).toMatchObject({ code: 'limit.steps', details: { limit: 1 } });
    await guard.close();
  });

  it('a rate limit refuses with rate.limited, its scope and when to retry', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({
      config: config({}, {}, { 'sim-embed': { provider: 'sim', inputPerMTok: 0.02, outputPerMTok: 0, rateLimits: { requestsPerMinute: 1 } } }),
      clock,
    });
    const run = await guard.startRun({ agent: 'bot' });
    await run.callEmbeddings({ model: 'sim-embed', input: 'a' });
    const error = await refusal(run.callEmbeddings({ model: 'sim-embed', input: 'b' }));
    expect(error.code).toBe('rate.limited');
    expect(error.details.scope).toEqual(expect.stringContaining('sim-embed'));
    expect(error.message).toBe(`rate limit reached for ${String(error.details.scope)}`);
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect((await run.usage()).steps).toBe(1);
    await guard.close();
  });
});
