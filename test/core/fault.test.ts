import { describe, expect, it } from 'vitest';
import { guardError } from '../../src/core/errors.ts';
import { countsAgainstUpstream, faultOf, isInternalThrow, markInternal } from '../../src/core/fault.ts';

/**
 * Whose fault a failed call is (core/fault.ts, THE rule): only the upstream's own failures
 * (upstream.error, timeouts) are `upstream`; a failure fmguard marked as its own is `internal`
 * whatever its code; everything else is `request`. Only `upstream` moves breakers and alarms.
 */
describe('fault', () => {
  it('upstream.error and timeouts are the upstream; refusals and client mistakes are the request', () => {
    for (const code of ['upstream.error', 'timeout.total', 'timeout.first_token', 'timeout.idle', 'timeout.tool'] as const) {
      expect(faultOf(guardError(code, 'x'))).toBe('upstream');
      expect(countsAgainstUpstream(guardError(code, 'x'))).toBe(true);
    }
    for (const code of ['request.invalid', 'limit.steps', 'rate.limited', 'policy.denied', 'breaker.open', 'kill.switch'] as const) {
      expect(faultOf(guardError(code, 'x'))).toBe('request');
      expect(countsAgainstUpstream(guardError(code, 'x'))).toBe(false);
    }
  });

  it('a marked error is internal whatever its code, and never counts against the upstream', () => {
    const error = guardError('upstream.error', 'the call could not be processed');
    expect(markInternal(error)).toBe(error);
    expect(faultOf(error)).toBe('internal');
    expect(countsAgainstUpstream(error)).toBe(false);
    expect(faultOf(markInternal(guardError('request.invalid', 'x')))).toBe('internal');
    expect(faultOf(markInternal(guardError('timeout.total', 'x')))).toBe('internal');
  });

  it('marking changes nothing else about the error: its code, keys and JSON stay as they were', () => {
    const error = guardError('request.invalid', 'bad', { scope: 's' });
    const keysBefore = Object.keys(error);
    const jsonBefore = JSON.stringify(error);
    markInternal(error);
    expect(error.code).toBe('request.invalid');
    expect(Object.keys(error)).toEqual(keysBefore);
    expect(JSON.stringify(error)).toBe(jsonBefore);
  });

  it('events (plain objects) carry the mark as `internal: true`', () => {
    expect(faultOf({ code: 'upstream.error', internal: true })).toBe('internal');
    expect(countsAgainstUpstream({ code: 'upstream.error', internal: true })).toBe(false);
    expect(faultOf({ code: 'upstream.error', internal: false })).toBe('upstream');
    expect(faultOf({ code: 'upstream.error' })).toBe('upstream');
    expect(countsAgainstUpstream({ code: 'timeout.idle' })).toBe(true);
    expect(faultOf({ code: 'limit.tokens', internal: false })).toBe('request');
    expect(faultOf({ code: 'limit.tokens', internal: true })).toBe('internal');
    expect(countsAgainstUpstream({ code: 'limit.tokens' })).toBe(false);
  });

  it("isInternalThrow: the engine's RangeErrors and marked GuardErrors, nothing else", () => {
    expect(isInternalThrow(new RangeError('Maximum call stack size exceeded'))).toBe(true);
    expect(isInternalThrow(new RangeError('Invalid string length'))).toBe(true);
    expect(isInternalThrow(markInternal(guardError('request.invalid', 'x')))).toBe(true);
    expect(isInternalThrow(guardError('request.invalid', 'x'))).toBe(false);
    expect(isInternalThrow(guardError('upstream.error', 'x'))).toBe(false);
    expect(isInternalThrow(new Error('ECONNRESET'))).toBe(false);
    expect(isInternalThrow(new TypeError('x is not a function'))).toBe(false);
    // The mark on something that is not a GuardError does not count.
    expect(isInternalThrow({ [Symbol.for('fmguard.internalFault')]: true })).toBe(false);
    expect(isInternalThrow(undefined)).toBe(false);
    expect(isInternalThrow(null)).toBe(false);
  });
});
