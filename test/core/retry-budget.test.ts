import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/core/retry-budget.ts';

const T0 = Date.UTC(2026, 0, 1);

describe('retry budget', () => {
  it('a quiet scope still gets the floor of 3 retries per window', () => {
    const b = new RetryBudget();
    b.recordCall('s', T0);
    expect([b.tryRetry('s', T0), b.tryRetry('s', T0 + 1), b.tryRetry('s', T0 + 2), b.tryRetry('s', T0 + 3)]).toEqual([true, true, true, false]);
    expect(b.stats('s', T0 + 3)).toEqual({ calls: 1, retries: 3, allowance: 3 });
  });

  it('a busy scope is held to 20 % of its calls', () => {
    const b = new RetryBudget();
    for (let i = 0; i < 100; i++) b.recordCall('s', T0 + i);
    let granted = 0;
    while (b.tryRetry('s', T0 + 200)) granted++;
    expect(granted).toBe(20);
  });

  it.each([
    { calls: 0, allowance: 3 },
    { calls: 10, allowance: 3 },
    { calls: 19, allowance: 3 },
    { calls: 20, allowance: 4 },
    { calls: 35, allowance: 7 },
    { calls: 1000, allowance: 200 },
  ])('allowance for $calls calls is $allowance', ({ calls, allowance }) => {
    const b = new RetryBudget();
    for (let i = 0; i < calls; i++) b.recordCall('s', T0);
    expect(b.stats('s', T0).allowance).toBe(allowance);
  });

  it('limits a storm: 100 failing calls that each want 3 retries get at most 20 % + floor', () => {
    const b = new RetryBudget();
    let retries = 0;
    for (let i = 0; i < 100; i++) {
      const t = T0 + i * 50; // 100 calls over 5 s, all inside one window
      b.recordCall('provider:sim', t);
      for (let r = 0; r < 3; r++) if (b.tryRetry('provider:sim', t + r)) retries++;
    }
    expect(retries).toBeLessThanOrEqual(0.2 * 100 + 3);
    expect(retries).toBe(20);
  });

  it('old calls and retries leave the window bucket by bucket', () => {
    const b = new RetryBudget(); // 10 buckets of 1 s
    for (let i = 0; i < 50; i++) b.recordCall('s', T0); // bucket 0
    for (let i = 0; i < 50; i++) b.recordCall('s', T0 + 5_000); // bucket 5
    expect(b.tryRetry('s', T0 + 5_000)).toBe(true);
    expect(b.stats('s', T0 + 9_999)).toEqual({ calls: 100, retries: 1, allowance: 20 });
    expect(b.stats('s', T0 + 10_000)).toEqual({ calls: 50, retries: 1, allowance: 10 });
    expect(b.stats('s', T0 + 15_000)).toEqual({ calls: 0, retries: 0, allowance: 3 });
    // A jump of many windows clears everything without walking each bucket.
    b.recordCall('s', T0 + 1e12);
    expect(b.stats('s', T0 + 1e12)).toEqual({ calls: 1, retries: 0, allowance: 3 });
  });

  it('a clock stepping back keeps counting in the newest bucket', () => {
    const b = new RetryBudget();
    b.recordCall('s', T0 + 5_000);
    b.recordCall('s', T0);
    expect(b.stats('s', T0 + 5_000).calls).toBe(2);
  });

  it('scopes are independent', () => {
    const b = new RetryBudget({ minRetries: 1 });
    expect(b.tryRetry('a', T0)).toBe(true);
    expect(b.tryRetry('a', T0)).toBe(false);
    expect(b.tryRetry('b', T0)).toBe(true);
  });

  it('keeps at most maxScopes, evicting the least recently used', () => {
    const b = new RetryBudget({ maxScopes: 2, minRetries: 0 });
    b.recordCall('a', T0);
    b.recordCall('b', T0);
    b.recordCall('a', T0); // a is now the most recent
    b.recordCall('c', T0); // evicts b
    expect(b.size).toBe(2);
    expect(b.stats('a', T0).calls).toBe(2);
    expect(b.stats('b', T0).calls).toBe(0);
    expect(b.stats('c', T0).calls).toBe(1);
  });

  it('options are configurable and validated', () => {
    const b = new RetryBudget({ ratio: 0.5, windowMs: 1000, buckets: 4, minRetries: 0 });
    for (let i = 0; i < 4; i++) b.recordCall('s', T0);
    expect([b.tryRetry('s', T0), b.tryRetry('s', T0), b.tryRetry('s', T0)]).toEqual([true, true, false]);
    expect(b.stats('s', T0 + 1000).calls).toBe(0);
    expect(() => new RetryBudget({ ratio: -1 })).toThrow(/ratio/);
    expect(() => new RetryBudget({ buckets: 0 })).toThrow(/buckets/);
    expect(() => new RetryBudget({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => new RetryBudget({ minRetries: 1.5 })).toThrow(/minRetries/);
    expect(() => new RetryBudget({ maxScopes: 0 })).toThrow(/maxScopes/);
  });
});
