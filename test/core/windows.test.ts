/**
 * The pure arithmetic under budgets and rate limits, pinned at its edges: budget windows (UTC day and
 * month, including the memo that answers most calls), alert thresholds (crossed exactly once), and
 * token-bucket refill and wait.
 */
import { describe, expect, it } from 'vitest';
import { windowEnd, windowId } from '../../src/core/periods.ts';
import { crossedThresholds } from '../../src/core/thresholds.ts';
import { refill, waitFor } from '../../src/core/token-bucket.ts';

const at = (y: number, m: number, d: number, h = 0, min = 0, s = 0, ms = 0) => Date.UTC(y, m - 1, d, h, min, s, ms);

describe('budget windows (UTC)', () => {
  it('names the day and the month a time falls in, up to the last millisecond', () => {
    expect(windowId('day', at(2026, 12, 3, 23, 59, 59, 999))).toBe('2026-12-03');
    expect(windowId('day', at(2026, 12, 4))).toBe('2026-12-04');
    expect(windowId('month', at(2026, 12, 31, 23, 59, 59, 999))).toBe('2026-12');
    expect(windowId('month', at(2027, 1, 1))).toBe('2027-01');
    expect(windowId('day', at(2028, 2, 29, 12))).toBe('2028-02-29');
  });

  it('ends a window at the next UTC midnight or first of the month', () => {
    expect(windowEnd('day', at(2026, 12, 3, 10))).toBe(at(2026, 12, 4));
    expect(windowEnd('day', at(2026, 12, 31, 23, 59, 59, 999))).toBe(at(2027, 1, 1));
    expect(windowEnd('month', at(2026, 12, 15))).toBe(at(2027, 1, 1));
    expect(windowEnd('month', at(2028, 2, 10))).toBe(at(2028, 3, 1));
    expect(windowEnd('month', at(2027, 2, 10))).toBe(at(2027, 3, 1));
    // The first millisecond of a window belongs to it.
    expect(windowEnd('day', at(2026, 12, 4))).toBe(at(2026, 12, 5));
  });

  it('answers right whichever order times come in (the memo holds one window per period)', () => {
    const times = [
      at(2026, 12, 3, 12),
      at(2026, 12, 3, 0),
      at(2026, 12, 2, 23, 59, 59, 999),
      at(2026, 12, 4),
      at(2026, 12, 3, 23, 59, 59, 999),
      at(2026, 11, 30, 12),
      at(2027, 1, 1),
      at(2026, 12, 3, 6),
    ];
    for (let round = 0; round < 3; round++) {
      for (const t of times) {
        const iso = new Date(t).toISOString();
        expect(windowId('day', t)).toBe(iso.slice(0, 10));
        expect(windowId('month', t)).toBe(iso.slice(0, 7));
        expect(windowId('day', t)).toBe(iso.slice(0, 10));
      }
    }
  });
});

describe('alert thresholds', () => {
  it('are crossed by the settlement that moves spend from below to at-or-above t × limit, and by no other', () => {
    const ts = [0.5, 0.8, 1];
    expect(crossedThresholds(ts, 0, 49, 100)).toEqual([]);
    expect(crossedThresholds(ts, 0, 50, 100)).toEqual([0.5]);
    expect(crossedThresholds(ts, 50, 79, 100)).toEqual([]);
    expect(crossedThresholds(ts, 49, 80, 100)).toEqual([0.5, 0.8]);
    expect(crossedThresholds(ts, 80, 100, 100)).toEqual([1]);
    expect(crossedThresholds(ts, 100, 150, 100)).toEqual([]);
    expect(crossedThresholds(ts, 0, 1000, 100)).toEqual([0.5, 0.8, 1]);
  });

  it('are never crossed without a positive limit', () => {
    expect(crossedThresholds([0, 0.5, 1], -1, 10, 0)).toEqual([]);
    expect(crossedThresholds([0.5], -100, 10, -10)).toEqual([]);
  });
});

describe('token buckets', () => {
  it('start full, refill at capacity per window, never above capacity, and never go back in time', () => {
    expect(refill(undefined, 10, 1000, 5)).toEqual({ tokens: 10, updatedAt: 5 });
    expect(refill({ tokens: 0, updatedAt: 0 }, 10, 1000, 250)).toEqual({ tokens: 2.5, updatedAt: 250 });
    expect(refill({ tokens: 4, updatedAt: 0 }, 10, 1000, 5000)).toEqual({ tokens: 10, updatedAt: 5000 });
    // A clock that steps back neither refills nor moves the bucket's time back.
    expect(refill({ tokens: 4, updatedAt: 1000 }, 10, 1000, 500)).toEqual({ tokens: 4, updatedAt: 1000 });
  });

  it('say how long until an amount is there: 0 if it is, Infinity if it never fits, else whole ms rounded up', () => {
    expect(waitFor({ tokens: 5, updatedAt: 0 }, 5, 10, 1000)).toBe(0);
    expect(waitFor({ tokens: 6, updatedAt: 0 }, 5, 10, 1000)).toBe(0);
    expect(waitFor({ tokens: 2, updatedAt: 0 }, 5, 10, 1000)).toBe(300);
    expect(waitFor({ tokens: 0, updatedAt: 0 }, 10, 10, 1000)).toBe(1000);
    expect(waitFor({ tokens: 0, updatedAt: 0 }, 1, 3, 1000)).toBe(334);
    expect(waitFor({ tokens: 0, updatedAt: 0 }, 11, 10, 1000)).toBe(Number.POSITIVE_INFINITY);
  });
});
