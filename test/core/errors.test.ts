import { describe, expect, it } from 'vitest';
import { GuardError, guardError } from '../../src/core/errors.ts';

describe('GuardError', () => {
  it('is an Error named GuardError, carrying its code, message and details', () => {
    const error = guardError('limit.steps', 'run r1 used its 10 steps', { limit: 10, used: 10, runId: 'r1' });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(GuardError);
    expect(error.name).toBe('GuardError');
    expect(String(error)).toBe('GuardError: run r1 used its 10 steps');
    expect(error.stack?.startsWith('GuardError: run r1 used its 10 steps')).toBe(true);
    expect(error.code).toBe('limit.steps');
    expect(error.message).toBe('run r1 used its 10 steps');
    expect(error.details).toEqual({ limit: 10, used: 10, runId: 'r1' });
    expect(guardError('kill.switch', 'killed').details).toEqual({});
  });

  it('reads status, retry hint, retryable and terminal from the stop-code catalogue', () => {
    const cases = [
      ['limit.steps', 403, 'no', false, false],
      ['limit.duration', 403, 'no', false, true],
      ['kill.switch', 403, 'no', false, true],
      ['limit.cost', 402, 'no', false, false],
      ['request.invalid', 400, 'no', false, false],
      ['rate.limited', 429, 'yes', true, false],
      ['upstream.error', 502, 'maybe', true, false],
      ['breaker.open', 503, 'later', true, false],
      ['approval.required', 403, 'after-approval', true, false],
      ['timeout.total', 504, 'maybe', true, false],
    ] as const;
    for (const [code, status, retry, retryable, terminal] of cases) {
      const error = guardError(code, 'x');
      expect({ code, status: error.status, retry: error.retry, retryable: error.retryable, terminal: error.terminal }).toEqual({
        code,
        status,
        retry,
        retryable,
        terminal,
      });
    }
  });

  it('serialises as code, message, details and retryable', () => {
    const error = guardError('rate.limited', 'slow down', { retryAfterMs: 1500, scope: 'tenant:a' }, new Error('inner'));
    expect(error.toJSON()).toEqual({ code: 'rate.limited', message: 'slow down', details: { retryAfterMs: 1500, scope: 'tenant:a' }, retryable: true });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'rate.limited',
      message: 'slow down',
      details: { retryAfterMs: 1500, scope: 'tenant:a' },
      retryable: true,
    });
    expect(JSON.stringify(guardError('policy.denied', 'no'))).toBe('{"code":"policy.denied","message":"no","details":{},"retryable":false}');
  });

  it('keeps the cause it was given, and has none when given none', () => {
    const cause = new RangeError('Maximum call stack size exceeded');
    const withCause = guardError('request.invalid', 'could not be processed', {}, cause);
    expect(withCause.cause).toBe(cause);
    expect(Object.hasOwn(withCause, 'cause')).toBe(true);
    // A falsy cause is still a cause.
    expect(guardError('upstream.error', 'x', {}, 0).cause).toBe(0);
    expect(Object.hasOwn(guardError('upstream.error', 'x', {}, null), 'cause')).toBe(true);
    // Without one, like `new Error(message)`: no cause property at all.
    const without = guardError('request.invalid', 'bad');
    expect(Object.hasOwn(without, 'cause')).toBe(false);
    expect('cause' in without).toBe(false);
    expect(Object.hasOwn(new GuardError('limit.steps', 'x'), 'cause')).toBe(false);
    expect(new GuardError('limit.steps', 'x', {}, { cause }).cause).toBe(cause);
  });

  it('isInstance recognises GuardErrors by their marker, across copies of the module, and nothing else', () => {
    expect(GuardError.isInstance(guardError('limit.steps', 'x'))).toBe(true);
    // Another copy of the module (a second bundle) marks its errors with the same registered symbol.
    const foreign = Object.assign(new Error('x'), { [Symbol.for('fmguard.GuardError')]: true, code: 'limit.steps' });
    expect(GuardError.isInstance(foreign)).toBe(true);
    expect(GuardError.isInstance(new Error('x'))).toBe(false);
    expect(GuardError.isInstance({ code: 'limit.steps', name: 'GuardError' })).toBe(false);
    expect(GuardError.isInstance({ [Symbol.for('fmguard.GuardError')]: 'yes' })).toBe(false);
    for (const value of [null, undefined, 0, '', 'GuardError', true, Symbol('x')]) expect(GuardError.isInstance(value)).toBe(false);
    expect(GuardError.isInstance(() => {})).toBe(false);
  });
});
