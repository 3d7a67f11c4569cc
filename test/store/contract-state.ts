/**
 * The state sections of the store contract (runs, ledger, rates, kills), run against every backend
 * by contract.ts. Store-agnostic:
 * it only uses the Store interface.
 */
import { settleAndCredit, takeAndReserve } from '../../src/runtime/local-ledger.ts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StopCode } from '../../src/core/codes.ts';
import type { BucketSpec, Charge, KillInfo, KillScope, RunRecord, Store } from '../../src/store/store.ts';
import { mulberry32 as rng } from '../../src/providers/simulated/random.ts';

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

function charge(key: string, amount: number, limit?: number, code: StopCode = 'limit.cost', dim = 'cost'): Charge {
  return limit === undefined ? { key, dim, amount, code } : { key, dim, amount, limit, code };
}

function bucket(key: string, amount: number, capacity = 10, windowMs = MINUTE, scope = `scope:${key}`): BucketSpec {
  return { key, capacity, windowMs, amount, scope };
}

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    agent: 'agent-a',
    tenant: 'tenant-a',
    ancestors: [],
    depth: 0,
    startedAt: T0,
    deadline: T0 + 10 * MINUTE,
    status: 'running',
    ...over,
  };
}

export function stateSections(name: string, makeStore: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let seq = 0;
    const id = () => `res-${++seq}`;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    const balance = async (key: string, now = T0, dim = 'cost') => (await store.ledger.balances([{ key, dim }], now))[0];

    describe('compound operations (store.compound, or their parts one by one)', () => {
      it('takeAndReserve: takes and reserves; a refused reservation gives the tokens back; a refused rate reserves nothing', async () => {
        const ok = await takeAndReserve(store, [bucket('agent:c', 4)], { id: 'c1', charges: [charge('run:c', 300, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        expect(ok).toEqual({ rate: { ok: true }, reserve: { ok: true } });
        expect(await balance('run:c')).toEqual({ used: 0, reserved: 300 });
        const refused = await takeAndReserve(store, [bucket('agent:c', 4)], {
          id: 'c2',
          charges: [charge('run:c', 800, 1000)],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        expect(refused.rate).toEqual({ ok: true });
        expect(refused.reserve).toMatchObject({ ok: false, refusal: { key: 'run:c', used: 0, reserved: 300, requested: 800 } });
        // 10 - 4 taken (the second take was given back): 6 left, so 7 is refused with the first's wait.
        expect(await store.rates.take([bucket('agent:c', 7)], T0)).toEqual({ ok: false, scope: 'scope:agent:c', key: 'agent:c', retryAfterMs: 6000 });
        const limited = await takeAndReserve(store, [bucket('agent:c', 7)], { id: 'c3', charges: [charge('run:c', 1, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        expect(limited).toEqual({ rate: { ok: false, scope: 'scope:agent:c', key: 'agent:c', retryAfterMs: 6000 } });
        expect(await balance('run:c')).toEqual({ used: 0, reserved: 300 });
        expect(await store.ledger.settle({ id: 'c3', actual: [1], now: T0 })).toEqual({ ok: false, reason: 'unknown' });
      });

      it('settleAndCredit: settles as settle does, then gives the tokens back', async () => {
        await takeAndReserve(store, [bucket('agent:d', 10)], { id: 'd1', charges: [charge('run:d', 300, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        const settled = await settleAndCredit(store, { id: 'd1', actual: [120], now: T0 }, [bucket('agent:d', 4)]);
        expect(settled).toEqual({ ok: true, lines: [{ key: 'run:d', dim: 'cost', before: 0, after: 120, limit: 1000 }] });
        expect(await balance('run:d')).toEqual({ used: 120, reserved: 0 });
        expect(await store.rates.take([bucket('agent:d', 4)], T0)).toEqual({ ok: true });
        expect(await store.rates.take([bucket('agent:d', 1)], T0)).toMatchObject({ ok: false });
        expect(await settleAndCredit(store, { id: 'd1', actual: [120], now: T0 }, [bucket('agent:d', 1)])).toEqual({ ok: false, reason: 'unknown' });
      });
    });

    describe('ledger.reserve', () => {
      it('reserves within the limit and shows the hold in balances', async () => {
        const r = await store.ledger.reserve({ id: id(), charges: [charge('run:a', 300, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        expect(r).toEqual({ ok: true });
        expect(await balance('run:a')).toEqual({ used: 0, reserved: 300 });
      });

      it('fits exactly at the limit and refuses one unit more, naming the numbers and the code', async () => {
        await store.ledger.reserve({ id: id(), charges: [charge('run:a', 600, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        const s = await store.ledger.reserve({ id: 's', charges: [charge('run:a', 100, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        await store.ledger.settle({ id: 's', actual: [150], now: T0 });
        // used 150 + reserved 600 + 250 = 1000: fits exactly
        expect(await store.ledger.reserve({ id: id(), charges: [charge('run:a', 250, 1000)], expiresAt: T0 + MINUTE, now: T0 })).toEqual({ ok: true });
        expect(s).toEqual({ ok: true });
        const r = await store.ledger.reserve({
          id: id(),
          charges: [charge('run:a', 1, 1000, 'limit.cost')],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        expect(r).toEqual({
          ok: false,
          refusal: { key: 'run:a', dim: 'cost', code: 'limit.cost', limit: 1000, used: 150, reserved: 850, requested: 1 },
        });
      });

      it('is all or nothing: a failing later line leaves earlier lines untouched', async () => {
        const r = await store.ledger.reserve({
          id: id(),
          charges: [charge('run:a', 100, 1000, 'limit.cost'), charge('budget:t', 100, 50, 'budget.exhausted'), charge('run:b', 1, 0)],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.refusal).toMatchObject({ key: 'budget:t', code: 'budget.exhausted', limit: 50, requested: 100 });
        expect(
          await store.ledger.balances(
            [
              { key: 'run:a', dim: 'cost' },
              { key: 'budget:t', dim: 'cost' },
            ],
            T0,
          ),
        ).toEqual([
          { used: 0, reserved: 0 },
          { used: 0, reserved: 0 },
        ]);
      });

      it('names the first failing line when several do not fit', async () => {
        const r = await store.ledger.reserve({
          id: id(),
          charges: [charge('a', 10, 100), charge('b', 10, 5, 'limit.tokens', 'tokens'), charge('c', 10, 5, 'budget.exhausted')],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        expect(r).toEqual({ ok: false, refusal: { key: 'b', dim: 'tokens', code: 'limit.tokens', limit: 5, used: 0, reserved: 0, requested: 10 } });
      });

      it('keeps dimensions of one key apart, and tracks lines without a limit', async () => {
        await store.ledger.reserve({
          id: id(),
          charges: [charge('run:a', 7, undefined, 'limit.steps', 'steps'), charge('run:a', 500, 1000, 'limit.cost', 'cost')],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        expect(
          await store.ledger.balances(
            [
              { key: 'run:a', dim: 'steps' },
              { key: 'run:a', dim: 'cost' },
            ],
            T0,
          ),
        ).toEqual([
          { used: 0, reserved: 7 },
          { used: 0, reserved: 500 },
        ]);
      });

      it('counts two lines on the same key and dim together', async () => {
        const r = await store.ledger.reserve({
          id: id(),
          charges: [charge('budget:t', 60, 100), charge('budget:t', 60, 100, 'budget.exhausted')],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        expect(r).toEqual({
          ok: false,
          refusal: { key: 'budget:t', dim: 'cost', code: 'budget.exhausted', limit: 100, used: 0, reserved: 0, requested: 120 },
        });
        expect(await balance('budget:t')).toEqual({ used: 0, reserved: 0 });
      });

      it('a limit of 0 refuses any positive amount but accepts 0', async () => {
        expect((await store.ledger.reserve({ id: id(), charges: [charge('k', 1, 0)], expiresAt: T0 + MINUTE, now: T0 })).ok).toBe(false);
        expect((await store.ledger.reserve({ id: id(), charges: [charge('k', 0, 0)], expiresAt: T0 + MINUTE, now: T0 })).ok).toBe(true);
      });

      it('rejects a duplicate reservation id with TypeError and changes nothing', async () => {
        await store.ledger.reserve({ id: 'dup', charges: [charge('k', 10, 100)], expiresAt: T0 + MINUTE, now: T0 });
        await expect(store.ledger.reserve({ id: 'dup', charges: [charge('k', 10, 100)], expiresAt: T0 + MINUTE, now: T0 })).rejects.toThrow(TypeError);
        expect(await balance('k')).toEqual({ used: 0, reserved: 10 });
        // After settling, the id is free again.
        await store.ledger.settle({ id: 'dup', actual: [4], now: T0 });
        expect((await store.ledger.reserve({ id: 'dup', charges: [charge('k', 10, 100)], expiresAt: T0 + MINUTE, now: T0 })).ok).toBe(true);
      });

      it('rejects amounts that are not non-negative integers with TypeError', async () => {
        for (const amount of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(store.ledger.reserve({ id: id(), charges: [charge('k', amount, 100)], expiresAt: T0 + MINUTE, now: T0 })).rejects.toThrow(TypeError);
        }
        expect(await balance('k')).toEqual({ used: 0, reserved: 0 });
      });
    });

    describe('ledger.settle', () => {
      it('moves reserved to used with the actual amount, larger or smaller, and reports before/after', async () => {
        await store.ledger.reserve({
          id: 'r1',
          charges: [charge('run:a', 100, 1000), charge('budget:t', 100, 5000, 'budget.exhausted'), charge('run:a', 3, undefined, 'limit.steps', 'steps')],
          expiresAt: T0 + MINUTE,
          now: T0,
        });
        await store.ledger.reserve({ id: 'r2', charges: [charge('run:a', 50, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        const s1 = await store.ledger.settle({ id: 'r1', actual: [40, 140, 3], now: T0 + 1 });
        expect(s1).toEqual({
          ok: true,
          lines: [
            { key: 'run:a', dim: 'cost', before: 0, after: 40, limit: 1000 },
            { key: 'budget:t', dim: 'cost', before: 0, after: 140, limit: 5000 },
            { key: 'run:a', dim: 'steps', before: 0, after: 3 },
          ],
        });
        expect(await balance('run:a', T0 + 1)).toEqual({ used: 40, reserved: 50 });
        expect(await balance('budget:t', T0 + 1)).toEqual({ used: 140, reserved: 0 });
        const s2 = await store.ledger.settle({ id: 'r2', actual: [70], now: T0 + 2 });
        expect(s2).toEqual({ ok: true, lines: [{ key: 'run:a', dim: 'cost', before: 40, after: 110, limit: 1000 }] });
        expect(await balance('run:a', T0 + 2)).toEqual({ used: 110, reserved: 0 });
      });

      it('records the truth even past the limit', async () => {
        await store.ledger.reserve({ id: 'r', charges: [charge('k', 90, 100)], expiresAt: T0 + MINUTE, now: T0 });
        const s = await store.ledger.settle({ id: 'r', actual: [250], now: T0 });
        expect(s).toEqual({ ok: true, lines: [{ key: 'k', dim: 'cost', before: 0, after: 250, limit: 100 }] });
        const r = await store.ledger.reserve({ id: id(), charges: [charge('k', 0, 100)], expiresAt: T0 + MINUTE, now: T0 });
        expect(r).toMatchObject({ ok: false, refusal: { used: 250, reserved: 0, requested: 0 } });
      });

      it('returns unknown for an unknown id and for a second settle', async () => {
        expect(await store.ledger.settle({ id: 'nope', actual: [], now: T0 })).toEqual({ ok: false, reason: 'unknown' });
        await store.ledger.reserve({ id: 'r', charges: [charge('k', 10, 100)], expiresAt: T0 + MINUTE, now: T0 });
        expect((await store.ledger.settle({ id: 'r', actual: [10], now: T0 })).ok).toBe(true);
        expect(await store.ledger.settle({ id: 'r', actual: [10], now: T0 })).toEqual({ ok: false, reason: 'unknown' });
        expect(await balance('k')).toEqual({ used: 10, reserved: 0 });
      });

      it('rejects a wrong number of actual amounts with TypeError and keeps the reservation', async () => {
        await store.ledger.reserve({ id: 'r', charges: [charge('a', 10, 100), charge('b', 10, 100)], expiresAt: T0 + MINUTE, now: T0 });
        await expect(store.ledger.settle({ id: 'r', actual: [1], now: T0 })).rejects.toThrow(TypeError);
        await expect(store.ledger.settle({ id: 'r', actual: [1, -1], now: T0 })).rejects.toThrow(TypeError);
        expect(await balance('a')).toEqual({ used: 0, reserved: 10 });
        expect((await store.ledger.settle({ id: 'r', actual: [1, 2], now: T0 })).ok).toBe(true);
      });
    });

    describe('ledger expiry', () => {
      it('releases holds whose expiresAt <= now, without adding to used', async () => {
        await store.ledger.reserve({ id: 'old', charges: [charge('k', 600, 1000)], expiresAt: T0 + 1000, now: T0 });
        await store.ledger.reserve({ id: 'new', charges: [charge('k', 100, 1000)], expiresAt: T0 + 5000, now: T0 });
        expect(await balance('k', T0 + 999)).toEqual({ used: 0, reserved: 700 });
        expect(await balance('k', T0 + 1000)).toEqual({ used: 0, reserved: 100 });
        expect(await balance('k', T0 + 5000)).toEqual({ used: 0, reserved: 0 });
      });

      it('a reserve sweeps first, so space held by a crashed caller comes back', async () => {
        await store.ledger.reserve({ id: 'crashed', charges: [charge('k', 900, 1000)], expiresAt: T0 + 1000, now: T0 });
        expect((await store.ledger.reserve({ id: id(), charges: [charge('k', 200, 1000)], expiresAt: T0 + 9000, now: T0 + 999 })).ok).toBe(false);
        expect((await store.ledger.reserve({ id: id(), charges: [charge('k', 200, 1000)], expiresAt: T0 + 9000, now: T0 + 1000 })).ok).toBe(true);
      });

      it('settling an expired reservation still records the usage, without releasing its hold twice', async () => {
        await store.ledger.reserve({ id: 'slow', charges: [charge('k', 300, 1000)], expiresAt: T0 + 1000, now: T0 });
        await store.ledger.reserve({ id: 'other', charges: [charge('k', 200, 1000)], expiresAt: T0 + 9000, now: T0 + 2000 });
        expect(await balance('k', T0 + 2000)).toEqual({ used: 0, reserved: 200 });
        const s = await store.ledger.settle({ id: 'slow', actual: [280], now: T0 + 3000 });
        expect(s).toEqual({ ok: true, lines: [{ key: 'k', dim: 'cost', before: 0, after: 280, limit: 1000 }] });
        expect(await balance('k', T0 + 3000)).toEqual({ used: 280, reserved: 200 });
        expect(await store.ledger.settle({ id: 'slow', actual: [280], now: T0 + 3000 })).toEqual({ ok: false, reason: 'unknown' });
      });

      it('settling a reservation that is due but not yet swept records usage once', async () => {
        await store.ledger.reserve({ id: 'due', charges: [charge('k', 300, 1000)], expiresAt: T0 + 1000, now: T0 });
        expect((await store.ledger.settle({ id: 'due', actual: [10], now: T0 + 5000 })).ok).toBe(true);
        expect(await balance('k', T0 + 5000)).toEqual({ used: 10, reserved: 0 });
      });

      it('an expired id is still taken until it is settled or released', async () => {
        await store.ledger.reserve({ id: 'x', charges: [charge('k', 1, 10)], expiresAt: T0 + 1000, now: T0 });
        await expect(store.ledger.reserve({ id: 'x', charges: [charge('k', 1, 10)], expiresAt: T0 + 9000, now: T0 + 2000 })).rejects.toThrow(TypeError);
        await store.ledger.release('x');
        expect((await store.ledger.reserve({ id: 'x', charges: [charge('k', 1, 10)], expiresAt: T0 + 9000, now: T0 + 2000 })).ok).toBe(true);
        expect(await balance('k', T0 + 2000)).toEqual({ used: 0, reserved: 1 });
      });

      it('keeps many interleaved reservations consistent as they expire in any order', async () => {
        const rand = rng(7);
        let expectReserved = 0;
        const live: Array<{ id: string; amount: number; expiresAt: number }> = [];
        for (let i = 0; i < 300; i++) {
          const amount = 1 + Math.floor(rand() * 100);
          const expiresAt = T0 + Math.floor(rand() * 10_000);
          const rid = `m${i}`;
          expect((await store.ledger.reserve({ id: rid, charges: [charge('k', amount)], expiresAt, now: T0 - 1 })).ok).toBe(true);
          live.push({ id: rid, amount, expiresAt });
        }
        // Settle a third, release a third, let the rest expire.
        for (let i = 0; i < live.length; i++) {
          if (i % 3 === 0) await store.ledger.settle({ id: live[i].id, actual: [0], now: T0 - 1 });
          if (i % 3 === 1) await store.ledger.release(live[i].id);
        }
        for (const at of [T0 + 2500, T0 + 5000, T0 + 7500, T0 + 10_000]) {
          expectReserved = live.filter((r, i) => i % 3 === 2 && r.expiresAt > at).reduce((s, r) => s + r.amount, 0);
          expect(await balance('k', at)).toEqual({ used: 0, reserved: expectReserved });
        }
        expect(expectReserved).toBe(0);
      });
    });

    describe('ledger.release and balances', () => {
      it('release drops the hold and is idempotent; settle after release is unknown', async () => {
        await store.ledger.reserve({ id: 'a', charges: [charge('k', 100, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        await store.ledger.reserve({ id: 'b', charges: [charge('k', 50, 1000)], expiresAt: T0 + MINUTE, now: T0 });
        await store.ledger.release('a');
        await store.ledger.release('a');
        await store.ledger.release('never-existed');
        expect(await balance('k')).toEqual({ used: 0, reserved: 50 });
        expect(await store.ledger.settle({ id: 'a', actual: [100], now: T0 })).toEqual({ ok: false, reason: 'unknown' });
      });

      it('release after expiry does not release twice', async () => {
        await store.ledger.reserve({ id: 'a', charges: [charge('k', 100, 1000)], expiresAt: T0 + 1000, now: T0 });
        await store.ledger.reserve({ id: 'b', charges: [charge('k', 50, 1000)], expiresAt: T0 + 9000, now: T0 });
        expect(await balance('k', T0 + 2000)).toEqual({ used: 0, reserved: 50 });
        await store.ledger.release('a');
        expect(await balance('k', T0 + 2000)).toEqual({ used: 0, reserved: 50 });
      });

      it('balances are zero for unknown accounts and keep request order', async () => {
        await store.ledger.reserve({ id: 'a', charges: [charge('k', 5)], expiresAt: T0 + MINUTE, now: T0 });
        expect(
          await store.ledger.balances(
            [
              { key: 'nobody', dim: 'cost' },
              { key: 'k', dim: 'cost' },
              { key: 'k', dim: 'tokens' },
            ],
            T0,
          ),
        ).toEqual([
          { used: 0, reserved: 0 },
          { used: 0, reserved: 5 },
          { used: 0, reserved: 0 },
        ]);
        expect(await store.ledger.balances([], T0)).toEqual([]);
      });
    });

    describe('ledger.trackRepeat', () => {
      it('counts consecutive repeats per key and restarts at 1 on a change', async () => {
        const seen: number[] = [];
        for (const fp of ['a', 'a', 'b', 'b', 'b', 'a']) seen.push(await store.ledger.trackRepeat('run:1', fp));
        expect(seen).toEqual([1, 2, 1, 2, 3, 1]);
        expect(await store.ledger.trackRepeat('run:2', 'a')).toBe(1);
        expect(await store.ledger.trackRepeat('run:1', 'a')).toBe(2);
      });
    });

    describe('ledger under concurrency', () => {
      it('200 concurrent reserves never overshoot the run limit or the tenant budget', async () => {
        const runLimit = 1_000_000_000;
        const tenantLimit = 600_000_000;
        const amount = 15_000_000;
        const charges = [
          charge('run:hot', amount, runLimit, 'limit.cost'),
          charge('budget:tenant:acme:day:2026-01-01', amount, tenantLimit, 'budget.exhausted'),
        ];
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) => store.ledger.reserve({ id: `c${i}`, charges, expiresAt: T0 + MINUTE, now: T0 })),
        );
        const granted = results.flatMap((r, i) => (r.ok ? [i] : []));
        expect(granted.length).toBe(Math.floor(tenantLimit / amount));
        for (const r of results) {
          if (!r.ok) {
            expect(r.refusal.code).toBe('budget.exhausted');
            expect(r.refusal.key).toBe('budget:tenant:acme:day:2026-01-01');
            expect(r.refusal.used + r.refusal.reserved + r.refusal.requested).toBeGreaterThan(r.refusal.limit);
          }
        }
        const rand = rng(42);
        let spent = 0;
        await Promise.all(
          granted.map((i) => {
            const actual = Math.floor(rand() * (amount + 1));
            spent += actual;
            return store.ledger.settle({ id: `c${i}`, actual: [actual, actual], now: T0 + 1 });
          }),
        );
        const [r, t] = await store.ledger.balances(
          [
            { key: 'run:hot', dim: 'cost' },
            { key: 'budget:tenant:acme:day:2026-01-01', dim: 'cost' },
          ],
          T0 + 1,
        );
        expect(r).toEqual({ used: spent, reserved: 0 });
        expect(t).toEqual({ used: spent, reserved: 0 });
        expect(t.used).toBeLessThanOrEqual(tenantLimit);
      });

      it('200 concurrent reserve-then-settle tasks stay under both limits', async () => {
        const runLimit = 1_000_000_000;
        const tenantLimit = 2_000_000_000;
        const amount = 15_000_000;
        const rand = rng(1);
        const codes = new Map<string, StopCode>([
          ['run:hot', 'limit.cost'],
          ['budget:tenant', 'budget.exhausted'],
        ]);
        const charges = [charge('run:hot', amount, runLimit, 'limit.cost'), charge('budget:tenant', amount, tenantLimit, 'budget.exhausted')];
        let refused = 0;
        await Promise.all(
          Array.from({ length: 200 }, async (_, i) => {
            const r = await store.ledger.reserve({ id: `t${i}`, charges, expiresAt: T0 + MINUTE, now: T0 });
            if (!r.ok) {
              refused++;
              expect(r.refusal.code).toBe(codes.get(r.refusal.key));
              return;
            }
            const actual = Math.floor(rand() * (amount + 1));
            const s = await store.ledger.settle({ id: `t${i}`, actual: [actual, actual], now: T0 });
            expect(s.ok).toBe(true);
          }),
        );
        const [r, t] = await store.ledger.balances(
          [
            { key: 'run:hot', dim: 'cost' },
            { key: 'budget:tenant', dim: 'cost' },
          ],
          T0,
        );
        expect(r.reserved).toBe(0);
        expect(t.reserved).toBe(0);
        expect(r.used).toBeLessThanOrEqual(runLimit);
        expect(t.used).toBeLessThanOrEqual(tenantLimit);
        expect(refused).toBeGreaterThanOrEqual(0);
      });

      it('20 runs sharing one budget: no run and not the budget goes over', async () => {
        const runLimit = 100_000_000;
        const budgetLimit = 500_000_000;
        const amount = 15_000_000;
        const tasks: Array<Promise<{ runKey: string; ok: boolean; code?: StopCode; key?: string }>> = [];
        for (let r = 0; r < 20; r++) {
          const runKey = `run:r${r}`;
          for (let k = 0; k < 10; k++) {
            tasks.push(
              store.ledger
                .reserve({
                  id: `${runKey}/${k}`,
                  charges: [charge(runKey, amount, runLimit, 'limit.cost'), charge('budget:tenant:shared', amount, budgetLimit, 'budget.exhausted')],
                  expiresAt: T0 + MINUTE,
                  now: T0,
                })
                .then((res) => (res.ok ? { runKey, ok: true } : { runKey, ok: false, code: res.refusal.code, key: res.refusal.key })),
            );
          }
        }
        const results = await Promise.all(tasks);
        const okCount = results.filter((x) => x.ok).length;
        expect(okCount).toBe(Math.floor(budgetLimit / amount));
        for (const x of results) {
          if (x.ok) continue;
          if (x.key === 'budget:tenant:shared') expect(x.code).toBe('budget.exhausted');
          else {
            expect(x.key).toBe(x.runKey);
            expect(x.code).toBe('limit.cost');
          }
        }
        const keys = Array.from({ length: 20 }, (_, r) => ({ key: `run:r${r}`, dim: 'cost' }));
        const balances = await store.ledger.balances([...keys, { key: 'budget:tenant:shared', dim: 'cost' }], T0);
        for (const b of balances.slice(0, 20)) expect(b.used + b.reserved).toBeLessThanOrEqual(runLimit);
        const total = balances.slice(0, 20).reduce((s, b) => s + b.reserved, 0);
        expect(balances[20]).toEqual({ used: 0, reserved: total });
        expect(total).toBeLessThanOrEqual(budgetLimit);
      });
    });

    describe('rates', () => {
      it('takes until empty, then refuses with scope, key and the exact wait', async () => {
        for (let i = 0; i < 10; i++) expect(await store.rates.take([bucket('agent:a', 1)], T0)).toEqual({ ok: true });
        expect(await store.rates.take([bucket('agent:a', 1)], T0)).toEqual({ ok: false, scope: 'scope:agent:a', key: 'agent:a', retryAfterMs: 6000 });
        expect(await store.rates.take([bucket('agent:a', 2)], T0)).toMatchObject({ retryAfterMs: 12_000 });
        expect(await store.rates.take([bucket('agent:a', 1)], T0 + 2000)).toMatchObject({ retryAfterMs: 4000 });
        expect(await store.rates.take([bucket('agent:a', 1)], T0 + 6000)).toEqual({ ok: true });
        expect(await store.rates.take([bucket('agent:a', 1)], T0 + 6000)).toMatchObject({ ok: false, retryAfterMs: 6000 });
      });

      it('refills continuously up to capacity, not beyond', async () => {
        await store.rates.take([bucket('k', 10)], T0);
        expect(await store.rates.take([bucket('k', 5)], T0 + 30_000)).toEqual({ ok: true });
        expect((await store.rates.take([bucket('k', 1)], T0 + 30_000)).ok).toBe(false);
        // An hour later the bucket holds capacity (10), not 600.
        expect(await store.rates.take([bucket('k', 10)], T0 + 3_600_000)).toEqual({ ok: true });
        expect((await store.rates.take([bucket('k', 1)], T0 + 3_600_000)).ok).toBe(false);
      });

      it('is all or nothing across buckets and names the bucket that has to be waited for longest', async () => {
        await store.rates.take([bucket('tenant:t', 9), bucket('model:m', 10, 10, 10_000)], T0);
        const r = await store.rates.take([bucket('agent:a', 1), bucket('tenant:t', 3), bucket('model:m', 1, 10, 10_000)], T0);
        expect(r).toEqual({ ok: false, scope: 'scope:tenant:t', key: 'tenant:t', retryAfterMs: 12_000 });
        // agent:a was not charged by the refused call: its full 10 are still there.
        expect(await store.rates.take([bucket('agent:a', 10)], T0)).toEqual({ ok: true });
      });

      it('counts the same bucket named twice in one call together', async () => {
        expect((await store.rates.take([bucket('k', 6), bucket('k', 6)], T0)).ok).toBe(false);
        expect(await store.rates.take([bucket('k', 5), bucket('k', 5)], T0)).toEqual({ ok: true });
        expect((await store.rates.take([bucket('k', 1)], T0)).ok).toBe(false);
      });

      it('an amount above capacity gets a finite retryAfter (JSON-safe)', async () => {
        const r = await store.rates.take([bucket('k', 11, 10, MINUTE)], T0);
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(Number.isFinite(r.retryAfterMs)).toBe(true);
          expect(r.retryAfterMs).toBeGreaterThan(0);
          expect(JSON.parse(JSON.stringify(r)).retryAfterMs).toBe(r.retryAfterMs);
        }
      });

      it('retryAfterMs is exact: a retry then succeeds, one ms earlier it would not', async () => {
        const rand = rng(99);
        for (let i = 0; i < 40; i++) {
          const capacity = 1 + Math.floor(rand() * 5000);
          const windowMs = 1000 + Math.floor(rand() * 119_000);
          const key = `k${i}`;
          const start = T0 + Math.floor(rand() * 1000);
          expect((await store.rates.take([bucket(key, capacity, capacity, windowMs)], start)).ok).toBe(true);
          const later = start + Math.floor(rand() * windowMs);
          const amount = 1 + Math.floor(rand() * capacity);
          const r = await store.rates.take([bucket(key, amount, capacity, windowMs)], later);
          if (r.ok) continue;
          expect(Number.isInteger(r.retryAfterMs)).toBe(true);
          if (r.retryAfterMs > 1) expect((await store.rates.take([bucket(key, amount, capacity, windowMs)], later + r.retryAfterMs - 1)).ok).toBe(false);
          expect(await store.rates.take([bucket(key, amount, capacity, windowMs)], later + r.retryAfterMs)).toEqual({ ok: true });
        }
      });

      it('credit gives tokens back, capped at capacity', async () => {
        await store.rates.take([bucket('tpm', 800, 1000)], T0);
        await store.rates.credit([bucket('tpm', 300, 1000)], T0);
        expect(await store.rates.take([bucket('tpm', 500, 1000)], T0)).toEqual({ ok: true });
        expect((await store.rates.take([bucket('tpm', 1, 1000)], T0)).ok).toBe(false);
        await store.rates.credit([bucket('tpm', 5000, 1000)], T0);
        expect(await store.rates.take([bucket('tpm', 1000, 1000)], T0)).toEqual({ ok: true });
        expect((await store.rates.take([bucket('tpm', 1, 1000)], T0)).ok).toBe(false);
      });

      it('200 concurrent takes grant exactly the capacity', async () => {
        const results = await Promise.all(Array.from({ length: 200 }, () => store.rates.take([bucket('hot', 1, 50), bucket('hot-tenant', 1, 120)], T0)));
        expect(results.filter((r) => r.ok).length).toBe(50);
      });
    });

    describe('kills', () => {
      const info = (reason: string, at = T0): KillInfo => ({ reason, by: 'ops', at });

      it('set, list and clear', async () => {
        await store.kills.set('global', info('incident'));
        await store.kills.set('agent:a', info('runaway', T0 + 1));
        await store.kills.set('agent:a', info('still runaway', T0 + 2));
        expect(await store.kills.list()).toEqual(
          new Map([
            ['global', info('incident')],
            ['agent:a', info('still runaway', T0 + 2)],
          ]),
        );
        await store.kills.clear('global');
        await store.kills.clear('global');
        await store.kills.clear('never-set');
        expect(await store.kills.list()).toEqual(new Map([['agent:a', info('still runaway', T0 + 2)]]));
      });

      it('list returns a copy', async () => {
        await store.kills.set('global', info('x'));
        const listed = await store.kills.list();
        listed.delete('global');
        expect((await store.kills.list()).has('global')).toBe(true);
      });

      it('subscribers see each change; unsubscribe stops them', async () => {
        const seen: Array<[KillScope, KillInfo | null]> = [];
        const other: KillScope[] = [];
        const off = store.kills.subscribe((scope, i) => seen.push([scope, i]));
        const offOther = store.kills.subscribe((scope) => other.push(scope));
        await store.kills.set('tenant:t', info('over budget'));
        await vi.waitFor(() => expect(seen).toEqual([['tenant:t', info('over budget')]]), { timeout: 2000, interval: 10 });
        await store.kills.clear('tenant:t');
        await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 2000, interval: 10 });
        expect(seen[1]).toEqual(['tenant:t', null]);
        off();
        await store.kills.set('run:r', info('manual'));
        await vi.waitFor(() => expect(other).toEqual(['tenant:t', 'tenant:t', 'run:r']), { timeout: 2000, interval: 10 });
        expect(seen).toHaveLength(2);
        offOther();
        off();
      });

      it('a throwing subscriber does not stop the write or the other subscribers', async () => {
        const seen: KillScope[] = [];
        const offBad = store.kills.subscribe(() => {
          throw new Error('listener bug');
        });
        const off = store.kills.subscribe((scope) => seen.push(scope));
        await store.kills.set('global', info('x'));
        await vi.waitFor(() => expect(seen).toEqual(['global']), { timeout: 2000, interval: 10 });
        expect((await store.kills.list()).has('global')).toBe(true);
        off();
        offBad();
      });
    });

    describe('runs', () => {
      it('create inserts if absent and otherwise returns the stored run', async () => {
        const a = run('r1', { parentId: 'p0', ancestors: ['p0', 'root'], depth: 2 });
        expect(await store.runs.create(a)).toEqual({ created: true, run: a });
        const again = await store.runs.create(run('r1', { agent: 'someone-else', startedAt: T0 + 5 }));
        expect(again).toEqual({ created: false, run: a });
        expect(await store.runs.get('r1')).toEqual(a);
        expect(await store.runs.get('missing')).toBeUndefined();
      });

      it('returned records are copies', async () => {
        await store.runs.create(run('r1'));
        const got = (await store.runs.get('r1')) as RunRecord;
        got.status = 'completed';
        got.ancestors.push('x');
        expect(await store.runs.get('r1')).toEqual(run('r1'));
      });

      it('end changes only a running run; the first stop wins', async () => {
        await store.runs.create(run('r1'));
        const ended = await store.runs.end('r1', 'stopped', T0 + 100, 'limit.steps', 'maxSteps 20 reached');
        expect(ended).toEqual({ ...run('r1'), status: 'stopped', endedAt: T0 + 100, stopCode: 'limit.steps', stopReason: 'maxSteps 20 reached' });
        expect(await store.runs.end('r1', 'completed', T0 + 200)).toEqual(ended);
        expect(await store.runs.end('r1', 'stopped', T0 + 300, 'kill.switch', 'later')).toEqual(ended);
        expect(await store.runs.get('r1')).toEqual(ended);
        expect(await store.runs.end('missing', 'completed', T0)).toBeUndefined();
        await store.runs.create(run('r2'));
        expect(await store.runs.end('r2', 'completed', T0 + 50)).toEqual({ ...run('r2'), status: 'completed', endedAt: T0 + 50 });
      });

      it('concurrent ends: exactly one wins', async () => {
        await store.runs.create(run('r1'));
        const codes: StopCode[] = ['limit.steps', 'kill.switch', 'limit.cost', 'limit.duration'];
        const results = await Promise.all(codes.map((c, i) => store.runs.end('r1', 'stopped', T0 + i, c)));
        const winner = results[0];
        for (const r of results) expect(r).toEqual(winner);
        expect(await store.runs.get('r1')).toEqual(winner);
      });

      it('list filters by agent, tenant and status, newest first, with a limit', async () => {
        await store.runs.create(run('a1', { agent: 'a', tenant: 't1', startedAt: T0 + 1 }));
        await store.runs.create(run('a2', { agent: 'a', tenant: 't2', startedAt: T0 + 3 }));
        await store.runs.create(run('b1', { agent: 'b', tenant: 't1', startedAt: T0 + 2 }));
        await store.runs.create(run('b2', { agent: 'b', tenant: 't1', startedAt: T0 + 2 }));
        await store.runs.end('a2', 'completed', T0 + 10);
        const ids = async (f?: Parameters<Store['runs']['list']>[0]) => (await store.runs.list(f)).map((r) => r.id);
        expect(await ids()).toEqual(['a2', 'b2', 'b1', 'a1']);
        expect(await ids({})).toEqual(['a2', 'b2', 'b1', 'a1']);
        expect(await ids({ agent: 'a' })).toEqual(['a2', 'a1']);
        expect(await ids({ tenant: 't1' })).toEqual(['b2', 'b1', 'a1']);
        expect(await ids({ status: 'running' })).toEqual(['b2', 'b1', 'a1']);
        expect(await ids({ status: 'completed' })).toEqual(['a2']);
        expect(await ids({ agent: 'b', tenant: 't1', status: 'running', limit: 1 })).toEqual(['b2']);
        expect(await ids({ limit: 2 })).toEqual(['a2', 'b2']);
        expect(await ids({ limit: 0 })).toEqual([]);
        expect(await ids({ agent: 'nobody' })).toEqual([]);
        expect((await store.runs.list({ status: 'completed' }))[0]).toEqual({
          ...run('a2', { agent: 'a', tenant: 't2', startedAt: T0 + 3 }),
          status: 'completed',
          endedAt: T0 + 10,
        });
      });
    });

    it('has a kind and closes cleanly', async () => {
      expect(typeof store.kind).toBe('string');
      expect(store.kind.length).toBeGreaterThan(0);
    });
  });
}
