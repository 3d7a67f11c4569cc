import { afterEach, describe, expect, it } from 'vitest';
import { markInternal } from '../../src/core/fault.ts';
import { guardError, type GuardError } from '../../src/core/errors.ts';
import type { ResolvedModel } from '../../src/config/resolve.ts';
import { createGuard, createSimModel, type GuardEvent, type ModelProvider, ProviderError } from '../../src/index.ts';
import type { GuardContext } from '../../src/runtime/context.ts';
import { admitBreakers, type BreakerTokens, recordBreakers, releaseBreakers } from '../../src/runtime/model-breakers.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

/**
 * Issue 20: src/runtime/model-breakers.ts pinned exactly — which candidate serves, which tokens it
 * holds, which breaker a refusal names (the soonest to reopen, the first on a tie, held-open last),
 * probe slots given back, and how outcomes move the breakers. Driven through the module's exports
 * with the guard's real context, its real breakers (memory store) and a FakeClock.
 */
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

const config = (extra: Record<string, unknown> = {}) =>
  baseConfig({}, {
    providers: { 'p-main': { kind: 'simulated' }, 'p-alt': { kind: 'simulated' }, 'p-last': { kind: 'simulated' } },
    models: {
      'm-main': { provider: 'p-main', inputPerMTok: 1, outputPerMTok: 2, fallbacks: ['m-alt', 'm-last'] },
      'm-alt': { provider: 'p-alt', inputPerMTok: 1, outputPerMTok: 2 },
      'm-last': { provider: 'p-last', inputPerMTok: 1, outputPerMTok: 2 },
      'm-solo': { provider: 'p-main', inputPerMTok: 1, outputPerMTok: 2 },
    },
    ...extra,
  } as never);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/** A provider whose first `n` completions fail with a 503, then answers as the simulator does. */
function failingFirst(n: number): ModelProvider {
  const sim = createSimModel();
  let calls = 0;
  return {
    name: 'p-main',
    complete: (req, opts) => (calls++ < n ? Promise.reject(new ProviderError('down', { status: 503 })) : sim.complete(req, opts)),
    stream: (req, opts) => sim.stream(req, opts),
  };
}

function setup(extra: Record<string, unknown> = {}) {
  const clock = new FakeClock(T0);
  const guard = createGuard({ config: config(extra), clock, audit: false });
  closers.push(() => guard.close());
  const events: GuardEvent[] = [];
  guard.on((e) => {
    if (e.type === 'breaker.changed' || e.type === 'call.refused') events.push(e);
  });
  const ctx: GuardContext = guard.ctx;
  const model = (name: string): ResolvedModel => guard.config.models[name]!;
  /** The fallbacks admitBreakers asked about, in order; `deny` names the ones refused by policy. */
  const admits: string[] = [];
  const admitting =
    (deny: string[] = []) =>
    (m: ResolvedModel) => {
      admits.push(m.name);
      if (deny.includes(m.name)) throw guardError('policy.denied', `bot may not use model ${m.name}`, { policies: [], resource: m.name });
    };
  const open = (scope: string, cooldownMs: number | null, halfOpenProbes?: number) =>
    guard.breakers.open(scope, { cooldownMs, by: 'operator', reason: 'test', ...(halfOpenProbes ? { halfOpenProbes } : {}) });
  const state = async (scope: string) => (await guard.breakers.get(scope)).state;
  return { clock, guard, ctx, model, admits, admitting, open, state, events };
}

const closedTokens = (model: string, provider: string): BreakerTokens => [
  [`model:${model}`, { epoch: 0 }],
  [`provider:${provider}`, { epoch: 0 }],
];

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: GuardError) => ({ code: e.code, message: e.message, details: e.details }),
  );

