import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/recorder.ts';
import type { CallEvent } from '../../src/metrics/event.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { METRIC_STORES } from './stores.ts';

const T0 = Date.UTC(2026, 0, 1);
const call = (over: Partial<CallEvent> = {}): CallEvent => ({
  tenant: 'acme',
  agent: 'bot',
  model: 'sim-small',
  provider: 'sim',
  outcome: 'success',
  latencyMs: 100,
  inputTokens: 10,
  outputTokens: 20,
  costUsd: 0.001,
  ...over,
});

describe.each(METRIC_STORES)('metrics recorder over $name', ({ make }) => {
  let close = () => {};
  afterEach(() => close());

  function setup(source = 'r1', shared?: ReturnType<typeof make>) {
    const s = shared ?? make();
    close = s.close;
    const clock = new FakeClock(T0);
    return { metrics: createMetrics({ clock, store: s.store, source }), clock, s };
  }

  it('keeps per-period statistic sets per scope, and reads them back per alarm period', async () => {
    const { metrics, clock } = setup();
    // Period [T0, T0+10s): 4 calls, 1 error, 1 timeout. Period [T0+10s, +20s): nothing. Then 1 call.
    metrics.record(call({ latencyMs: 50 }));
    metrics.record(call({ latencyMs: 150, outcome: 'error', code: 'upstream.error' }));
    metrics.record(call({ latencyMs: 250, outcome: 'timeout', code: 'timeout.total' }));
    metrics.record(call({ latencyMs: 1000 }));
    await clock.advance(20_000);
    metrics.record(call({ latencyMs: 10, costUsd: 0.5 }));
    const end = T0 + 30_000;
    const q = { scope: 'provider:sim', periodMs: 10_000, end, count: 3 };
    expect(await metrics.series({ ...q, metric: 'calls', statistic: 'Sum' })).toEqual([4, null, 1]);
    expect(await metrics.series({ ...q, metric: 'errors', statistic: 'Sum' })).toEqual([2, null, 0]);
    expect(await metrics.series({ ...q, metric: 'timeouts', statistic: 'Sum' })).toEqual([1, null, 0]);
    expect(await metrics.series({ ...q, metric: 'error_rate', statistic: 'Average' })).toEqual([0.5, null, 0]);
    expect(await metrics.series({ ...q, metric: 'errors', statistic: 'Average' })).toEqual([0.5, null, 0]);
    expect(await metrics.series({ ...q, metric: 'latency_ms', statistic: 'Maximum' })).toEqual([1000, null, 10]);
    expect(await metrics.series({ ...q, metric: 'latency_ms', statistic: 'Minimum' })).toEqual([50, null, 10]);
    expect(await metrics.series({ ...q, metric: 'latency_ms', statistic: 'SampleCount' })).toEqual([4, null, 1]);
    const [p50] = await metrics.series({ ...q, metric: 'latency_ms', statistic: 'p50' });
    expect(Math.abs(p50! - 150) / 150).toBeLessThan(0.01);
    expect(await metrics.series({ ...q, metric: 'cost_usd', statistic: 'Sum' })).toEqual([0.004, null, 0.5]);
    expect(await metrics.series({ ...q, metric: 'input_tokens', statistic: 'Sum' })).toEqual([40, null, 10]);
    // One 30 s alarm period covers all three base periods.
    expect(await metrics.series({ scope: 'provider:sim', periodMs: 30_000, end, count: 1, metric: 'calls', statistic: 'Sum' })).toEqual([5]);
    // Every named scope, and global, got the same counts.
    for (const scope of ['global', 'tenant:acme', 'agent:bot', 'model:sim-small']) {
      expect(await metrics.series({ ...q, scope, metric: 'calls', statistic: 'Sum' })).toEqual([4, null, 1]);
    }
    expect(await metrics.series({ ...q, scope: 'tenant:other', metric: 'calls', statistic: 'Sum' })).toEqual([null, null, null]);
  });

  it('counts refusals by code, separately from calls', async () => {
    const { metrics } = setup();
    metrics.record({ tenant: 'acme', model: 'sim-small', provider: 'sim', outcome: 'refused', code: 'breaker.open' });
    metrics.record({ tenant: 'acme', model: 'sim-small', provider: 'sim', outcome: 'refused', code: 'breaker.open' });
    metrics.record({ tenant: 'acme', outcome: 'refused', code: 'rate.limited' });
    const q = { scope: 'tenant:acme', periodMs: 10_000, end: T0 + 10_000, count: 1, statistic: 'Sum' as const };
    expect(await metrics.series({ ...q, metric: 'refusals' })).toEqual([3]);
    expect(await metrics.series({ ...q, metric: 'refusals:breaker.open' })).toEqual([2]);
    expect(await metrics.series({ ...q, metric: 'refusals:rate.limited' })).toEqual([1]);
    expect(await metrics.series({ ...q, metric: 'calls' })).toEqual([null]);
    expect(await metrics.series({ ...q, metric: 'error_rate' })).toEqual([null]);
  });

  it('aggregates several replicas writing to one store', async () => {
    const a = setup('replica-a');
    const b = setup('replica-b', a.s);
    for (let i = 0; i < 3; i++) a.metrics.record(call({ latencyMs: 10 }));
    for (let i = 0; i < 2; i++) b.metrics.record(call({ latencyMs: 500, outcome: 'error' }));
    await b.metrics.flush();
    const q = { scope: 'provider:sim', periodMs: 10_000, end: T0 + 10_000, count: 1 };
    expect(await a.metrics.series({ ...q, metric: 'calls', statistic: 'Sum' })).toEqual([5]);
    expect(await a.metrics.series({ ...q, metric: 'error_rate', statistic: 'Average' })).toEqual([0.4]);
    expect(await a.metrics.series({ ...q, metric: 'latency_ms', statistic: 'Maximum' })).toEqual([500]);
    const [p90] = await a.metrics.series({ ...q, metric: 'latency_ms', statistic: 'p90' });
    expect(Math.abs(p90! - 500) / 500).toBeLessThan(0.01);
    // A second flush of the same period replaces, never double-counts.
    a.metrics.record(call());
    await a.metrics.flush();
    await a.metrics.flush();
    expect(await b.metrics.series({ ...q, metric: 'calls', statistic: 'Sum' })).toEqual([6]);
  });

  it('flushes on the clock once started, and drops datapoints past retention', async () => {
    const s = make();
    close = s.close;
    const clock = new FakeClock(T0);
    const metrics = createMetrics({ clock, store: s.store, source: 'r1', retentionMs: 60_000 });
    metrics.start();
    metrics.record(call());
    await clock.advance(10_000);
    expect(await s.store.read({ scope: 'global', metrics: ['calls'], from: 0, to: 1e15 })).toHaveLength(1);
    await clock.advance(130_000);
    metrics.record(call());
    await metrics.flush();
    const rows = await s.store.read({ scope: 'global', metrics: ['calls'], from: 0, to: 1e15 });
    expect(rows.map((r) => r.start)).toEqual([T0 + 140_000]);
    await metrics.stop();
    expect(clock.pending).toBe(0);
  });

  it('rejects alarm periods that are not a multiple of the resolution', async () => {
    const { metrics } = setup();
    await expect(metrics.series({ scope: 'global', metric: 'calls', statistic: 'Sum', periodMs: 15_000, end: T0, count: 1 })).rejects.toThrow(/multiple/);
  });
});

describe('eventScopes', () => {
  it('names global plus one scope per dimension the event has', async () => {
    const { eventScopes } = await import('../../src/metrics/event.ts');
    expect(eventScopes({ tenant: 'acme', agent: 'bot', tool: 'demo.search', server: 'demo', outcome: 'success' })).toEqual([
      'global',
      'tenant:acme',
      'agent:bot',
      'server:demo',
      'tool:demo.search',
    ]);
  });
});
