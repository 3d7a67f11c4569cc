import { describe, expect, it } from 'vitest';
import { createGuard, createSimModel, type GuardError, type ChatRequest, type ModelProvider } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig } from './fixtures.ts';

/** The simulated model: failing about half its calls, then down, then healthy, as the test says. */
function flakyProvider(clock: FakeClock) {
  const sim = createSimModel({ clock, seed: 7 });
  const state = { mode: 'flaky' as 'flaky' | 'down' | 'healthy' };
  const script = (req: ChatRequest): ChatRequest => (state.mode === 'healthy' ? req : { ...req, sim: state.mode === 'flaky' ? 'fail 0.5 503' : 'fail 1 503' });
  const provider: ModelProvider = {
    name: 'sim',
    complete: (req, opts) => sim.complete(script(req), opts),
    stream: (req, opts) => sim.stream(script(req), opts),
  };
  return { sim, provider, state };
}

const request: ChatRequest = { model: 'sim-small', messages: [{ role: 'user', content: 'status?' }] };
const noAutoBreakers = { defaults: { failureThreshold: 0 } };

describe('alarms and breakers in the runtime', () => {
  it('a provider failing half its calls trips its alarm, its breaker refuses at no cost, probes close or reopen it', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    const { sim, provider, state } = flakyProvider(clock);
    const guard = createGuard({
      config: baseConfig({ limits: { maxSteps: 100_000, maxCostUsd: 100, maxIdenticalOutputs: 100_000, maxDurationMs: 3_600_000 } }, {
        breakers: noAutoBreakers,
        alarms: [
          {
            name: 'sim-errors',
            scope: 'provider:sim',
            metric: 'error_rate',
            period: '10s',
            evaluationPeriods: 3,
            datapointsToAlarm: 2,
            comparison: 'GreaterThanOrEqualToThreshold',
            threshold: 0.3,
            treatMissingData: 'notBreaching',
            actions: [{ openBreaker: { cooldown: '30s', halfOpenProbes: 2 } }],
          },
        ],
      } as never),
      clock,
      providers: { sim: provider },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const call = () =>
      run.callModel(request).then(
        () => 'ok',
        (e: GuardError) => e.code,
      );

    // Drive traffic one second at a time until the breaker refuses.
    let openedAt: number | undefined;
    for (let s = 0; s < 60 && openedAt === undefined; s++) {
      for (let i = 0; i < 4; i++) if ((await call()) === 'breaker.open') openedAt = clock.now();
      await clock.advance(1000);
    }
    expect(openedAt).toBeDefined();
    // Within the evaluation window (3 periods of 10 s, plus the tick that evaluates them).
    expect(openedAt! - Date.UTC(2026, 0, 1)).toBeLessThanOrEqual(40_000);

    // Refused calls reach no upstream and cost nothing.
    const upstreamBefore = sim.stats.calls;
    const costBefore = (await run.usage()).costUsd;
    const refused = (await run.callModel(request).catch((e: unknown) => e)) as GuardError;
    expect(refused.code).toBe('breaker.open');
    expect(refused.details.retryAfterMs).toBeGreaterThan(0);
    expect(refused.details.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(sim.stats.calls).toBe(upstreamBefore);
    expect((await run.usage()).costUsd).toBe(costBefore);

    // Still failing after the cooldown: the probe fails and it reopens, for longer.
    state.mode = 'down';
    await clock.advance(30_000);
    expect(await call()).toBe('upstream.error');
    const reopened = (await run.callModel(request).catch((e: unknown) => e)) as GuardError;
    expect(reopened.code).toBe('breaker.open');
    expect(reopened.details.retryAfterMs).toBeGreaterThan(30_000);

    // Recovered: after the (doubled) cooldown the probes succeed and close it.
    state.mode = 'healthy';
    await clock.advance(60_000);
    const after = [await call(), await call(), await call(), await call()];
    expect(after).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect((await guard.breakers.get('provider:sim')).kind).toBe('closed');
    await guard.close();
  });

  it('with the primary model’s breaker open, the fallback serves the call and says so', async () => {
    const guard = createGuard({
      config: baseConfig({}, {
        models: {
          'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, fallbacks: ['sim-backup'] },
          'sim-backup': { provider: 'sim-2', inputPerMTok: 0.3, outputPerMTok: 1.2 },
        },
        providers: { sim: { kind: 'simulated' }, 'sim-2': { kind: 'simulated' } },
      } as never),
    });
    const events: string[] = [];
    guard.on((e) => {
      if (e.type === 'call.allowed') events.push(`${e.resource}->${e.servedBy ?? e.resource}`);
    });
    await guard.breakers.open('model:sim-small', { by: 'operator', reason: 'maintenance', cooldownMs: null });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel(request);
    expect(result.model).toBe('sim-small');
    expect(result.servedBy).toBe('sim-backup');
    expect(events).toEqual(['sim-small->sim-backup']);
    // Without a fallback, the call is refused with the breaker's code.
    await guard.breakers.open('model:sim-backup', { by: 'operator', reason: 'maintenance', cooldownMs: 5000 });
    await expect(run.callModel(request)).rejects.toMatchObject({ code: 'breaker.open' });
    await guard.close();
  });

  it('the default breaker opens after 5 consecutive upstream failures', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const codes: string[] = [];
    for (let i = 0; i < 7; i++)
      codes.push(
        await run.callModel({ ...request, messages: [{ role: 'user', content: `[sim:fail 1 503] ${i}` }] }).then(
          () => 'ok',
          (e: GuardError) => e.code,
        ),
      );
    expect(codes).toEqual(['upstream.error', 'upstream.error', 'upstream.error', 'upstream.error', 'upstream.error', 'breaker.open', 'breaker.open']);
    await guard.close();
  });

  it('a cost alarm on a tenant kills the tenant’s runs in flight', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const sim = createSimModel({ clock });
    const guard = createGuard({
      config: baseConfig({ limits: { maxSteps: 100_000, maxCostUsd: 100, maxIdenticalOutputs: 100_000, maxDurationMs: 3_600_000 } }, {
        tenants: { acme: {}, other: {} },
        agents: { bot: { tenant: 'acme', allow: { models: ['*'] } }, calm: { tenant: 'other', allow: { models: ['*'] } } },
        alarms: [
          {
            name: 'acme-spend',
            scope: 'tenant:acme',
            metric: 'cost_usd',
            statistic: 'Sum',
            period: '10s',
            evaluationPeriods: 1,
            comparison: 'GreaterThanThreshold',
            threshold: 0.05,
            actions: [{ kill: { reason: 'spend per period over $0.05' } }],
          },
        ],
      } as never),
      clock,
      providers: { sim },
    });
    const spender = await guard.startRun({ agent: 'bot' });
    const bystander = await guard.startRun({ agent: 'calm' });
    // A long stream in flight when the alarm fires.
    const stream = await spender.streamModel({ model: 'sim-small', messages: [{ role: 'user', content: '[sim:stall 2] go' }] });
    const inFlight = (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    for (let i = 0; i < 5; i++) await spender.callModel({ model: 'sim-pricey', messages: [{ role: 'user', content: `[sim:long 200] essay ${i}` }] });
    await clock.advance(20_000);
    expect(((await inFlight) as GuardError).code).toBe('kill.switch');
    expect(spender.signal.aborted).toBe(true);
    await expect(spender.callModel(request)).rejects.toMatchObject({ code: 'kill.switch' });
    expect(bystander.signal.aborted).toBe(false);
    await expect(bystander.callModel(request)).resolves.toBeTruthy();
    await guard.close();
  });
});
