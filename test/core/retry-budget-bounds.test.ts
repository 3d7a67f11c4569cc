/**
 * Retry budget options at their smallest allowed values (src/core/retry-budget.ts): one bucket, one
 * scope, no floor; and a negative floor refused.
 */
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/core/retry-budget.ts';

const T0 = Date.UTC(2026, 0, 1);

describe('retry budget bounds', () => {
  it('a window of one bucket forgets everything once the window has passed', () => {
    const b = new RetryBudget({ buckets: 1, windowMs: 1000, ratio: 0.5, minRetries: 0 });
    for (let i = 0; i < 4; i++) b.recordCall('s', T0 + i * 200);
    expect([b.tryRetry('s', T0 + 999), b.tryRetry('s', T0 + 999), b.tryRetry('s', T0 + 999)]).toEqual([true, true, false]);
    expect(b.stats('s', T0 + 999)).toEqual({ calls: 4, retries: 2, allowance: 2 });
    expect(b.stats('s', T0 + 1000)).toEqual({ calls: 0, retries: 0, allowance: 0 });
    expect(b.tryRetry('s', T0 + 1000)).toBe(false);
  });

  it('maxScopes 1 keeps only the scope touched last', () => {
    const b = new RetryBudget({ maxScopes: 1, minRetries: 1 });
    expect(b.tryRetry('a', T0)).toBe(true);
    expect(b.tryRetry('a', T0)).toBe(false);
    expect(b.tryRetry('b', T0)).toBe(true);
    expect(b.size).toBe(1);
    // 'a' was dropped, so it comes back with an empty window and its floor again.
    expect(b.tryRetry('a', T0)).toBe(true);
    expect(b.stats('b', T0)).toEqual({ calls: 0, retries: 0, allowance: 1 });
  });

  it('minRetries 0 is allowed and a negative floor is refused', () => {
    const b = new RetryBudget({ minRetries: 0 });
    expect(b.tryRetry('s', T0)).toBe(false);
    expect(() => new RetryBudget({ minRetries: -1 })).toThrow('retryBudget.minRetries: expected an integer >= 0');
    expect(() => new RetryBudget({ buckets: 1.5 })).toThrow('retryBudget.buckets: expected a positive integer');
    expect(() => new RetryBudget({ maxScopes: 2.5 })).toThrow('retryBudget.maxScopes: expected a positive integer');
  });
});