describe('admitBreakers: which model serves', () => {
  it('without breakers the requested model serves with no tokens, and no fallback is considered', async () => {
    const { ctx, model, admits, admitting, open } = setup();
    await open('model:m-main', null);
    const main = model('m-main');
    const out = await admitBreakers({ ...ctx, breakers: undefined }, main, admitting());
    expect(out).toEqual({ model: main, tokens: [] });
    expect(out.model).toBe(main);
    expect(admits).toEqual([]);
  });

  it('all closed: the requested model serves, holding its model and provider tokens in that order; the policy hook is not asked about it', async () => {
    const { ctx, model, admits, admitting } = setup();
    const out = await admitBreakers(ctx, model('m-main'), admitting());
    expect(out).toEqual({ model: model('m-main'), tokens: closedTokens('m-main', 'p-main') });
    expect(admits).toEqual([]);
  });

  it('an open model breaker sends the call to the first fallback, which holds only its own tokens', async () => {
    const { ctx, model, admits, admitting, open, events } = setup();
    await open('model:m-main', 30_000);
    const out = await admitBreakers(ctx, model('m-main'), admitting());
    expect(out).toEqual({ model: model('m-alt'), tokens: closedTokens('m-alt', 'p-alt') });
    expect(admits).toEqual(['m-alt']);
    expect(events).toEqual([{ type: 'breaker.changed', at: T0, scope: 'model:m-main', from: 'closed', to: 'open', reason: 'operator: test' }]);
  });

  it('an open provider breaker blocks the model too; the next fallback with both breakers closed serves', async () => {
    const { ctx, model, admits, admitting, open } = setup();
    await open('provider:p-main', 30_000);
    await open('model:m-alt', 30_000);
    const out = await admitBreakers(ctx, model('m-main'), admitting());
    expect(out).toEqual({ model: model('m-last'), tokens: closedTokens('m-last', 'p-last') });
    expect(admits).toEqual(['m-alt', 'm-last']);
  });

  it('a fallback the policy refuses (policy.denied) is skipped without touching its breakers; the next one serves', async () => {
    const { ctx, model, admits, admitting, open } = setup();
    await open('model:m-main', 30_000);
    const out = await admitBreakers(ctx, model('m-main'), admitting(['m-alt']));
    expect(out).toEqual({ model: model('m-last'), tokens: closedTokens('m-last', 'p-last') });
    expect(admits).toEqual(['m-alt', 'm-last']);
  });

  it('when every fallback is refused by policy, the refusal is the open breaker of the requested model', async () => {
    const { ctx, model, admits, admitting, open } = setup();
    await open('model:m-main', 30_000);
    expect(await rejection(admitBreakers(ctx, model('m-main'), admitting(['m-alt', 'm-last'])))).toEqual({
      code: 'breaker.open',
      message: 'breaker for model:m-main is open; retry in 30000 ms',
      details: { scope: 'model:m-main', retryAfterMs: 30_000 },
    });
    expect(admits).toEqual(['m-alt', 'm-last']);
  });

  it('any other error from the policy hook propagates as is (another GuardError code, or not a GuardError at all); later fallbacks are not tried', async () => {
    const { ctx, model, admits, open } = setup();
    await open('model:m-main', 30_000);
    const steps = guardError('limit.steps', 'out of steps', { limit: 1 });
    const admitSteps = (m: ResolvedModel) => {
      admits.push(m.name);
      throw steps;
    };
    await expect(admitBreakers(ctx, model('m-main'), admitSteps)).rejects.toBe(steps);
    expect(admits).toEqual(['m-alt']);
    const plain = new Error('policy.denied');
    const admitPlain = (m: ResolvedModel) => {
      admits.push(m.name);
      throw plain;
    };
    await expect(admitBreakers(ctx, model('m-main'), admitPlain)).rejects.toBe(plain);
    expect(admits).toEqual(['m-alt', 'm-alt']);
  });

  it('a model without fallbacks whose breaker is held open is refused until an operator closes it (no retryAfterMs)', async () => {
    const { ctx, model, admits, admitting, open } = setup();
    await open('model:m-solo', null);
    expect(await rejection(admitBreakers(ctx, model('m-solo'), admitting()))).toEqual({
      code: 'breaker.open',
      message: 'breaker for model:m-solo is open; until an operator closes it',
      details: { scope: 'model:m-solo' },
    });
    expect(admits).toEqual([]);
  });
});

