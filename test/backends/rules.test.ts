/**
 * The rules every store backend shares (src/backends/rules.ts), on their own: all-or-nothing bucket
 * takes whose retry-after is exact (a retry at now + wait succeeds, one a millisecond sooner does not),
 * bucket validation, and kill-switch comparison and notification.
 */
import { describe, expect, it } from 'vitest';
import { creditTo, notifyKill, sameKill, takeFrom } from '../../src/backends/rules.ts';
import type { BucketSpec, KillInfo } from '../../src/store/store.ts';
import type { BucketState } from '../../src/core/token-bucket.ts';

const bucket = (key: string, capacity: number, windowMs: number, amount: number): BucketSpec => ({ key, capacity, windowMs, amount, scope: `scope-${key}` });

describe('takeFrom', () => {
  it('answers a retry-after at which the same take succeeds, and one ms sooner it does not', () => {
    const shapes: [number, number, number][] = [
      [10, 1000, 1],
      [3, 1000, 1],
      [7, 60_000, 3],
      [4000, 60_000, 1234],
      [1, 1, 1],
      [100, 7, 33],
      [0.5, 1000, 0.25],
    ];
    for (const [capacity, windowMs, amount] of shapes) {
      const states = new Map<string, BucketState>();
      const b = bucket('k', capacity, windowMs, amount);
      let now = 1_000_000;
      // Drain it.
      while (takeFrom(states, [b], now).ok);
      const refused = takeFrom(states, [b], now);
      expect(refused.ok).toBe(false);
      if (refused.ok) continue;
      expect(refused).toMatchObject({ scope: 'scope-k', key: 'k' });
      const wait = refused.retryAfterMs;
      expect(Number.isInteger(wait) && wait >= 1).toBe(true);
      if (wait > 1) {
        const sooner = new Map([...states].map(([k, s]) => [k, { ...s }]));
        expect(takeFrom(sooner, [b], now + wait - 1).ok, `${capacity}/${windowMs}/${amount}: ${wait - 1} ms is too soon`).toBe(false);
      }
      now += wait;
      expect(takeFrom(states, [b], now).ok, `${capacity}/${windowMs}/${amount}: ready after ${wait} ms`).toBe(true);
    }
  });

  it('takes from every bucket or none, and names the one with the longest wait', () => {
    const states = new Map<string, BucketState>();
    const fast = bucket('fast', 10, 1000, 4);
    const slow = bucket('slow', 10, 10_000, 4);
    expect(takeFrom(states, [fast, slow], 0).ok).toBe(true);
    expect(takeFrom(states, [fast, slow], 0).ok).toBe(true);
    // Both hold 2 now: 2 more tokens take 200 ms on fast and 2000 ms on slow.
    const refused = takeFrom(states, [fast, slow], 0);
    expect(refused).toEqual({ ok: false, scope: 'scope-slow', key: 'slow', retryAfterMs: 2000 });
    // Nothing was taken by the refusal.
    expect(states.get('fast')?.tokens).toBeCloseTo(2, 9);
    expect(states.get('slow')?.tokens).toBeCloseTo(2, 9);
    expect(takeFrom(states, [bucket('fast', 10, 1000, 2)], 0).ok).toBe(true);
    expect(states.get('fast')?.tokens).toBeCloseTo(0, 9);
  });

  it('counts two lines on one bucket together', () => {
    const states = new Map<string, BucketState>();
    expect(takeFrom(states, [bucket('k', 10, 1000, 4)], 0).ok).toBe(true);
    // 6 left: each line alone fits, the two together (8) need 200 ms more.
    const refused = takeFrom(states, [bucket('k', 10, 1000, 4), bucket('k', 10, 1000, 4)], 0);
    expect(refused).toEqual({ ok: false, scope: 'scope-k', key: 'k', retryAfterMs: 200 });
    expect(states.get('k')?.tokens).toBe(6);
  });

  it('reports a take larger than the bucket with its window (finite, so it survives JSON)', () => {
    const states = new Map<string, BucketState>();
    expect(takeFrom(states, [bucket('k', 10, 1000, 11)], 0)).toEqual({ ok: false, scope: 'scope-k', key: 'k', retryAfterMs: 1000 });
    expect(takeFrom(states, [bucket('k', 10, 1000, 10)], 0).ok).toBe(true);
  });

  it('refuses a bucket that is not positive and finite, by name, whether taking or crediting', () => {
    for (const bad of [
      bucket('b', 0, 1000, 1),
      bucket('b', 10, 0, 1),
      bucket('b', 10, 1000, -1),
      bucket('b', Number.POSITIVE_INFINITY, 1000, 1),
      bucket('b', 10, Number.NaN, 1),
    ]) {
      expect(() => takeFrom(new Map(), [bad], 0)).toThrow(/bucket b: capacity and windowMs must be positive and amount non-negative/);
      expect(() => creditTo(new Map(), [bad], 0)).toThrow(TypeError);
    }
    expect(takeFrom(new Map(), [bucket('b', 10, 1000, 0)], 0).ok).toBe(true);
  });

  it('credits back never above capacity', () => {
    const states = new Map<string, BucketState>();
    takeFrom(states, [bucket('k', 10, 1000, 8)], 0);
    creditTo(states, [bucket('k', 10, 1000, 3)], 0);
    expect(states.get('k')?.tokens).toBeCloseTo(5, 9);
    creditTo(states, [bucket('k', 10, 1000, 30)], 0);
    expect(states.get('k')?.tokens).toBe(10);
  });
});

describe('kill switches', () => {
  const info: KillInfo = { reason: 'runaway', by: 'ops', at: 5 };
  it('are the same only when reason, author and time all match', () => {
    expect(sameKill(info, { ...info })).toBe(true);
    expect(sameKill(info, { ...info, reason: 'other' })).toBe(false);
    expect(sameKill(info, { ...info, by: 'someone' })).toBe(false);
    expect(sameKill(info, { ...info, at: 6 })).toBe(false);
  });

  it('notify every listener with its own copy, even when one throws', () => {
    const seen: (KillInfo | null)[] = [];
    const listeners = new Set([
      () => {
        throw new Error('bad listener');
      },
      (_scope: string, i: KillInfo | null) => {
        seen.push(i);
        if (i) i.reason = 'mutated';
      },
      (_scope: string, i: KillInfo | null) => seen.push(i),
    ]);
    notifyKill(listeners, 'agent:bot', info);
    notifyKill(listeners, 'agent:bot', null);
    expect(seen).toEqual([{ ...info, reason: 'mutated' }, info, null, null]);
    expect(info.reason).toBe('runaway');
  });
});
