/**
 * The ledger of a run of its own (runtime/local-ledger.ts `SplitLedger`): the run's own account
 * (`run:<id>` and its trackers `run:<id>:…`) is held in a ledger of this process, every other account in
 * the shared store. A reservation is all or nothing over both, settles on both in the caller's order,
 * and a request that touches one side only goes to that side alone, in one trip. Each store trip is
 * recorded, so a test sees which side was asked and in what order.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { MemoryLedger } from '../../src/backends/memory/ledger.ts';
import { type LedgerPorts, reserveFor, SplitLedger, settleAndCredit, settleFor, takeAndReserve } from '../../src/runtime/local-ledger.ts';
import type { BucketSpec, Charge, CompoundOps, LedgerStore } from '../../src/store/store.ts';

const NOW = 1_000_000;
const LEASE = NOW + 60_000;

/** An object whose method calls are logged as `<name>.<method>` before they run. */
function recorded<T extends object>(name: string, target: T, calls: string[]): T {
  return new Proxy(target, {
    get(t, p) {
      const v = Reflect.get(t, p);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(`${name}.${String(p)}`);
        return v.apply(t, args);
      };
    },
  });
}

/**
 * A memory store's ledger and rates, the run's own local ledger, all recorded; with `compound`, the
 * store also offers the compound operations (made of its unrecorded parts, as their contract says).
 */
function setup(options: { compound?: boolean; sharedRetentionMs?: number; localRetentionMs?: number } = {}) {
  const calls: string[] = [];
  const base = createMemoryStore({ expiredRetentionMs: options.sharedRetentionMs ?? 3_600_000 });
  const parts: LedgerPorts = { ledger: base.ledger, rates: base.rates };
  const compound: CompoundOps = {
    takeAndReserve: (buckets, req) => takeAndReserve(parts, buckets, req),
    settleAndCredit: (req, credit) => settleAndCredit(parts, req, credit),
  };
  const ports: LedgerPorts = {
    ledger: recorded('shared', base.ledger, calls),
    rates: recorded('rates', base.rates, calls),
    compound: options.compound ? recorded('compound', compound, calls) : undefined,
  };
  const localLedger = new MemoryLedger(options.localRetentionMs ?? 3_600_000);
  const local = recorded('local', localLedger, calls);
  const split = new SplitLedger(ports, local, 'r1');
  /** Reserved amounts of `lines` on each side, read without recording. */
  const held = async (lines: Charge[]) => ({
    local: (await localLedger.balances(lines, NOW)).map((b) => b.reserved),
    shared: (await base.ledger.balances(lines, NOW)).map((b) => b.reserved),
  });
  const taken = () => calls.splice(0);
  return { calls, base, ports, localLedger, split, held, taken };
}

// The run's own lines (local) and others' (shared). `run:r10` is another run, not a tracker of r1.
const own: Charge = { key: 'run:r1', dim: 'total_tokens', amount: 40, limit: 100, code: 'limit.tokens' };
const tracker: Charge = { key: 'run:r1:repeat', dim: 'call:fp', amount: 1, limit: 2, code: 'loop.repeated_tool_call' };
const parent: Charge = { key: 'run:p', dim: 'total_tokens', amount: 40, limit: 500, code: 'limit.tokens' };
const budget: Charge = { key: 'budget:tenant:acme:day:w', dim: 'cost', amount: 700, limit: 1000, code: 'budget.exhausted' };
const other: Charge = { key: 'run:r10', dim: 'steps', amount: 3, limit: 5, code: 'limit.steps' };
const bucket: BucketSpec = { key: 'rate:agent:bot', capacity: 1, windowMs: 60_000, amount: 1, scope: 'agent' };

const req = (id: string, charges: Charge[]) => ({ id, charges, expiresAt: LEASE, now: NOW });

