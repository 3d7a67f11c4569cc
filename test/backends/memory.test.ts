import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import type { Charge } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const line = (amount: number): Charge => ({ key: 'k', dim: 'cost', amount, limit: 1e12, code: 'limit.cost' });

describe('memory store', () => {
  it('forgets an expired reservation after the retention period', async () => {
    const s = createMemoryStore({ expiredRetentionMs: 1000 });
    await s.ledger.reserve({ id: 'a', charges: [line(5)], expiresAt: T0 + 100, now: T0 });
    await s.ledger.reserve({ id: 'b', charges: [line(5)], expiresAt: T0 + 100, now: T0 });
    await s.ledger.balances([], T0 + 500);
    expect((await s.ledger.settle({ id: 'a', actual: [3], now: T0 + 500 })).ok).toBe(true);
    await s.ledger.balances([], T0 + 1100);
    expect(await s.ledger.settle({ id: 'b', actual: [3], now: T0 + 1100 })).toEqual({ ok: false, reason: 'unknown' });
    expect(await s.ledger.balances([{ key: 'k', dim: 'cost' }], T0 + 1100)).toEqual([{ used: 3, reserved: 0 }]);
  });

  it('expiry stays right after thousands of settled reservations are compacted away', async () => {
    const s = createMemoryStore();
    for (let i = 0; i < 5000; i++) {
      await s.ledger.reserve({ id: `r${i}`, charges: [line(1)], expiresAt: T0 + 10_000 + (i % 97), now: T0 });
      if (i % 50 !== 0) await s.ledger.settle({ id: `r${i}`, actual: [1], now: T0 });
    }
    expect(await s.ledger.balances([{ key: 'k', dim: 'cost' }], T0)).toEqual([{ used: 4900, reserved: 100 }]);
    expect(await s.ledger.balances([{ key: 'k', dim: 'cost' }], T0 + 10_050)).toEqual([
      { used: 4900, reserved: Array.from({ length: 100 }, (_, j) => (j * 50) % 97).filter((m) => 10_000 + m > 10_050).length },
    ]);
    expect(await s.ledger.balances([{ key: 'k', dim: 'cost' }], T0 + 10_097)).toEqual([{ used: 4900, reserved: 0 }]);
  });
});
