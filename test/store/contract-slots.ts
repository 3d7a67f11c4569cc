/**
 * Store contract, reserved concurrency (`maxConcurrentCalls`): an in-flight slot is a ledger line of
 * amount 1 against the cap, held by the call's reservation. Across two handles on one state (two
 * replicas), never more than the cap are held; a slot comes back when the call settles (at 0, so
 * nothing is "used"), is released, or its reservation expires (a crashed replica's lease).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Charge, LedgerStore } from '../../src/store/store.ts';

const T0 = Date.UTC(2026, 0, 1);
const TTL = 5_000;
const KEY = 'concurrency:agent:bot';

const slot = (limit: number): Charge => ({ key: KEY, dim: 'in_flight', amount: 1, limit, code: 'limit.concurrency' });
const cost = (amount: number): Charge => ({ key: 'run:r', dim: 'cost', amount, limit: 1_000, code: 'limit.cost' });

export function slotSections(name: string, open: () => Promise<{ a: LedgerStore; b: LedgerStore; close: () => Promise<void> }>): void {
  describe(`store contract: ${name}: reserved-concurrency slots`, () => {
    let a: LedgerStore;
    let b: LedgerStore;
    let close: () => Promise<void>;
    let seq = 0;
    const id = () => `slot-${process.pid}-${++seq}-${Math.random().toString(36).slice(2)}`;
    const held = async (ledger: LedgerStore, now = T0) => (await ledger.balances([{ key: KEY, dim: 'in_flight' }], now))[0];

    beforeEach(async () => {
      ({ a, b, close } = await open());
    });
    afterEach(() => close());

    it('N = 2: of 10 concurrent reservations on two handles exactly 2 hold a slot; the rest are refused with limit.concurrency', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).reserve({ id: id(), charges: [cost(1), slot(2)], expiresAt: T0 + TTL, now: T0 })),
      );
      expect(results.filter((r) => r.ok).length).toBe(2);
      for (const r of results) {
        if (r.ok) continue;
        expect(r.refusal).toMatchObject({ key: KEY, dim: 'in_flight', code: 'limit.concurrency', limit: 2, used: 0, reserved: 2, requested: 1 });
      }
      expect(await held(a)).toEqual({ used: 0, reserved: 2 });
      expect(await held(b)).toEqual({ used: 0, reserved: 2 });
    });

    it('settling at 0 gives the slot back and records no use; release does too', async () => {
      const first = id();
      const second = id();
      expect((await a.reserve({ id: first, charges: [cost(5), slot(1)], expiresAt: T0 + TTL, now: T0 })).ok).toBe(true);
      expect((await b.reserve({ id: id(), charges: [cost(5), slot(1)], expiresAt: T0 + TTL, now: T0 })).ok).toBe(false);
      const settled = await a.settle({ id: first, actual: [3, 0], now: T0 + 10 });
      expect(settled.ok).toBe(true);
      expect(await held(b, T0 + 10)).toEqual({ used: 0, reserved: 0 });
      expect((await b.reserve({ id: second, charges: [cost(5), slot(1)], expiresAt: T0 + TTL, now: T0 + 10 })).ok).toBe(true);
      await b.release(second);
      expect(await held(a, T0 + 20)).toEqual({ used: 0, reserved: 0 });
    });

    it("a crashed holder's slot comes back when its reservation expires (the lease), not before", async () => {
      expect((await a.reserve({ id: id(), charges: [slot(1)], expiresAt: T0 + TTL, now: T0 })).ok).toBe(true);
      // `a` never settles: its replica died.
      expect((await b.reserve({ id: id(), charges: [slot(1)], expiresAt: T0 + 2 * TTL, now: T0 + TTL - 1 })).ok).toBe(false);
      expect((await b.reserve({ id: id(), charges: [slot(1)], expiresAt: T0 + 2 * TTL, now: T0 + TTL })).ok).toBe(true);
    });

    it('a cap of 0 refuses every call (throttled)', async () => {
      const r = await a.reserve({ id: id(), charges: [slot(0)], expiresAt: T0 + TTL, now: T0 });
      expect(r).toMatchObject({ ok: false, refusal: { code: 'limit.concurrency', limit: 0, used: 0, reserved: 0 } });
    });
  });
}