describe('admitBreakers: which open breaker the refusal names', () => {
  const cases: Array<{ name: string; open: Array<[string, number | null]>; scope: string; retry: number | null }> = [
    {
      name: 'ascending cooldowns: the first',
      open: [
        ['model:m-main', 5_000],
        ['model:m-alt', 10_000],
        ['provider:p-last', 20_000],
      ],
      scope: 'model:m-main',
      retry: 5_000,
    },
    {
      name: 'descending cooldowns: the last',
      open: [
        ['model:m-main', 9_000],
        ['provider:p-alt', 8_000],
        ['model:m-last', 7_000],
      ],
      scope: 'model:m-last',
      retry: 7_000,
    },
    {
      name: 'the smallest in the middle',
      open: [
        ['provider:p-main', 20_000],
        ['model:m-alt', 4_000],
        ['model:m-last', 6_000],
      ],
      scope: 'model:m-alt',
      retry: 4_000,
    },
    {
      name: 'a tie: the first of the equals',
      open: [
        ['model:m-main', 7_000],
        ['model:m-alt', 7_000],
        ['model:m-last', 7_000],
      ],
      scope: 'model:m-main',
      retry: 7_000,
    },
    {
      name: 'held open first, then cooldowns: the smallest cooldown',
      open: [
        ['model:m-main', null],
        ['model:m-alt', 8_000],
        ['model:m-last', 9_000],
      ],
      scope: 'model:m-alt',
      retry: 8_000,
    },
    {
      name: 'a cooldown beats a later held-open breaker',
      open: [
        ['model:m-main', 9_000],
        ['model:m-alt', null],
        ['model:m-last', null],
      ],
      scope: 'model:m-main',
      retry: 9_000,
    },
    {
      name: 'all held open: the first',
      open: [
        ['model:m-main', null],
        ['provider:p-alt', null],
        ['model:m-last', null],
      ],
      scope: 'model:m-main',
      retry: null,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { ctx, model, admitting, open, admits } = setup();
      for (const [scope, cooldown] of c.open) await open(scope, cooldown);
      const wait = c.retry === null ? 'until an operator closes it' : `retry in ${c.retry} ms`;
      expect(await rejection(admitBreakers(ctx, model('m-main'), admitting()))).toEqual({
        code: 'breaker.open',
        message: `breaker for ${c.scope} is open; ${wait}`,
        details: c.retry === null ? { scope: c.scope } : { scope: c.scope, retryAfterMs: c.retry },
      });
      expect(admits).toEqual(['m-alt', 'm-last']);
    });
  }

  it('the cooldown left is measured at the time of the call (fake clock)', async () => {
    const { ctx, model, admitting, open, clock } = setup();
    await open('model:m-solo', 10_000);
    await clock.advance(2_500);
    expect(await rejection(admitBreakers(ctx, model('m-solo'), admitting()))).toEqual({
      code: 'breaker.open',
      message: 'breaker for model:m-solo is open; retry in 7500 ms',
      details: { scope: 'model:m-solo', retryAfterMs: 7_500 },
    });
  });
});

describe('admitBreakers: probe slots', () => {
  it('a half-open model breaker whose provider is open gives its probe back before the fallback serves', async () => {
    const { ctx, model, admitting, open, clock, state, events } = setup();
    await open('model:m-main', 1_000, 1);
    await open('provider:p-main', 60_000);
    await clock.advance(1_000);
    const out = await admitBreakers(ctx, model('m-main'), admitting());
    expect(out).toEqual({ model: model('m-alt'), tokens: closedTokens('m-alt', 'p-alt') });
    expect(await state('model:m-main')).toEqual({
      kind: 'halfOpen',
      epoch: 2,
      since: T0 + 1_000,
      cooldownMs: 1_000,
      probes: 1,
      successes: 0,
      pending: [],
      by: 'operator',
      reason: 'test',
    });
    expect(events).toEqual([
      { type: 'breaker.changed', at: T0, scope: 'model:m-main', from: 'closed', to: 'open', reason: 'operator: test' },
      { type: 'breaker.changed', at: T0, scope: 'provider:p-main', from: 'closed', to: 'open', reason: 'operator: test' },
      { type: 'breaker.changed', at: T0 + 1_000, scope: 'model:m-main', from: 'open', to: 'halfOpen', reason: 'operator: cooldown over' },
    ]);
    // The slot is free again: the one probe the breaker allows can still be taken.
    const again = await ctx.breakers!.admit('model:m-main');
    expect(again).toMatchObject({ ok: true, probe: true, token: { epoch: 2 } });
  });

  it('a half-open breaker that serves hands out its probe token', async () => {
    const { ctx, model, admitting, open, clock } = setup();
    await open('model:m-solo', 1_000, 2);
    await clock.advance(1_000);
    const out = await admitBreakers(ctx, model('m-solo'), admitting());
    expect(out.model).toBe(model('m-solo'));
    expect(out.tokens).toHaveLength(2);
    expect(out.tokens[0]).toEqual(['model:m-solo', { epoch: 2, probe: expect.any(String) }]);
    expect(out.tokens[1]).toEqual(['provider:p-main', { epoch: 0 }]);
  });

  it('with every probe slot taken the refusal says retry in the probe-busy wait', async () => {
    const { ctx, model, admitting, open, clock } = setup();
    await open('model:m-solo', 1_000, 1);
    await clock.advance(1_000);
    await admitBreakers(ctx, model('m-solo'), admitting());
    expect(await rejection(admitBreakers(ctx, model('m-solo'), admitting()))).toEqual({
      code: 'breaker.open',
      message: 'breaker for model:m-solo is open; retry in 1000 ms',
      details: { scope: 'model:m-solo', retryAfterMs: 1_000 },
    });
  });
});