describe('SplitLedger: a reservation over both sides', () => {
  it("holds the run's lines here and the others in the store, and settles both in the caller's order", async () => {
    const { split, held, taken } = setup();
    const charges = [own, parent, tracker, budget, other];
    expect(await split.reserve(req('c1', charges))).toEqual({ ok: true });
    expect(taken()).toEqual(['local.reserve', 'shared.reserve']);
    expect(await held(charges)).toEqual({ local: [40, 0, 1, 0, 0], shared: [0, 40, 0, 700, 3] });
    // Balances read from each side, answered in the order asked.
    expect(await split.balances(charges, NOW)).toEqual([
      { used: 0, reserved: 40 },
      { used: 0, reserved: 40 },
      { used: 0, reserved: 1 },
      { used: 0, reserved: 700 },
      { used: 0, reserved: 3 },
    ]);
    expect(taken().sort()).toEqual(['local.balances', 'shared.balances']);

    const settled = await split.settle({ id: 'c1', actual: [30, 31, 1, 650, 2], now: NOW });
    // The shared side first: the spend others see is the one that must not be lost.
    expect(taken()).toEqual(['shared.settle', 'local.settle']);
    expect(settled).toEqual({
      ok: true,
      lines: [
        { key: 'run:r1', dim: 'total_tokens', before: 0, after: 30, limit: 100 },
        { key: 'run:p', dim: 'total_tokens', before: 0, after: 31, limit: 500 },
        { key: 'run:r1:repeat', dim: 'call:fp', before: 0, after: 1, limit: 2 },
        { key: 'budget:tenant:acme:day:w', dim: 'cost', before: 0, after: 650, limit: 1000 },
        { key: 'run:r10', dim: 'steps', before: 0, after: 2, limit: 5 },
      ],
    });
    expect(await split.balances([other, tracker, budget, own, parent], NOW)).toEqual([
      { used: 2, reserved: 0 },
      { used: 1, reserved: 0 },
      { used: 650, reserved: 0 },
      { used: 30, reserved: 0 },
      { used: 31, reserved: 0 },
    ]);
    expect(await held(charges)).toEqual({ local: [0, 0, 0, 0, 0], shared: [0, 0, 0, 0, 0] });
    // Settled once: the id is forgotten on both sides.
    expect(await split.settle({ id: 'c1', actual: [1, 1, 1, 1, 1], now: NOW })).toEqual({ ok: false, reason: 'unknown' });
  });

  it('a shared refusal releases the local hold and is the answer', async () => {
    const { split, held, taken } = setup();
    const charges = [own, { ...budget, amount: 1001 }];
    expect(await split.reserve(req('c1', charges))).toEqual({
      ok: false,
      refusal: { key: budget.key, dim: 'cost', code: 'budget.exhausted', limit: 1000, used: 0, reserved: 0, requested: 1001 },
    });
    expect(taken()).toEqual(['local.reserve', 'shared.reserve', 'local.release']);
    expect(await held(charges)).toEqual({ local: [0, 0], shared: [0, 0] });
  });

  it("a refusal on the run's own line is final: the store is not asked", async () => {
    const { split, held, taken } = setup();
    const charges = [{ ...own, amount: 101 }, budget];
    expect(await split.reserve(req('c1', charges))).toEqual({
      ok: false,
      refusal: { key: 'run:r1', dim: 'total_tokens', code: 'limit.tokens', limit: 100, used: 0, reserved: 0, requested: 101 },
    });
    expect(taken()).toEqual(['local.reserve']);
    expect(await held(charges)).toEqual({ local: [0, 0], shared: [0, 0] });
  });

  it('a shared reservation that fails releases the local hold and rethrows', async () => {
    const { split, held, base, taken } = setup();
    base.ledger.reserve = async () => {
      throw new Error('Command timed out');
    };
    await expect(split.reserve(req('c1', [own, budget]))).rejects.toThrow('Command timed out');
    expect(taken()).toEqual(['local.reserve', 'shared.reserve', 'local.release']);
    expect(await held([own, budget])).toEqual({ local: [0, 0], shared: [0, 0] });
  });

  it('release drops both holds', async () => {
    const { split, held, taken } = setup();
    await split.reserve(req('c1', [parent, own]));
    taken();
    await split.release('c1');
    expect(taken()).toEqual(['local.release', 'shared.release']);
    expect(await held([parent, own])).toEqual({ local: [0, 0], shared: [0, 0] });
  });

  it('a settle the store no longer knows is answered as the store answers it', async () => {
    const { split, base, taken } = setup({ sharedRetentionMs: 0 });
    await split.reserve(req('c1', [own, budget]));
    await base.ledger.balances([], LEASE + 1); // the store's lease ran out and it forgot the id
    taken();
    expect(await split.settle({ id: 'c1', actual: [10, 100], now: LEASE + 1 })).toEqual({ ok: false, reason: 'unknown' });
    expect(taken()).toEqual(['shared.settle', 'local.settle']);
  });

  it('a settle the local ledger no longer knows is answered as it answers it', async () => {
    const { split, localLedger } = setup({ localRetentionMs: 0 });
    await split.reserve(req('c1', [own, budget]));
    await localLedger.balances([], LEASE + 1);
    expect(await split.settle({ id: 'c1', actual: [10, 100], now: LEASE + 1 })).toEqual({ ok: false, reason: 'unknown' });
  });
});

