import { describe, expect, it } from 'vitest';
import { ALL_STOP_CODES, isStopCode, isUpstreamFailure, shouldRetry, type StopCode } from '../../src/core/codes.ts';

describe('stop codes', () => {
  it('shouldRetry is false exactly for codes whose retry hint is "no" (x-should-retry)', () => {
    const no: StopCode[] = [
      'request.invalid',
      'auth.invalid',
      'budget.exhausted',
      'limit.cost',
      'limit.steps',
      'limit.duration',
      'loop.no_progress',
      'policy.denied',
      'approval.denied',
      'kill.switch',
      'run.idle',
    ];
    for (const code of no) expect(shouldRetry(code), code).toBe(false);
    // yes, maybe, later, after-approval: trying again can help.
    const retry: StopCode[] = [
      'rate.limited',
      'limit.concurrency',
      'limit.contended',
      'upstream.error',
      'breaker.open',
      'store.unavailable',
      'gateway.shutting_down',
      'timeout.total',
      'timeout.tool',
      'approval.required',
      'approval.expired',
    ];
    for (const code of retry) expect(shouldRetry(code), code).toBe(true);
  });

  it('isStopCode accepts the catalogue strings and nothing else', () => {
    for (const code of ALL_STOP_CODES) expect(isStopCode(code)).toBe(true);
    expect(isStopCode('limit.unknown')).toBe(false);
    expect(isStopCode('')).toBe(false);
    expect(isStopCode('toString')).toBe(false);
    expect(isStopCode('__proto__')).toBe(false);
    expect(isStopCode(undefined)).toBe(false);
    expect(isStopCode(null)).toBe(false);
    expect(isStopCode(402)).toBe(false);
    // Values that stringify to a code are not codes: only a string is.
    expect(isStopCode(['limit.steps'])).toBe(false);
    expect(isStopCode({ toString: () => 'kill.switch' })).toBe(false);
    expect(isStopCode(new String('limit.cost'))).toBe(false);
  });

  it('isUpstreamFailure: upstream.error and every timeout, nothing else', () => {
    for (const code of ['upstream.error', 'timeout.total', 'timeout.first_token', 'timeout.idle', 'timeout.tool'])
      expect(isUpstreamFailure(code), code).toBe(true);
    for (const code of [
      'limit.steps',
      'request.invalid',
      'rate.limited',
      'breaker.open',
      'store.unavailable',
      'gateway.shutting_down',
      'policy.denied',
      'limit.duration',
      'kill.switch',
    ]) {
      expect(isUpstreamFailure(code), code).toBe(false);
    }
    // A prefix, not a suffix nor a substring.
    expect(isUpstreamFailure('x.timeout.')).toBe(false);
    expect(isUpstreamFailure('timeout')).toBe(false);
    expect(isUpstreamFailure('')).toBe(false);
  });
});
