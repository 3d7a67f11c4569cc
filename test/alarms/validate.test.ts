import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/alarms/duration.ts';
import { normalizeAlarm } from '../../src/alarms/normalize.ts';
import type { AlarmSpec } from '../../src/alarms/types.ts';
import { validateAlarms } from '../../src/alarms/validate.ts';

const good: AlarmSpec = {
  name: 'sim-errors',
  scope: 'provider:sim',
  metric: 'error_rate',
  period: '10s',
  evaluationPeriods: 6,
  datapointsToAlarm: 3,
  comparison: 'GreaterThanOrEqualToThreshold',
  threshold: 0.5,
  treatMissingData: 'notBreaching',
  actions: [{ openBreaker: { cooldown: '30s', halfOpenProbes: 3 } }],
};

describe('durations', () => {
  it('parses ms numbers and unit strings', () => {
    expect(['10s', '1m', '500ms', 2500, '2h', '1.5s', '250'].map(parseDuration)).toEqual([10_000, 60_000, 500, 2500, 7_200_000, 1500, 250]);
    expect(['10 sec', '-1s', 'abc', -5, null].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('validateAlarms', () => {
  it('accepts the DESIGN.md example', () => {
    expect(validateAlarms({ alarms: [good] })).toEqual([]);
  });

  it('normalizes with defaults', () => {
    const a = normalizeAlarm({ ...good, datapointsToAlarm: undefined, treatMissingData: undefined, metric: 'latency_ms' });
    expect(a).toMatchObject({ periodMs: 10_000, datapointsToAlarm: 6, treatMissingData: 'missing', statistic: 'Average', closeOnOk: false });
    expect(a.actions).toEqual([{ type: 'openBreaker', scope: 'provider:sim', cooldownMs: 30_000, halfOpenProbes: 3 }]);
    expect(normalizeAlarm({ ...good, metric: 'cost_usd' }).statistic).toBe('Sum');
    expect(() => normalizeAlarm({ ...good, period: '7s' })).toThrow(/sim-errors.period/);
  });

  it('names the path and the problem of every bad field', () => {
    const problems = validateAlarms({
      alarms: [
        {
          name: '',
          scope: 'planet:mars',
          metric: 'vibes',
          statistic: 'p101',
          period: '45s',
          evaluationPeriods: 0,
          datapointsToAlarm: 2,
          comparison: 'Bigger',
          threshold: 'high',
          treatMissingData: 'whatever',
          actions: [{ openBreaker: { cooldown: 'soon', halfOpenProbes: 0 } }, { explode: {} }, { webhook: { url: 'ftp://x', retries: 99, timeout: '1h' } }],
        },
      ],
    });
    expect(problems.map((p) => p.path)).toEqual([
      'alarms[0].name',
      'alarms[0].actions[0].openBreaker.cooldown',
      'alarms[0].actions[0].openBreaker.halfOpenProbes',
      'alarms[0].actions[1]',
      'alarms[0].actions[2].webhook.url',
      'alarms[0].actions[2].webhook.timeout',
      'alarms[0].actions[2].webhook.retries',
      'alarms[0].scope',
      'alarms[0].metric',
      'alarms[0].statistic',
      'alarms[0].period',
      'alarms[0].evaluationPeriods',
      'alarms[0].comparison',
      'alarms[0].threshold',
      'alarms[0].treatMissingData',
    ]);
    expect(problems.every((p) => p.message.length > 5)).toBe(true);
  });

  it('checks M <= N, N × period <= 1 day, percentiles only on distributions, error_rate without statistic', () => {
    const paths = (spec: Partial<AlarmSpec>) => validateAlarms({ alarms: [{ ...good, ...spec }] }).map((p) => `${p.path}: ${p.message}`);
    expect(paths({ datapointsToAlarm: 7 })).toEqual(['alarms[0].datapointsToAlarm: expected an integer from 1 to evaluationPeriods']);
    // CloudWatch (reference §4): N × period ≤ 7 days, and ≤ 1 day when the period is under an hour.
    expect(paths({ period: '30m', evaluationPeriods: 49 })).toEqual([
      'alarms[0].evaluationPeriods: evaluationPeriods × period must not exceed one day when the period is under an hour',
    ]);
    expect(paths({ period: '30m', evaluationPeriods: 48 })).toEqual([]);
    expect(paths({ period: '1h', evaluationPeriods: 25 })).toEqual([]);
    expect(paths({ period: '1h', evaluationPeriods: 168 })).toEqual([]);
    expect(paths({ period: '1h', evaluationPeriods: 169 })).toEqual(['alarms[0].evaluationPeriods: evaluationPeriods × period must not exceed 7 days']);
    expect(paths({ metric: 'calls', statistic: 'p99' })[0]).toMatch(/percentiles are kept for latency_ms/);
    expect(paths({ metric: 'latency_ms', statistic: 'p99.9' })).toEqual([]);
    expect(paths({ statistic: 'Sum' })[0]).toMatch(/error_rate is errors \/ calls/);
    expect(paths({ metric: 'refusals:rate.limited' })).toEqual([]);
    expect(paths({ metric: 'refusals:not.a.code' })[0]).toMatch(/alarms\[0\].metric/);
    expect(paths({ period: 120_000, evaluationPeriods: 2, datapointsToAlarm: 2 })).toEqual([]);
  });

  it('checks composites: rule syntax, references, duplicates and cycles', () => {
    const problems = validateAlarms({
      alarms: [good, { ...good }],
      composites: [
        { name: 'both', rule: 'ALARM(sim-errors) AND ALARM(missing-one)' },
        { name: 'broken', rule: 'ALARM(sim-errors' },
        { name: 'loop-a', rule: 'ALARM(loop-b)' },
        { name: 'loop-b', rule: 'NOT OK(loop-a)' },
      ],
    });
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'alarms[1].name: duplicate alarm name "sim-errors" (also alarms[0])',
      'composites[0].rule: unknown alarm "missing-one"',
      `composites[1].rule: expected ')' after the alarm name but found end of rule at position 17 of rule "ALARM(sim-errors"`,
      'composites[2].rule: composite "loop-a" depends on itself',
      'composites[3].rule: composite "loop-b" depends on itself',
    ]);
  });
});

describe("validateAlarmConfig (the config file's single alarms: list)", () => {
  it('treats entries with a rule as composites and keeps the list indices in paths', async () => {
    const { validateAlarmConfig, splitAlarmConfig } = await import('../../src/alarms/validate.ts');
    const list = [good, { name: 'both', rule: 'ALARM(sim-errors) AND ALARM(nope)' }, { ...good, name: 'x', period: '7s' }];
    expect(validateAlarmConfig(list).map((p) => p.path)).toEqual(['alarms[2].period', 'alarms[1].rule']);
    expect(validateAlarmConfig('nope', 'cfg.alarms')).toEqual([{ path: 'cfg.alarms', message: 'expected a list' }]);
    expect(validateAlarmConfig(undefined)).toEqual([]);
    const split = splitAlarmConfig([good, { name: 'c', rule: 'TRUE' }]);
    expect([split.alarms.length, split.composites.length]).toEqual([1, 1]);
  });
});

/**
 * Issue 12 item 3: alarms are validated as CloudWatch validates them (reference §4, corrected): a period
 * the stored metrics cannot serve is a configuration error naming its path, not an alarm that stays
 * INSUFFICIENT_DATA forever.
 */
describe('alarm periods and windows against the metrics resolution (CloudWatch rules)', () => {
  const config = (alarm: Record<string, unknown>, metrics?: Record<string, unknown>) => ({
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    metrics,
    alarms: [{ ...good, actions: [], ...alarm }],
  });
  const problems = async (alarm: Record<string, unknown>, metrics?: Record<string, unknown>) => {
    const { parseConfig, ConfigError } = await import('../../src/index.ts');
    try {
      parseConfig(config(alarm, metrics) as never);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('a 10 s period on 60 s metrics is refused, naming alarms[0].period (it was accepted and never evaluated)', async () => {
    expect(await problems({ period: '10s' }, { resolutionMs: '60s' })).toEqual([
      'alarms[0].period: period 10000 ms is not a multiple of the metrics resolution 60000 ms (metrics.resolutionMs): the alarm could never be evaluated',
    ]);
    expect(await problems({ period: '30s' }, { resolutionMs: '20s' })).toEqual([
      'alarms[0].period: period 30000 ms is not a multiple of the metrics resolution 20000 ms (metrics.resolutionMs): the alarm could never be evaluated',
    ]);
    expect(await problems({ period: '60s' }, { resolutionMs: '60s' })).toEqual([]);
    expect(await problems({ period: '2m' }, { resolutionMs: '60s' })).toEqual([]);
    // The default resolution (10 s) serves every CloudWatch period.
    for (const period of ['10s', '20s', '30s', '1m', '5m']) expect(await problems({ period })).toEqual([]);
  });

  it('periods are 10, 20, 30 s or a multiple of 60 s', async () => {
    for (const period of ['15s', '45s', '90s', '5s'])
      expect(await problems({ period })).toEqual(['alarms[0].period: expected 10s, 20s, 30s or a multiple of 1m']);
  });

  it('datapointsToAlarm ≤ evaluationPeriods', async () => {
    expect(await problems({ evaluationPeriods: 3, datapointsToAlarm: 4 })).toEqual([
      'alarms[0].datapointsToAlarm: expected an integer from 1 to evaluationPeriods',
    ]);
    expect(await problems({ evaluationPeriods: 3, datapointsToAlarm: 3 })).toEqual([]);
  });

  it('evaluationPeriods × period ≤ 1 day under an hour, ≤ 7 days from an hour', async () => {
    expect(await problems({ period: '10s', evaluationPeriods: 8640 })).toEqual([]);
    expect(await problems({ period: '10s', evaluationPeriods: 8641 })).toEqual([
      'alarms[0].evaluationPeriods: evaluationPeriods × period must not exceed one day when the period is under an hour',
    ]);
    expect(await problems({ period: '6h', evaluationPeriods: 28 })).toEqual([]);
    expect(await problems({ period: '6h', evaluationPeriods: 29 })).toEqual(['alarms[0].evaluationPeriods: evaluationPeriods × period must not exceed 7 days']);
  });

  it('the alarm engine refuses a period its metrics cannot serve', async () => {
    const { createAlarmEngine } = await import('../../src/alarms/engine.ts');
    const metrics = { resolutionMs: 60_000, series: async () => [] };
    expect(() => createAlarmEngine({ alarms: [{ ...good, actions: [] }], metrics })).toThrow(/alarms\[0\]\.period: period 10000 ms is not a multiple/);
  });
});