describe('SplitLedger: one side only', () => {
  it('only shared accounts: the store alone, the request unchanged', async () => {
    const { split, held, taken } = setup();
    const charges = [parent, budget, other];
    expect(await split.reserve(req('c1', charges))).toEqual({ ok: true });
    expect(taken()).toEqual(['shared.reserve']);
    expect(await held(charges)).toEqual({ local: [0, 0, 0], shared: [40, 700, 3] });
    expect(await split.balances(charges, NOW)).toEqual([
      { used: 0, reserved: 40 },
      { used: 0, reserved: 700 },
      { used: 0, reserved: 3 },
    ]);
    expect(taken()).toEqual(['shared.balances']);
    await split.release('c1');
    expect(taken()).toEqual(['shared.release']);
    expect(await held(charges)).toEqual({ local: [0, 0, 0], shared: [0, 0, 0] });

    await split.reserve(req('c2', charges));
    taken();
    const settled = await split.settle({ id: 'c2', actual: [5, 6, 7], now: NOW });
    expect(taken()).toEqual(['shared.settle']);
    expect(settled).toMatchObject({ ok: true, lines: [{ after: 5 }, { after: 6 }, { after: 7 }] });
  });

  it("only the run's own accounts: the local ledger alone", async () => {
    const { split, held, taken } = setup();
    const charges = [own, tracker];
    expect(await split.reserve(req('c1', charges))).toEqual({ ok: true });
    expect(taken()).toEqual(['local.reserve']);
    expect(await held(charges)).toEqual({ local: [40, 1], shared: [0, 0] });
    expect(await split.balances(charges, NOW)).toEqual([
      { used: 0, reserved: 40 },
      { used: 0, reserved: 1 },
    ]);
    expect(taken()).toEqual(['local.balances']);
    await split.release('c1');
    expect(taken()).toEqual(['local.release']);
    expect(await held(charges)).toEqual({ local: [0, 0], shared: [0, 0] });

    await split.reserve(req('c2', charges));
    taken();
    expect(await split.settle({ id: 'c2', actual: [33, 1], now: NOW })).toEqual({
      ok: true,
      lines: [
        { key: 'run:r1', dim: 'total_tokens', before: 0, after: 33, limit: 100 },
        { key: 'run:r1:repeat', dim: 'call:fp', before: 0, after: 1, limit: 2 },
      ],
    });
    expect(taken()).toEqual(['local.settle']);
  });

  it("a refused reservation of the run's own lines holds nothing: its id is not the run's afterwards", async () => {
    const { split, taken } = setup();
    expect(await split.reserve(req('c1', [{ ...own, amount: 101 }]))).toMatchObject({ ok: false, refusal: { key: 'run:r1' } });
    taken();
    await split.release('c1');
    expect(taken()).toEqual(['shared.release']);
  });

  it('adjust and trackRepeat go to the side that owns the account', async () => {
    const { split, taken, localLedger, base } = setup();
    expect(await split.adjust('run:r1', 'cost', 50)).toEqual({ before: 0, after: 50 });
    expect(await split.adjust('run:r10', 'cost', 7)).toEqual({ before: 0, after: 7 });
    expect(taken()).toEqual(['local.adjust', 'shared.adjust']);
    expect(localLedger.usedOf('run:r1', 'cost')).toBe(50);
    expect((await base.ledger.balances([{ key: 'run:r10', dim: 'cost' }], NOW))[0]!.used).toBe(7);
    expect(await split.trackRepeat('run:r1:out', 'a')).toBe(1);
    expect(await split.trackRepeat('run:r1:out', 'a')).toBe(2);
    expect(await split.trackRepeat('run:p:out', 'a')).toBe(1);
    expect(taken()).toEqual(['local.trackRepeat', 'local.trackRepeat', 'shared.trackRepeat']);
  });
});

