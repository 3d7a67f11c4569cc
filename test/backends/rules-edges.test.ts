/**
 * The shared store rules (src/backends/rules.ts) at their edges: bucket states a hair's breadth from
 * the amount (float refill noise must neither refuse a take nor shorten a retry-after below what
 * works), a take of exactly the bucket's capacity, ties between buckets, the messages of caller bugs,
 * and how a run prune request is read.
 */
import { describe, expect, it } from 'vitest';
import { checkActual, checkCharges, checkDelta, pruneBounds, takeFrom } from '../../src/backends/rules.ts';
import type { BucketState } from '../../src/core/token-bucket.ts';
import type { BucketSpec, Charge } from '../../src/store/store.ts';

const bucket = (key: string, capacity: number, windowMs: number, amount: number): BucketSpec => ({ key, capacity, windowMs, amount, scope: `scope-${key}` });
const NOW = 1_000_000;
const holding = (tokens: number) => new Map<string, BucketState>([['k', { tokens, updatedAt: NOW }]]);

describe('takeFrom at the rounding edge', () => {
  it('a bucket short of the amount by no more than 1e-9 token holds it', () => {
    // A capacity of 10 tolerates 1e-9 (not capacity × 1e-12 = 1e-11).
    for (const tokens of [1 - 1e-9, 1 - 5e-10]) {
      const states = holding(tokens);
      expect(takeFrom(states, [bucket('k', 10, 1000, 1)], NOW), String(tokens)).toEqual({ ok: true });
      expect(states.get('k')?.tokens).toBe(0);
    }
    expect(takeFrom(holding(1 - 2e-9), [bucket('k', 10, 1000, 1)], NOW)).toMatchObject({ ok: false, retryAfterMs: 1 });
  });

  it('a refill that lands on the amount up to the tolerance is waited for exactly, not a ms longer', () => {
    // 0.969999999 tokens: 3 ms of refill (0.03) bring it to 1 - 1e-9, which holds 1.
    const tokens = 1 - (3 * 10) / 1000 - 1e-9;
    const refused = takeFrom(holding(tokens), [bucket('k', 10, 1000, 1)], NOW);
    expect(refused).toEqual({ ok: false, scope: 'scope-k', key: 'k', retryAfterMs: 3 });
    expect(takeFrom(holding(tokens), [bucket('k', 10, 1000, 1)], NOW + 2).ok).toBe(false);
    expect(takeFrom(holding(tokens), [bucket('k', 10, 1000, 1)], NOW + 3).ok).toBe(true);
  });

  it('a wait a fraction of a microsecond past a whole ms rounds up to the next ms', () => {
    // 0.07 + 5e-9 tokens missing: 7.0000005 ms of refill, so 7 ms is too soon and 8 ms is enough.
    const tokens = 0.93 - 5e-9;
    const refused = takeFrom(holding(tokens), [bucket('k', 10, 1000, 1)], NOW);
    expect(refused).toEqual({ ok: false, scope: 'scope-k', key: 'k', retryAfterMs: 8 });
    expect(takeFrom(holding(tokens), [bucket('k', 10, 1000, 1)], NOW + 7).ok).toBe(false);
    expect(takeFrom(holding(tokens), [bucket('k', 10, 1000, 1)], NOW + 8).ok).toBe(true);
  });
});

describe('takeFrom', () => {
  it('a take of exactly the capacity waits for the bucket to refill, not a whole window', () => {
    const states = new Map<string, BucketState>();
    expect(takeFrom(states, [bucket('k', 10, 1000, 5)], 0).ok).toBe(true);
    expect(takeFrom(states, [bucket('k', 10, 1000, 10)], 0)).toEqual({ ok: false, scope: 'scope-k', key: 'k', retryAfterMs: 500 });
    expect(takeFrom(states, [bucket('k', 10, 1000, 10)], 499).ok).toBe(false);
    expect(takeFrom(states, [bucket('k', 10, 1000, 10)], 500).ok).toBe(true);
  });

  it('of buckets with the same wait, names the first in the request (as the Redis script does)', () => {
    const states = new Map<string, BucketState>();
    const both = [bucket('a', 10, 1000, 4), bucket('b', 10, 1000, 4)];
    expect(takeFrom(states, both, 0).ok).toBe(true);
    expect(takeFrom(states, both, 0).ok).toBe(true);
    expect(takeFrom(states, both, 0)).toEqual({ ok: false, scope: 'scope-a', key: 'a', retryAfterMs: 200 });
    expect(takeFrom(states, [...both].reverse(), 0)).toEqual({ ok: false, scope: 'scope-b', key: 'b', retryAfterMs: 200 });
  });
});

describe('caller bugs are TypeErrors that name the bad value', () => {
  const charge = (amount: number): Charge => ({ key: 'agent:bot', dim: 'tokens', amount, limit: 100, code: 'limit.tokens' }) as Charge;

  it('charges', () => {
    expect(() => checkCharges([charge(1), charge(-1)])).toThrow(new TypeError('charges[1].amount must be a non-negative safe integer, got -1'));
    expect(() => checkCharges([charge(0.5)])).toThrow(new TypeError('charges[0].amount must be a non-negative safe integer, got 0.5'));
    expect(() => checkCharges([charge(0), charge(7)])).not.toThrow();
  });

  it('settlements', () => {
    expect(() => checkActual([1], 2)).toThrow(new TypeError('settle: expected 2 actual amounts, got 1'));
    expect(() => checkActual([1, Number.NaN], 2)).toThrow(new TypeError('settle: actual[1] must be a non-negative safe integer, got NaN'));
    expect(() => checkActual([0, 3], 2)).not.toThrow();
  });

  it('adjustments', () => {
    expect(() => checkDelta(1.5)).toThrow(new TypeError('adjust: delta must be a safe integer, got 1.5'));
    expect(() => checkDelta(-5)).not.toThrow();
  });
});

describe('pruneBounds', () => {
  it('rolls before rollBefore, or before deleteBefore when that is later; none without either', () => {
    expect(pruneBounds({ dims: [] })).toEqual({ rollBefore: Number.NEGATIVE_INFINITY, limit: 1000 });
    expect(pruneBounds({ dims: [], rollBefore: 100 })).toEqual({ rollBefore: 100, limit: 1000 });
    expect(pruneBounds({ dims: [], deleteBefore: 50 })).toEqual({ rollBefore: 50, limit: 1000 });
    expect(pruneBounds({ dims: [], rollBefore: 100, deleteBefore: 50, limit: 10 })).toEqual({ rollBefore: 100, limit: 10 });
    expect(pruneBounds({ dims: [], rollBefore: 10, deleteBefore: 50 })).toEqual({ rollBefore: 50, limit: 1000 });
  });
});
