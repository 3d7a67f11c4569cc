import type {
  Balance,
  BucketSpec,
  Charge,
  LedgerStore,
  ReserveRequest,
  ReserveResult,
  SettledLine,
  SettleRequest,
  SettleResult,
  Store,
  TakeAndReserveResult,
} from '../store/store.ts';

/** The parts of a store a call's ledger work needs. */
export type LedgerPorts = Pick<Store, 'ledger' | 'rates' | 'compound'>;

const TAKEN = Object.freeze({ ok: true as const });

/**
 * Take the rate tokens and reserve, as one store operation when the store has it (SQLite: one
 * transaction; Redis: one script), else as its parts: take, reserve, and give the tokens back if the
 * reservation is refused.
 */
export async function takeAndReserve(store: LedgerPorts, buckets: BucketSpec[], req: ReserveRequest): Promise<TakeAndReserveResult> {
  if (buckets.length === 0) return { rate: TAKEN, reserve: await store.ledger.reserve(req) };
  if (store.compound) return store.compound.takeAndReserve(buckets, req);
  const rate = await store.rates.take(buckets, req.now);
  if (!rate.ok) return { rate };
  const reserve = await store.ledger.reserve(req);
  if (!reserve.ok) await store.rates.credit(buckets, req.now);
  return { rate, reserve };
}

/** Settle, then give unused rate tokens back: one store operation when the store has it. */
export async function settleAndCredit(store: LedgerPorts, req: SettleRequest, credit: BucketSpec[]): Promise<SettleResult> {
  if (credit.length === 0) return store.ledger.settle(req);
  if (store.compound) return store.compound.settleAndCredit(req, credit);
  const settled = await store.ledger.settle(req);
  await store.rates.credit(credit, req.now);
  return settled;
}

/** The same, for a run's ledger (a SplitLedger keeps the run's own lines in the process). */
export function reserveFor(store: LedgerPorts, ledger: LedgerStore, buckets: BucketSpec[], req: ReserveRequest): Promise<TakeAndReserveResult> {
  return releasedOnFailure(ledger, req.id, () => (ledger instanceof SplitLedger ? ledger.takeAndReserve(buckets, req) : takeAndReserve(store, buckets, req)));
}

/**
 * A reservation whose store call failed may still have been made (a Redis script that timed out on the
 * client can have run on the server): release it, best effort, so that it does not hold budget, steps and
 * concurrency until its lease expires. Releasing an id that was never reserved changes nothing.
 */
export async function releasedOnFailure<T>(ledger: LedgerStore, id: string, reserve: () => Promise<T>): Promise<T> {
  try {
    return await reserve();
  } catch (error) {
    await ledger.release(id).catch(() => {});
    throw error;
  }
}

export function settleFor(store: LedgerPorts, ledger: LedgerStore, req: SettleRequest, credit: BucketSpec[]): Promise<SettleResult> {
  return ledger instanceof SplitLedger ? ledger.settleAndCredit(req, credit) : settleAndCredit(store, req, credit);
}

const LOCAL = 'local' as const;

/**
 * The ledger of a run of its own (one gateway request or one stateless MCP call, no `x-fmguard-run`):
 * the run's own account (`run:<id>`, and its repeat trackers `run:<id>:…`) lives in a ledger of this
 * process only, because nothing else can ever charge it; every other account (ancestor runs, tenant,
 * agent and key budgets) is the shared store's, so budgets stay exact across calls and replicas.
 *
 * A reservation is all or nothing over both: the local lines first (they are the run's, which come
 * first in every charge list, so the first line that does not fit is still the one named), then the
 * shared ones; a shared refusal releases the local hold. A request that touches only shared accounts
 * goes to the store unchanged (one trip, as before).
 */
export class SplitLedger implements LedgerStore {
  private readonly account: string;
  private readonly prefix: string;
  /**
   * Reservations held here: split ones map each charge to its index in the local part (>= 0) or in
   * the shared part (-1 - index); `LOCAL` marks one held by the local ledger alone.
   */
  private readonly splits = new Map<string, Int32Array | typeof LOCAL>();

  private readonly shared: LedgerStore;

  constructor(
    private readonly store: LedgerPorts,
    private readonly local: LedgerStore,
    runId: string,
  ) {
    this.shared = store.ledger;
    this.account = `run:${runId}`;
    this.prefix = `${this.account}:`;
  }

  private isLocal(key: string): boolean {
    return key === this.account || key.startsWith(this.prefix);
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const { charges } = req;
    let locals = 0;
    for (let i = 0; i < charges.length; i++) if (this.isLocal(charges[i]!.key)) locals++;
    if (locals === 0) return this.shared.reserve(req);
    if (locals === charges.length) {
      const held = await this.local.reserve(req);
      if (held.ok) this.splits.set(req.id, LOCAL);
      return held;
    }
    const { map, mine, theirs } = this.split(charges);
    const held = await this.local.reserve({ id: req.id, charges: mine, expiresAt: req.expiresAt, now: req.now });
    if (!held.ok) return held;
    let result: ReserveResult;
    try {
      result = await this.shared.reserve({ id: req.id, charges: theirs, expiresAt: req.expiresAt, now: req.now });
    } catch (error) {
      await this.local.release(req.id);
      throw error;
    }
    if (!result.ok) {
      await this.local.release(req.id);
      return result;
    }
    this.splits.set(req.id, map);
    return result;
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    const map = this.splits.get(req.id);
    if (map === undefined) return this.shared.settle(req);
    this.splits.delete(req.id);
    if (map === LOCAL) return this.local.settle(req);
    const { mine, theirs } = this.splitActual(map, req.actual);
    // The shared ledger first: the spend that other calls and replicas see is what must not be lost.
    const shared = await this.shared.settle({ id: req.id, actual: theirs, now: req.now });
    const local = await this.local.settle({ id: req.id, actual: mine, now: req.now });
    return this.merge(map, shared, local);
  }