describe('releaseBreakers', () => {
  it('frees the probe slot of every token it is given, in each scope', async () => {
    const { ctx, open, clock, state } = setup();
    await open('model:m-solo', 1_000, 1);
    await open('provider:p-main', 1_000, 1);
    await clock.advance(1_000);
    const a = await ctx.breakers!.admit('model:m-solo');
    const b = await ctx.breakers!.admit('provider:p-main');
    if (!a.ok || !b.ok) throw new Error('expected probes');
    expect(await state('model:m-solo')).toMatchObject({ kind: 'halfOpen', pending: [{ id: a.token.probe, expiresAt: T0 + 61_000 }] });
    expect(await state('provider:p-main')).toMatchObject({ kind: 'halfOpen', pending: [{ id: b.token.probe, expiresAt: T0 + 61_000 }] });
    await releaseBreakers(ctx, [
      ['model:m-solo', a.token],
      ['provider:p-main', b.token],
    ]);
    expect(await state('model:m-solo')).toMatchObject({ kind: 'halfOpen', pending: [] });
    expect(await state('provider:p-main')).toMatchObject({ kind: 'halfOpen', pending: [] });
  });
});

describe('recordBreakers', () => {
  const upstream = () => guardError('upstream.error', 'the provider answered 503', { status: 503 });

  it('without breakers, or with no tokens, it does nothing (and does not throw)', async () => {
    const { ctx, state } = setup();
    await expect(recordBreakers({ ...ctx, breakers: undefined }, closedTokens('m-solo', 'p-main'), upstream())).resolves.toBeUndefined();
    await expect(recordBreakers({ ...ctx, breakers: undefined }, [], 'success')).resolves.toBeUndefined();
    await expect(recordBreakers(ctx, [], upstream())).resolves.toBeUndefined();
    expect(await state('model:m-solo')).toEqual({ kind: 'closed', epoch: 0, since: T0, failures: 0 });
  });

  it('upstream failures count on every scope held; a success resets the count', async () => {
    const { ctx, state } = setup();
    const tokens = closedTokens('m-solo', 'p-main');
    await recordBreakers(ctx, tokens, upstream());
    await recordBreakers(ctx, tokens, guardError('timeout.first_token', 'slow'));
    expect(await state('model:m-solo')).toEqual({ kind: 'closed', epoch: 0, since: T0, failures: 2 });
    expect(await state('provider:p-main')).toEqual({ kind: 'closed', epoch: 0, since: T0, failures: 2 });
    await recordBreakers(ctx, tokens, 'success');
    expect(await state('model:m-solo')).toEqual({ kind: 'closed', epoch: 0, since: T0, failures: 0 });
    expect(await state('provider:p-main')).toEqual({ kind: 'closed', epoch: 0, since: T0, failures: 0 });
  });

  it('the threshold-th upstream failure opens the breaker (event with the exact reason)', async () => {
    const { ctx, state, events } = setup({ breakers: { defaults: { failureThreshold: 2, cooldownMs: 10_000 } } });
    const tokens: BreakerTokens = [['model:m-solo', { epoch: 0 }]];
    await recordBreakers(ctx, tokens, upstream());
    await recordBreakers(ctx, tokens, upstream());
    expect(await state('model:m-solo')).toEqual({
      kind: 'open',
      epoch: 1,
      since: T0,
      until: T0 + 10_000,
      cooldownMs: 10_000,
      probes: 3,
      by: 'auto',
      reason: '2 consecutive failures',
    });
    expect(events).toEqual([{ type: 'breaker.changed', at: T0, scope: 'model:m-solo', from: 'closed', to: 'open', reason: 'auto: 2 consecutive failures' }]);
  });

  it('a request error, or an internal one, does not count: it only frees the probe (the breaker stays half-open)', async () => {
    const { ctx, open, clock, state } = setup();
    const tokens: BreakerTokens = closedTokens('m-solo', 'p-main');
    await recordBreakers(ctx, tokens, upstream());
    await recordBreakers(ctx, tokens, guardError('request.invalid', 'bad request'));
    await recordBreakers(ctx, tokens, markInternal(upstream()));
    expect(await state('model:m-solo')).toEqual({ kind: 'closed', epoch: 0, since: T0, failures: 1 });
    await open('model:m-solo', 1_000, 1);
    await clock.advance(1_000);
    const probe = await ctx.breakers!.admit('model:m-solo');
    if (!probe.ok) throw new Error('expected a probe');
    await recordBreakers(ctx, [['model:m-solo', probe.token]], guardError('request.invalid', 'bad request'));
    expect(await state('model:m-solo')).toEqual({
      kind: 'halfOpen',
      epoch: 2,
      since: T0 + 1_000,
      cooldownMs: 1_000,
      probes: 1,
      successes: 0,
      pending: [],
      by: 'operator',
      reason: 'test',
    });
  });

  it('a probe that fails upstream reopens the breaker with the backed-off cooldown; one that succeeds closes it', async () => {
    const { ctx, open, clock, state, events } = setup();
    await open('model:m-solo', 1_000, 1);
    await clock.advance(1_000);
    const first = await ctx.breakers!.admit('model:m-solo');
    if (!first.ok) throw new Error('expected a probe');
    await recordBreakers(ctx, [['model:m-solo', first.token]], upstream());
    expect(await state('model:m-solo')).toEqual({
      kind: 'open',
      epoch: 3,
      since: T0 + 1_000,
      until: T0 + 3_000,
      cooldownMs: 2_000,
      probes: 1,
      by: 'operator',
      reason: 'probe failed (test)',
    });
    await clock.advance(2_000);
    const second = await ctx.breakers!.admit('model:m-solo');
    if (!second.ok) throw new Error('expected a probe');
    await recordBreakers(ctx, [['model:m-solo', second.token]], 'success');
    expect(await state('model:m-solo')).toEqual({ kind: 'closed', epoch: 5, since: T0 + 3_000, failures: 0 });
    expect(events.map((e) => e.type === 'breaker.changed' && [e.from, e.to, e.reason])).toEqual([
      ['closed', 'open', 'operator: test'],
      ['open', 'halfOpen', 'operator: cooldown over'],
      ['halfOpen', 'open', 'operator: probe failed (test)'],
      ['open', 'halfOpen', 'operator: cooldown over'],
      ['halfOpen', 'closed', 'auto: probes succeeded'],
    ]);
  });
});

