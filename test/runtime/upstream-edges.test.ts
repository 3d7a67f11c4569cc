import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { guardError } from '../../src/core/errors.ts';
import { faultOf } from '../../src/core/fault.ts';
import { ProviderError } from '../../src/providers/provider.ts';
import { attemptController, codeOf, toGuardError } from '../../src/runtime/upstream.ts';

/**
 * Issue 20: src/runtime/upstream.ts edges that test/runtime/upstream-errors.test.ts leaves open: a
 * thrown Error's own message (not its String()), a callable carrying a code, the retry budget's capped
 * error keeping the original as its cause, a controller that starts aborted linking nothing more.
 */

const OUTCOME = Symbol.for('fmguard.retryOutcome');
function withOutcome<E extends object>(err: E, reason: string, attempts: number): E {
  Object.defineProperty(err, OUTCOME, { value: { reason, attempts }, configurable: true, enumerable: false });
  return err;
}

describe('codeOf: edges', () => {
  it('only an object may carry its code: a function with a code property is an upstream error', () => {
    expect(codeOf(Object.assign(() => undefined, { code: 'timeout.total' }))).toBe('upstream.error');
    expect(codeOf(Object.assign(new Error('x'), { code: 'timeout.idle' }))).toBe('timeout.idle');
  });

  it('a provider error with its own code keeps it over its status', () => {
    expect(codeOf(new ProviderError('x', { status: 400, code: 'rate.limited' }))).toBe('rate.limited');
    expect(codeOf(new ProviderError('x', { status: 429 }))).toBe('upstream.error');
  });
});

describe('toGuardError: edges', () => {
  it("a plain Error: its message (not 'Error: …'), upstream.error, the Error as cause, an upstream fault", () => {
    const cause = new TypeError('fetch failed');
    const g = toGuardError(cause, 'model m');
    expect(g.toJSON()).toEqual({ code: 'upstream.error', message: 'model m: fetch failed', details: {}, retryable: true });
    expect(g.cause).toBe(cause);
    expect(faultOf(g)).toBe('upstream');
  });

  it('a provider error without a code: the cause is kept, for a rejected request and for a failure', () => {
    const rejected = new ProviderError('bad', { status: 422 });
    expect(toGuardError(rejected, 'model m').cause).toBe(rejected);
    const failed = new ProviderError('down', { status: 500 });
    const g = toGuardError(failed, 'model m');
    expect(g.cause).toBe(failed);
    expect(g.details).toEqual({ status: 500, retryAfterMs: undefined });
  });

  it('capped by the retry budget: a new error, the original as its cause, the original left as it was but marked spent', () => {
    const original = guardError('timeout.first_token', 'slow', { status: 504 });
    const capped = toGuardError(withOutcome(original, 'budget', 3), 'model m');
    expect(capped).not.toBe(original);
    expect(capped.cause).toBe(original);
    expect(capped.toJSON()).toEqual({
      code: 'timeout.first_token',
      message: 'slow (retries capped by the retry budget after 3 attempts: too many retries across calls recently)',
      details: { status: 504, retriesSpent: true, attempts: 3, retryDenied: 'budget' },
      retryable: true,
    });
    expect(original.message).toBe('slow');
    expect(original.details).toEqual({ status: 504, retriesSpent: true, attempts: 3 });
  });

  it('no outcome (not through the retry loop): nothing is added', () => {
    const g = guardError('upstream.error', 'x', { status: 503 });
    expect(toGuardError(g, 'model m').details).toEqual({ status: 503 });
  });
});

describe('attemptController: edges', () => {
  it('a signal already aborted: the controller is aborted with its reason and the signals after it are not linked', () => {
    const later = new AbortController();
    const { controller, unlink } = attemptController(AbortSignal.abort('gone'), later.signal);
    expect([controller.signal.aborted, controller.signal.reason]).toEqual([true, 'gone']);
    expect(getEventListeners(later.signal, 'abort')).toHaveLength(0);
    unlink();
  });

  it('signals before the aborted one stay linked until unlink', () => {
    const before = new AbortController();
    const { controller, unlink } = attemptController(before.signal, AbortSignal.abort('gone'));
    expect(controller.signal.reason).toBe('gone');
    expect(getEventListeners(before.signal, 'abort')).toHaveLength(1);
    unlink();
    expect(getEventListeners(before.signal, 'abort')).toHaveLength(0);
  });

  it('no signals: a live controller, unlink is harmless', () => {
    const { controller, unlink } = attemptController();
    unlink();
    expect(controller.signal.aborted).toBe(false);
  });
});