  async release(id: string): Promise<void> {
    const held = this.splits.get(id);
    this.splits.delete(id);
    if (held !== undefined) await this.local.release(id);
    if (held !== LOCAL) await this.shared.release(id);
  }

  async balances(lines: Array<{ key: string; dim: string }>, now: number): Promise<Balance[]> {
    let locals = 0;
    for (const line of lines) if (this.isLocal(line.key)) locals++;
    if (locals === 0) return this.shared.balances(lines, now);
    if (locals === lines.length) return this.local.balances(lines, now);
    const mine = lines.filter((l) => this.isLocal(l.key));
    const theirs = lines.filter((l) => !this.isLocal(l.key));
    const [a, b] = await Promise.all([this.local.balances(mine, now), this.shared.balances(theirs, now)]);
    let i = 0;
    let j = 0;
    return lines.map((l) => (this.isLocal(l.key) ? a[i++]! : b[j++]!));
  }

  /**
   * Rate tokens and the reservation. Only the run's own lines: take, then hold them here (tokens
   * back on a refusal), as before. Split: the run's lines are held here first (a refusal there is
   * final whatever the rate), then the tokens and the shared lines in one store operation.
   */
  async takeAndReserve(buckets: BucketSpec[], req: ReserveRequest): Promise<TakeAndReserveResult> {
    let locals = 0;
    for (const c of req.charges) if (this.isLocal(c.key)) locals++;
    if (locals === 0) return takeAndReserve(this.store, buckets, req);
    if (locals === req.charges.length) {
      if (buckets.length > 0) {
        const rate = await this.store.rates.take(buckets, req.now);
        if (!rate.ok) return { rate };
      }
      const reserve = await this.reserve(req);
      if (!reserve.ok && buckets.length > 0) await this.store.rates.credit(buckets, req.now);
      return { rate: TAKEN, reserve };
    }
    const { map, mine, theirs } = this.split(req.charges);
    const held = await this.local.reserve({ id: req.id, charges: mine, expiresAt: req.expiresAt, now: req.now });
    if (!held.ok) return { rate: TAKEN, reserve: held };
    let result: TakeAndReserveResult;
    try {
      result = await takeAndReserve(this.store, buckets, { id: req.id, charges: theirs, expiresAt: req.expiresAt, now: req.now });
    } catch (error) {
      await this.local.release(req.id);
      throw error;
    }
    if (!result.rate.ok || !result.reserve?.ok) await this.local.release(req.id);
    else this.splits.set(req.id, map);
    return result;
  }

  /** Settle and give unused rate tokens back (with the shared lines, in one store operation). */
  async settleAndCredit(req: SettleRequest, credit: BucketSpec[]): Promise<SettleResult> {
    const map = this.splits.get(req.id);
    if (map === undefined) return settleAndCredit(this.store, req, credit);
    if (map === LOCAL) {
      const settled = await this.settle(req);
      if (credit.length > 0) await this.store.rates.credit(credit, req.now);
      return settled;
    }
    this.splits.delete(req.id);
    const { mine, theirs } = this.splitActual(map, req.actual);
    const shared = await settleAndCredit(this.store, { id: req.id, actual: theirs, now: req.now }, credit);
    const local = await this.local.settle({ id: req.id, actual: mine, now: req.now });
    return this.merge(map, shared, local);
  }

  private split(charges: readonly Charge[]): { map: Int32Array; mine: Charge[]; theirs: Charge[] } {
    const map = new Int32Array(charges.length);
    const mine: Charge[] = [];
    const theirs: Charge[] = [];
    for (let i = 0; i < charges.length; i++) {
      const c = charges[i]!;
      if (this.isLocal(c.key)) {
        map[i] = mine.length;
        mine.push(c);
      } else {
        map[i] = -1 - theirs.length;
        theirs.push(c);
      }
    }
    return { map, mine, theirs };
  }

  private splitActual(map: Int32Array, actual: readonly number[]): { mine: number[]; theirs: number[] } {
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < map.length; i++) (map[i]! >= 0 ? mine : theirs).push(actual[i]!);
    return { mine, theirs };
  }

  private merge(map: Int32Array, shared: SettleResult, local: SettleResult): SettleResult {
    if (!shared.ok) return shared;
    if (!local.ok) return local;
    const lines = new Array<SettledLine>(map.length);
    for (let i = 0; i < map.length; i++) {
      const at = map[i]!;
      lines[i] = at >= 0 ? local.lines[at]! : shared.lines[-1 - at]!;
    }
    return { ok: true, lines };
  }

  adjust(key: string, dim: string, delta: number): Promise<{ before: number; after: number }> {
    return this.isLocal(key) ? this.local.adjust(key, dim, delta) : this.shared.adjust(key, dim, delta);
  }

  trackRepeat(key: string, fingerprint: string): Promise<number> {
    return this.isLocal(key) ? this.local.trackRepeat(key, fingerprint) : this.shared.trackRepeat(key, fingerprint);
  }
}
