import { describe, expect, it } from 'vitest';
import { breaches, evaluateAlarm, evaluationRange } from '../../src/alarms/evaluate.ts';
import { MODES, points, STATES, VECTOR_COMPARISON, VECTOR_THRESHOLD, VECTORS } from './vectors.ts';

describe('evaluateAlarm: CloudWatch vectors', () => {
  for (const v of VECTORS) {
    for (const mode of MODES) {
      const expected = v.expect[mode];
      it(`${v.id} N=${v.n} M=${v.m} [${v.data}] ${mode} → ${expected}`, () => {
        for (const current of STATES) {
          const result = evaluateAlarm(
            points(v.data),
            { evaluationPeriods: v.n, datapointsToAlarm: v.m, comparison: VECTOR_COMPARISON, threshold: VECTOR_THRESHOLD, treatMissingData: mode },
            current,
          );
          expect(result.state, `from ${current}: ${result.reason}`).toBe(expected === 'keep' ? current : expected);
        }
      });
    }
  }

  it('C9: N=5, M=3 over 12,5,10,3,15: > 10 gives 2 breaches (OK), >= 10 gives 3 (ALARM)', () => {
    const data = [12, 5, 10, 3, 15];
    const gt = evaluateAlarm(data, { evaluationPeriods: 5, datapointsToAlarm: 3, comparison: 'GreaterThanThreshold', threshold: 10 }, 'INSUFFICIENT_DATA');
    expect(gt).toMatchObject({ state: 'OK', breaching: 2 });
    const gte = evaluateAlarm(
      data,
      { evaluationPeriods: 5, datapointsToAlarm: 3, comparison: 'GreaterThanOrEqualToThreshold', threshold: 10 },
      'INSUFFICIENT_DATA',
    );
    expect(gte).toMatchObject({ state: 'ALARM', breaching: 3 });
  });
});

describe('evaluateAlarm: details', () => {
  it('the four comparison operators take the statistic as the left operand', () => {
    expect([breaches(5, 'GreaterThanThreshold', 5), breaches(6, 'GreaterThanThreshold', 5)]).toEqual([false, true]);
    expect([breaches(5, 'GreaterThanOrEqualToThreshold', 5), breaches(4, 'GreaterThanOrEqualToThreshold', 5)]).toEqual([true, false]);
    expect([breaches(5, 'LessThanThreshold', 5), breaches(4, 'LessThanThreshold', 5)]).toEqual([false, true]);
    expect([breaches(5, 'LessThanOrEqualToThreshold', 5), breaches(6, 'LessThanOrEqualToThreshold', 5)]).toEqual([true, false]);
  });

  it('uses an evaluation range of N + 2 (5 for N = 3)', () => {
    expect(evaluationRange(3)).toBe(5);
  });

  it('cuts a longer series to the range and pads a shorter one with missing points', () => {
    const cfg = { evaluationPeriods: 3, datapointsToAlarm: 3, comparison: 'GreaterThanThreshold' as const, threshold: 50 };
    // The breaching points at the old end fall outside the 5-period range.
    expect(evaluateAlarm([100, 100, 100, 1, null, null, null, null], cfg, 'OK').state).toBe('OK');
    expect(evaluateAlarm([100, 100, 100], cfg, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm([], cfg, 'OK').state).toBe('INSUFFICIENT_DATA');
  });

  it('with N real points uses the newest ones and ignores the missing-data setting', () => {
    const cfg = {
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparison: 'GreaterThanThreshold' as const,
      threshold: 50,
      treatMissingData: 'breaching' as const,
    };
    expect(
      evaluateAlarm(
        [1, null, 100, 100, 100].map((x) => x),
        cfg,
        'OK',
      ).state,
    ).toBe('ALARM');
    expect(evaluateAlarm([100, 1, null, 100, 100], cfg, 'OK').state).toBe('OK');
  });

  it('rejects M > N and non-integer N eagerly', () => {
    expect(() => evaluateAlarm([], { evaluationPeriods: 3, datapointsToAlarm: 4, comparison: 'GreaterThanThreshold', threshold: 0 }, 'OK')).toThrow(TypeError);
    expect(() => evaluateAlarm([], { evaluationPeriods: 0, comparison: 'GreaterThanThreshold', threshold: 0 }, 'OK')).toThrow(TypeError);
  });

  it('the premature rule needs the oldest breaching point to be at least M periods old', () => {
    const cfg = { evaluationPeriods: 3, datapointsToAlarm: 3, comparison: 'GreaterThanThreshold' as const, threshold: 50 };
    expect(evaluateAlarm(points('- - - X -'), cfg, 'OK').state).toBe('OK');
    expect(evaluateAlarm(points('- - X - -'), cfg, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(points('X - - - -'), cfg, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(points('- - X - 0'), cfg, 'ALARM').state).toBe('OK');
  });
});
