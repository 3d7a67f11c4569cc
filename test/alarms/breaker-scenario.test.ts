import { describe, expect, it } from 'vitest';
import { createAlarmEngine, type AlarmEvent } from '../../src/alarms/engine.ts';
import { createBreakers, type BreakerChange } from '../../src/breakers/service.ts';
import { createMetrics } from '../../src/metrics/recorder.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createMemoryMetricStore } from '../../src/backends/memory/metrics.ts';
import { createMemoryBreakerStore } from '../../src/backends/memory/versioned.ts';

const T0 = Date.UTC(2026, 0, 1);
const SCOPE = 'provider:sim';

/**
 * The DESIGN.md alarm: error rate >= 50 % in 3 of 6 ten-second periods opens the provider's
 * breaker for 30 s with 3 probes. A simulated provider fails every other call.
 */
function world() {
  const clock = new FakeClock(T0);
  const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
  const changes: BreakerChange[] = [];
  const breakers = createBreakers({ clock, store: createMemoryBreakerStore(), onChange: (c) => changes.push(c) });
  const events: AlarmEvent[] = [];
  const engine = createAlarmEngine({
    clock,
    metrics,
    actions: { breakers, audit: (e) => void events.push(e) },
    alarms: [
      {
        name: 'sim-errors',
        scope: SCOPE,
        metric: 'error_rate',
        period: '10s',
        evaluationPeriods: 6,
        datapointsToAlarm: 3,
        comparison: 'GreaterThanOrEqualToThreshold',
        threshold: 0.5,
        treatMissingData: 'notBreaching',
        actions: [{ openBreaker: { cooldown: '30s', halfOpenProbes: 3 } }],
      },
    ],
  });

  const provider = { healthy: false, calls: 0 };
  const counts = { upstream: 0, refused: 0, spentUsd: 0 };
  /** One call through the guard: breaker, then upstream, then metrics and breaker result. */
  const call = async () => {
    const admission = await breakers.admit(SCOPE);
    if (!admission.ok) {
      counts.refused++;
      metrics.record({ provider: 'sim', model: 'sim-small', outcome: 'refused', code: 'breaker.open' });
      return;
    }
    counts.upstream++;
    provider.calls++;
    const ok = provider.healthy || provider.calls % 2 === 0; // half the calls fail
    const costUsd = ok ? 0.001 : 0;
    counts.spentUsd += costUsd;
    metrics.record({
      provider: 'sim',
      model: 'sim-small',
      outcome: ok ? 'success' : 'error',
      ...(ok ? {} : { code: 'upstream.error' }),
      latencyMs: 20,
      costUsd,
    });
    await breakers.record(SCOPE, admission.token, ok);
  };
  /** `seconds` of traffic at 4 calls a second, on the fake clock, with the engine ticking. */
  const run = async (seconds: number) => {
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < 4; i++) await call();
      await clock.advance(1_000);
      await engine.idle();
    }
  };
  engine.start();
  return { clock, metrics, breakers, engine, changes, events, provider, counts, run };
}

describe('a provider failing half its calls', () => {
  it('opens its breaker through the error_rate alarm within the evaluation window; refused calls reach no upstream and cost nothing; recovered probes close it', async () => {
    const w = world();
    let openedAt: number | undefined;
    for (let s = 0; s < 60 && openedAt === undefined; s++) {
      await w.run(1);
      if ((await w.breakers.get(SCOPE)).kind === 'open') openedAt = w.clock.now();
    }
    // 3 breaching periods of 10 s: the tick at T0+30s raises the alarm (window: 6 × 10 s).
    expect(openedAt).toBeDefined();
    expect(openedAt! - T0).toBeLessThanOrEqual(60_000);
    expect(openedAt! - T0).toBe(30_000);
    expect(w.engine.status('sim-errors')!.state).toBe('ALARM');
    expect(w.changes[0]).toMatchObject({ scope: SCOPE, from: 'closed', to: 'open', by: 'alarm:sim-errors' });
    expect(w.events.filter((e) => e.type === 'alarm.action')).toEqual([expect.objectContaining({ action: 'openBreaker', target: SCOPE, ok: true })]);
    // No 5-in-a-row failures: it was the alarm, not the consecutive-failure breaker.
    expect(w.changes).toHaveLength(1);

    const before = { ...w.counts };
    await w.run(29); // still inside the 30 s cooldown
    expect(w.counts.upstream).toBe(before.upstream);
    expect(w.counts.spentUsd).toBe(before.spentUsd);
    expect(w.counts.refused - before.refused).toBe(29 * 4);
    const refusedSeries = await w.metrics.series({
      scope: SCOPE,
      metric: 'refusals:breaker.open',
      statistic: 'Sum',
      periodMs: 10_000,
      end: T0 + 60_000,
      count: 3,
    });
    expect(refusedSeries).toEqual([40, 40, 36]);
    expect(await w.metrics.series({ scope: SCOPE, metric: 'cost_usd', statistic: 'Sum', periodMs: 10_000, end: T0 + 60_000, count: 3 })).toEqual([
      null,
      null,
      null,
    ]);

    // The provider recovers; after the cooldown the 3 probes succeed and close the breaker.
    w.provider.healthy = true;
    await w.run(2);
    const view = await w.breakers.get(SCOPE);
    expect(view.kind).toBe('closed');
    expect(w.changes.map((c) => `${c.from}→${c.to}`)).toEqual(['closed→open', 'open→halfOpen', 'halfOpen→closed']);
    const upstreamAfter = w.counts.upstream;
    await w.run(5);
    expect(w.counts.upstream - upstreamAfter).toBe(20);

    // Once the breaching periods leave the evaluation range the alarm returns to OK.
    await w.run(30);
    expect(w.engine.status('sim-errors')!.state).toBe('OK');
    await w.engine.stop();
  });

  it('reopens with a longer cooldown when the probes find it still failing', async () => {
    const w = world();
    await w.run(31);
    expect((await w.breakers.get(SCOPE)).kind).toBe('open');
    await w.run(30); // cooldown over at T0+60s: probes go upstream, one fails
    const view = await w.breakers.get(SCOPE);
    expect(view.kind).toBe('open');
    expect(view.state).toMatchObject({ kind: 'open', cooldownMs: 60_000, by: 'alarm:sim-errors' });
    expect(w.changes.map((c) => `${c.from}→${c.to}`)).toEqual(['closed→open', 'open→halfOpen', 'halfOpen→open']);
    // At most the 3 probes reached upstream while half-open.
    expect(w.counts.upstream).toBeLessThanOrEqual(30 * 4 + 4 + 3);
    await w.engine.stop();
  });
});