describe('through the guard: breakers on a model call', () => {
  it('two upstream failures open the model and provider breakers; the next call is refused with breaker.open and a call.refused event', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({
      config: config({ breakers: { defaults: { failureThreshold: 2, cooldownMs: 10_000, halfOpenProbes: 1 } } }),
      clock,
      audit: false,
      providers: { 'p-main': failingFirst(2) },
    });
    closers.push(() => guard.close());
    const events: GuardEvent[] = [];
    guard.on((e) => {
      if (e.type === 'breaker.changed' || e.type === 'call.refused') events.push(e);
    });
    const run = await guard.startRun({ agent: 'bot' });
    for (let i = 0; i < 2; i++) expect(await rejection(run.callModel(ask('hi', 'm-solo')))).toMatchObject({ code: 'upstream.error' });
    expect(await rejection(run.callModel(ask('hi', 'm-solo')))).toEqual({
      code: 'breaker.open',
      message: 'breaker for model:m-solo is open; retry in 10000 ms',
      details: { scope: 'model:m-solo', retryAfterMs: 10_000 },
    });
    expect(events.filter((e) => e.type === 'breaker.changed')).toEqual([
      { type: 'breaker.changed', at: T0, scope: 'model:m-solo', from: 'closed', to: 'open', reason: 'auto: 2 consecutive failures' },
      { type: 'breaker.changed', at: T0, scope: 'provider:p-main', from: 'closed', to: 'open', reason: 'auto: 2 consecutive failures' },
    ]);
    expect(events.filter((e) => e.type === 'call.refused')).toEqual([
      {
        type: 'call.refused',
        at: T0,
        runId: run.id,
        agent: 'bot',
        tenant: 'acme',
        action: 'invokeModel',
        resource: 'm-solo',
        code: 'breaker.open',
        message: 'breaker for model:m-solo is open; retry in 10000 ms',
        details: { scope: 'model:m-solo', retryAfterMs: 10_000 },
      },
    ]);
    // After the cooldown the breaker lets a probe through; it succeeds and the breakers close.
    await clock.advance(10_000);
    const ok = await run.callModel(ask('hi', 'm-solo'));
    expect([ok.model, ok.servedBy]).toEqual(['m-solo', undefined]);
    expect((await guard.breakers.get('model:m-solo')).state).toEqual({ kind: 'closed', epoch: 3, since: T0 + 10_000, failures: 0 });
    expect((await guard.breakers.get('provider:p-main')).state).toEqual({ kind: 'closed', epoch: 3, since: T0 + 10_000, failures: 0 });
  });
});