describe('SplitLedger: rate tokens with the reservation', () => {
  it('only shared accounts: one compound store operation when the store has it, else take then reserve', async () => {
    const c = setup({ compound: true });
    expect(await c.split.takeAndReserve([bucket], req('c1', [budget]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(c.taken()).toEqual(['compound.takeAndReserve']);
    expect(await c.split.takeAndReserve([], req('c2', [budget]))).toEqual({
      rate: { ok: true },
      reserve: { ok: false, refusal: expect.objectContaining({ key: budget.key }) },
    });
    expect(c.taken()).toEqual(['shared.reserve']);
    // Settling: with tokens to give back, one compound operation; without, the settle alone.
    await c.split.settleAndCredit({ id: 'c1', actual: [600], now: NOW }, [bucket]);
    expect(c.taken()).toEqual(['compound.settleAndCredit']);

    const p = setup();
    expect(await p.split.takeAndReserve([bucket], req('c1', [budget]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(p.taken()).toEqual(['rates.take', 'shared.reserve']);
    // The bucket is empty now: refused by the rate, nothing reserved.
    expect(await p.split.takeAndReserve([bucket], req('c2', [parent]))).toMatchObject({ rate: { ok: false, key: bucket.key, scope: 'agent' } });
    expect(p.taken()).toEqual(['rates.take']);
    expect(await p.held([parent])).toEqual({ local: [0], shared: [0] });
    await p.split.settleAndCredit({ id: 'c1', actual: [600], now: NOW }, [bucket]);
    expect(p.taken()).toEqual(['shared.settle', 'rates.credit']);
  });

  it('a settle without tokens to give back is the settle alone, compound store or not', async () => {
    const c = setup({ compound: true });
    await c.split.reserve(req('c1', [budget]));
    c.taken();
    expect(await c.split.settleAndCredit({ id: 'c1', actual: [600], now: NOW }, [])).toMatchObject({ ok: true, lines: [{ after: 600 }] });
    expect(c.taken()).toEqual(['shared.settle']);
  });

  it("only the run's own accounts: take, hold here, and give the tokens back on a refusal", async () => {
    const { split, held, taken } = setup();
    expect(await split.takeAndReserve([bucket], req('c1', [own]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['rates.take', 'local.reserve']);
    expect(await held([own])).toEqual({ local: [40], shared: [0] });
    // The bucket is empty: refused by the rate before any hold.
    expect(await split.takeAndReserve([bucket], req('c2', [tracker]))).toMatchObject({ rate: { ok: false, key: bucket.key } });
    expect(taken()).toEqual(['rates.take']);
    expect(await held([tracker])).toEqual({ local: [0], shared: [0] });
    // Settled with the token given back: the next take succeeds.
    expect(await split.settleAndCredit({ id: 'c1', actual: [35], now: NOW }, [bucket])).toEqual({
      ok: true,
      lines: [{ key: 'run:r1', dim: 'total_tokens', before: 0, after: 35, limit: 100 }],
    });
    expect(taken()).toEqual(['local.settle', 'rates.credit']);
    // A refused hold gives its token back.
    expect(await split.takeAndReserve([bucket], req('c3', [{ ...own, amount: 66 }]))).toMatchObject({
      rate: { ok: true },
      reserve: { ok: false, refusal: { key: 'run:r1', requested: 66 } },
    });
    expect(taken()).toEqual(['rates.take', 'local.reserve', 'rates.credit']);
    // ...so the next call takes it (35 used + 40 fits the 100).
    expect(await split.takeAndReserve([bucket], req('c4', [own]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['rates.take', 'local.reserve']);
  });

  it("only the run's own accounts and no buckets: the local ledger alone, before and after", async () => {
    const { split, taken } = setup();
    expect(await split.takeAndReserve([], req('c1', [own]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['local.reserve']);
    expect(await split.takeAndReserve([], req('c2', [{ ...own, amount: 61 }]))).toMatchObject({ rate: { ok: true }, reserve: { ok: false } });
    expect(taken()).toEqual(['local.reserve']);
    expect(await split.settleAndCredit({ id: 'c1', actual: [20], now: NOW }, [])).toMatchObject({ ok: true, lines: [{ after: 20 }] });
    expect(taken()).toEqual(['local.settle']);
  });

  it('split: the run’s lines held first, then the tokens and the shared lines; settled and credited on both', async () => {
    const { split, held, taken } = setup();
    const charges = [own, budget, tracker, parent];
    expect(await split.takeAndReserve([bucket], req('c1', charges))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['local.reserve', 'rates.take', 'shared.reserve']);
    expect(await held(charges)).toEqual({ local: [40, 0, 1, 0], shared: [0, 700, 0, 40] });
    const settled = await split.settleAndCredit({ id: 'c1', actual: [12, 300, 1, 13], now: NOW }, [bucket]);
    expect(taken()).toEqual(['shared.settle', 'rates.credit', 'local.settle']);
    expect(settled).toEqual({
      ok: true,
      lines: [
        { key: 'run:r1', dim: 'total_tokens', before: 0, after: 12, limit: 100 },
        { key: 'budget:tenant:acme:day:w', dim: 'cost', before: 0, after: 300, limit: 1000 },
        { key: 'run:r1:repeat', dim: 'call:fp', before: 0, after: 1, limit: 2 },
        { key: 'run:p', dim: 'total_tokens', before: 0, after: 13, limit: 500 },
      ],
    });
    expect(await held(charges)).toEqual({ local: [0, 0, 0, 0], shared: [0, 0, 0, 0] });
  });

  it("split with a compound store: the run's lines, then one store operation each way", async () => {
    const { split, taken } = setup({ compound: true });
    expect(await split.takeAndReserve([bucket], req('c1', [own, budget]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['local.reserve', 'compound.takeAndReserve']);
    expect(await split.settleAndCredit({ id: 'c1', actual: [1, 2], now: NOW }, [bucket])).toMatchObject({ ok: true, lines: [{ after: 1 }, { after: 2 }] });
    expect(taken()).toEqual(['compound.settleAndCredit', 'local.settle']);
  });

  it("split: a refusal of the run's lines takes no token and asks nothing of the store", async () => {
    const { split, taken } = setup();
    expect(await split.takeAndReserve([bucket], req('c1', [{ ...own, amount: 101 }, budget]))).toEqual({
      rate: { ok: true },
      reserve: { ok: false, refusal: { key: 'run:r1', dim: 'total_tokens', code: 'limit.tokens', limit: 100, used: 0, reserved: 0, requested: 101 } },
    });
    expect(taken()).toEqual(['local.reserve']);
  });

  it('split: a rate refusal releases the local hold', async () => {
    const { split, held, taken } = setup();
    await split.takeAndReserve([bucket], req('c0', [budget]));
    taken();
    const r = await split.takeAndReserve([bucket], req('c1', [own, parent]));
    expect(r).toMatchObject({ rate: { ok: false, key: bucket.key } });
    expect(r.reserve).toBeUndefined();
    expect(taken()).toEqual(['local.reserve', 'rates.take', 'local.release']);
    expect(await held([own, parent])).toEqual({ local: [0, 0], shared: [0, 0] });
  });

  it('split: a shared refusal gives the tokens back and releases the local hold', async () => {
    const { split, held, taken } = setup();
    const r = await split.takeAndReserve([bucket], req('c1', [own, { ...budget, amount: 1001 }]));
    expect(r).toEqual({
      rate: { ok: true },
      reserve: { ok: false, refusal: { key: budget.key, dim: 'cost', code: 'budget.exhausted', limit: 1000, used: 0, reserved: 0, requested: 1001 } },
    });
    expect(taken()).toEqual(['local.reserve', 'rates.take', 'shared.reserve', 'rates.credit', 'local.release']);
    expect(await held([own, budget])).toEqual({ local: [0, 0], shared: [0, 0] });
    // Nothing is left under that id: a release goes to the store, which has nothing either.
    await split.release('c1');
    expect(taken()).toEqual(['shared.release']);
  });

  it('split: a store operation that fails releases the local hold and rethrows', async () => {
    const { split, held, base, taken } = setup();
    base.rates.take = async () => {
      throw new Error('connection reset');
    };
    await expect(split.takeAndReserve([bucket], req('c1', [own, budget]))).rejects.toThrow('connection reset');
    expect(taken()).toEqual(['local.reserve', 'rates.take', 'local.release']);
    expect(await held([own, budget])).toEqual({ local: [0, 0], shared: [0, 0] });
  });
});

describe('reserveFor and settleFor pick the run’s ledger', () => {
  it('a SplitLedger reserves and settles through itself; the store ledger through the store', async () => {
    const { split, ports, held, taken } = setup();
    expect(await reserveFor(ports, split, [bucket], req('c1', [own, budget]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['local.reserve', 'rates.take', 'shared.reserve']);
    expect(await settleFor(ports, split, { id: 'c1', actual: [1, 2], now: NOW }, [])).toMatchObject({ ok: true });
    expect(taken()).toEqual(['shared.settle', 'local.settle']);
    const storeLedger: LedgerStore = ports.ledger;
    expect(await reserveFor(ports, storeLedger, [], req('c2', [budget]))).toEqual({ rate: { ok: true }, reserve: { ok: true } });
    expect(taken()).toEqual(['shared.reserve']);
    expect(await settleFor(ports, storeLedger, { id: 'c2', actual: [3], now: NOW }, [])).toMatchObject({ ok: true, lines: [{ before: 2, after: 5 }] });
    expect(taken()).toEqual(['shared.settle']);
    expect(await held([own, budget])).toEqual({ local: [0, 0], shared: [0, 0] });
  });
});
