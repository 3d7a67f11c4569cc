import { describe, expect, it } from 'vitest';
import { createAlarmEngine, type AlarmEvent } from '../../src/alarms/engine.ts';
import type { AlarmSpec, AlarmState } from '../../src/alarms/types.ts';
import { createMetrics } from '../../src/metrics/recorder.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { MODES, points, STATES, VECTOR_COMPARISON, VECTOR_THRESHOLD, VECTORS } from './vectors.ts';
import { createMemoryMetricStore } from '../../src/backends/memory/metrics.ts';

const T0 = Date.UTC(2026, 0, 1);
const PERIOD = 10_000;

/**
 * Replays a vector as real traffic: each datapoint becomes a call in its own 10 s period (its
 * latency is the value; a missing point is a period without calls), then the engine evaluates at
 * the end of the fifth period on a fake clock.
 */
async function replay(values: Array<number | null>, spec: Partial<AlarmSpec>, initial?: AlarmState) {
  const clock = new FakeClock(T0);
  const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
  const events: AlarmEvent[] = [];
  const engine = createAlarmEngine({
    clock,
    metrics,
    actions: { audit: (e) => void events.push(e) },
    alarms: [
      {
        name: 'latency',
        scope: 'provider:sim',
        metric: 'latency_ms',
        statistic: 'Maximum',
        period: PERIOD,
        evaluationPeriods: 3,
        comparison: VECTOR_COMPARISON,
        threshold: VECTOR_THRESHOLD,
        ...spec,
      },
    ],
  });
  if (initial && initial !== 'INSUFFICIENT_DATA') await engine.setState('latency', initial, 'test setup');
  values.forEach((value, i) => {
    if (value === null) return;
    clock.set(T0 + i * PERIOD + 1_234);
    metrics.record({ provider: 'sim', model: 'm', outcome: 'success', latencyMs: value });
  });
  const end = T0 + values.length * PERIOD;
  clock.set(end);
  await engine.tick(end);
  return { state: engine.status('latency')!.state, events, engine, end };
}

describe('alarm engine: CloudWatch vectors replayed as traffic over a fake clock', () => {
  for (const v of VECTORS) {
    for (const mode of MODES) {
      const expected = v.expect[mode];
      it(`${v.id} [${v.data}] N=${v.n} M=${v.m} ${mode} → ${expected}`, async () => {
        for (const initial of expected === 'keep' ? STATES : (['INSUFFICIENT_DATA'] as const)) {
          const { state } = await replay(points(v.data), { evaluationPeriods: v.n, datapointsToAlarm: v.m, treatMissingData: mode }, initial);
          expect(state, `starting from ${initial}`).toBe(expected === 'keep' ? initial : expected);
        }
      });
    }
  }

  it('C9: N=5, M=3 over 12,5,10,3,15 → OK with GreaterThanThreshold 10, ALARM with GreaterThanOrEqualToThreshold', async () => {
    const data = [12, 5, 10, 3, 15];
    const base = { evaluationPeriods: 5, datapointsToAlarm: 3, threshold: 10 };
    expect((await replay(data, { ...base, comparison: 'GreaterThanThreshold' })).state).toBe('OK');
    expect((await replay(data, { ...base, comparison: 'GreaterThanOrEqualToThreshold' })).state).toBe('ALARM');
  });

  it('C10: composite ALARM(A) AND NOT ALARM(B) follows its alarms', async () => {
    const clock = new FakeClock(T0);
    const alarm = (name: string): AlarmSpec => ({
      name,
      scope: 'global',
      metric: 'calls',
      period: '1m',
      evaluationPeriods: 1,
      comparison: 'GreaterThanThreshold',
      threshold: 0,
    });
    const engine = createAlarmEngine({
      clock,
      metrics: createMetrics({ clock, store: createMemoryMetricStore() }),
      alarms: [alarm('A'), alarm('B')],
      composites: [{ name: 'C', rule: 'ALARM(A) AND NOT ALARM(B)' }],
    });
    expect(engine.status('C')!.state).toBe('INSUFFICIENT_DATA');
    const cases: Array<[AlarmState, AlarmState, AlarmState]> = [
      ['ALARM', 'OK', 'ALARM'],
      ['ALARM', 'ALARM', 'OK'],
      ['INSUFFICIENT_DATA', 'ALARM', 'OK'],
      ['INSUFFICIENT_DATA', 'OK', 'OK'],
    ];
    for (const [a, b, c] of cases) {
      await engine.setState('A', a, 'test');
      await engine.setState('B', b, 'test');
      expect(engine.status('C')!.state, `A=${a} B=${b}`).toBe(c);
    }
  });

  it('runs actions on transitions only, not on every evaluation in the same state', async () => {
    const clock = new FakeClock(T0);
    const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
    const opened: string[] = [];
    const engine = createAlarmEngine({
      clock,
      metrics,
      actions: { breakers: { open: async (scope) => void opened.push(scope), close: async () => {} } },
      alarms: [
        {
          name: 'busy',
          scope: 'global',
          metric: 'calls',
          period: '10s',
          evaluationPeriods: 1,
          comparison: 'GreaterThanThreshold',
          threshold: 0,
          treatMissingData: 'notBreaching',
          actions: [{ openBreaker: { scope: 'provider:sim' } }],
        },
      ],
    });
    engine.start();
    for (let i = 0; i < 6; i++) {
      metrics.record({ outcome: 'success' });
      await clock.advance(10_000);
      await engine.idle();
    }
    expect(engine.status('busy')!.state).toBe('ALARM');
    expect(opened).toEqual(['provider:sim']);
    // No calls: the last real point keeps deciding while it is inside the evaluation range (N + 2
    // = 3 periods), as in CloudWatch; after that, notBreaching fills the gap → OK.
    await clock.advance(20_000);
    await engine.idle();
    expect(engine.status('busy')!.state).toBe('ALARM');
    await clock.advance(10_000);
    await engine.idle();
    expect(engine.status('busy')!.state).toBe('OK');
    metrics.record({ outcome: 'success' });
    await clock.advance(10_000);
    await engine.idle();
    expect(opened).toEqual(['provider:sim', 'provider:sim']);
    await engine.stop();
  });
});
