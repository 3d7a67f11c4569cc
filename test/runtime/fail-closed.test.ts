/**
 * Fail closed (runtime/fail-closed.ts): a refusal passes unchanged, an input-shaped throw is
 * `request.invalid` (internal), anything else is `store.unavailable` naming what could not be read.
 */
import { describe, expect, it } from 'vitest';
import { guardError } from '../../src/core/errors.ts';
import { faultOf } from '../../src/core/fault.ts';
import { failClosed } from '../../src/runtime/fail-closed.ts';

describe('failClosed', () => {
  it('passes a refusal through unchanged', () => {
    const refusal = guardError('limit.steps', 'no more steps');
    expect(failClosed(refusal)).toBe(refusal);
  });

  it('a RangeError while deciding is request.invalid, marked internal', () => {
    const cause = new RangeError('Invalid string length');
    const e = failClosed(cause, 'budget');
    expect(e.code).toBe('request.invalid');
    expect(e.message).toBe('the call could not be processed: Invalid string length');
    expect(e.cause).toBe(cause);
    expect(faultOf(e)).toBe('internal');
  });

  it('any other throw is store.unavailable, naming what could not be read', () => {
    const cause = new Error('disk gone');
    const e = failClosed(cause, 'budget');
    expect(e.code).toBe('store.unavailable');
    expect(e.message).toBe('budget could not be read: disk gone');
    expect(e.cause).toBe(cause);
    expect(failClosed('boom').message).toBe('state could not be read: boom');
  });
});
