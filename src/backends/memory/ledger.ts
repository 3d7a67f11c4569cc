import type { Balance, LedgerStore, ReserveRequest, ReserveResult, SettledLine, SettleRequest, SettleResult } from '../../store/store.ts';
import { ExpiryHeap } from './expiry-heap.ts';
import { checkActual, checkCharges, checkDelta, fits, OK, pendingBefore, refusalOf, SETTLE_UNKNOWN } from '../rules.ts';

interface Account {
  used: number;
  reserved: number;
}

interface Line {
  key: string;
  dim: string;
  amount: number;
  limit: number | undefined;
  account: Account;
}

const ACTIVE = 0;
/** Hold released by the sweep; kept (for the retention period) so a late settle still records usage. */
const EXPIRED = 1;
const DONE = 2;

interface Reservation {
  id: string;
  expiresAt: number;
  lines: Line[];
  state: number;
}

// Settled/released reservations stay in the heap until due; rebuild once they dominate it.
const COMPACT_MIN = 1024;

/**
 * In-memory ledger. Every method does its work synchronously inside one call, so each is atomic
 * with respect to every other (JS runs one at a time).
 *
 * - A duplicate reservation id (still active, or expired and remembered) is a caller bug: TypeError.
 * - Settling an expired reservation still adds the actual usage and returns ok with lines; the
 *   'expired' reason is never returned. After the retention period the id is forgotten ('unknown').
 */
export class MemoryLedger implements LedgerStore {
  private readonly accounts = new Map<string, Map<string, Account>>();
  private readonly reservations = new Map<string, Reservation>();
  private readonly heap = new ExpiryHeap<Reservation>();
  private deadInHeap = 0;
  /** Expired reservations in (roughly) expiry order, for purging after the retention period. */
  private expired: Reservation[] = [];
  private expiredHead = 0;
  private readonly repeats = new Map<string, { fingerprint: string; count: number }>();

  constructor(private readonly retentionMs: number) {}

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const { id, charges, now } = req;
    checkCharges(charges);
    this.sweep(now);
    if (this.reservations.has(id)) throw new TypeError(`reservation id already in use: ${id}`);
    const lines = new Array<Line>(charges.length);
    for (let i = 0; i < charges.length; i++) {
      const c = charges[i];
      const account = this.account(c.key, c.dim);
      if (c.limit !== undefined) {
        const need = c.amount + pendingBefore(charges, i);
        if (!fits(c.limit, account.used, account.reserved, need)) {
          return { ok: false, refusal: refusalOf(c, account.used, account.reserved, need) };
        }
      }
      lines[i] = { key: c.key, dim: c.dim, amount: c.amount, limit: c.limit, account };
    }
    for (let i = 0; i < lines.length; i++) lines[i].account.reserved += lines[i].amount;
    const reservation: Reservation = { id, expiresAt: req.expiresAt, lines, state: ACTIVE };
    this.reservations.set(id, reservation);
    this.heap.push(reservation);
    return OK;
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    const r = this.reservations.get(req.id);
    if (r === undefined) return SETTLE_UNKNOWN;
    const { lines } = r;
    checkActual(req.actual, lines.length);
    const holding = r.state === ACTIVE;
    const out = new Array<SettledLine>(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const account = line.account;
      if (holding) account.reserved -= line.amount;
      const before = account.used;
      account.used = before + req.actual[i];
      const settled: SettledLine = { key: line.key, dim: line.dim, before, after: account.used };
      if (line.limit !== undefined) settled.limit = line.limit;
      out[i] = settled;
    }
    this.finish(r);
    return { ok: true, lines: out };
  }

  async release(id: string): Promise<void> {
    const r = this.reservations.get(id);
    if (r === undefined) return;
    if (r.state === ACTIVE) {
      for (const line of r.lines) line.account.reserved -= line.amount;
    }
    this.finish(r);
  }

  async balances(lines: Array<{ key: string; dim: string }>, now: number): Promise<Balance[]> {
    this.sweep(now);
    const out = new Array<Balance>(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const a = this.accounts.get(lines[i].key)?.get(lines[i].dim);
      out[i] = a ? { used: a.used, reserved: a.reserved } : { used: 0, reserved: 0 };
    }
    return out;
  }

  async adjust(key: string, dim: string, delta: number): Promise<{ before: number; after: number }> {
    checkDelta(delta);
    const account = this.account(key, dim);
    const before = account.used;
    account.used = Math.max(0, before + delta);
    return { before, after: account.used };
  }

  async trackRepeat(key: string, fingerprint: string): Promise<number> {
    const last = this.repeats.get(key);
    if (last === undefined) {
      this.repeats.set(key, { fingerprint, count: 1 });
      return 1;
    }
    if (last.fingerprint === fingerprint) return ++last.count;
    last.fingerprint = fingerprint;
    last.count = 1;
    return 1;
  }

  /** Retention: forget account `key` (every dimension) and the repeat trackers under `key:`; returns what was used per dimension. */
  dropAccount(key: string): Map<string, number> {
    const used = new Map<string, number>();
    const byDim = this.accounts.get(key);
    if (byDim) for (const [dim, account] of byDim) used.set(dim, account.used);
    this.accounts.delete(key);
    const prefix = `${key}:`;
    for (const k of this.repeats.keys()) if (k.startsWith(prefix)) this.repeats.delete(k);
    return used;
  }

  /** Used amount of one account dimension (0 when absent). */
  usedOf(key: string, dim: string): number {
    return this.accounts.get(key)?.get(dim)?.used ?? 0;
  }

  private account(key: string, dim: string): Account {
    let byDim = this.accounts.get(key);
    if (byDim === undefined) {
      byDim = new Map();
      this.accounts.set(key, byDim);
    }
    let account = byDim.get(dim);
    if (account === undefined) {
      account = { used: 0, reserved: 0 };
      byDim.set(dim, account);
    }
    return account;
  }

  /** Forget a settled or released reservation. */
  private finish(r: Reservation): void {
    if (r.state === ACTIVE) this.deadInHeap++;
    r.state = DONE;
    this.reservations.delete(r.id);
    if (this.deadInHeap > COMPACT_MIN && this.deadInHeap * 2 > this.heap.size) {
      this.heap.retain((x) => x.state === ACTIVE);
      this.deadInHeap = 0;
    }
  }

  /** Release the holds of every reservation due by `now`, then forget those expired long ago. */
  private sweep(now: number): void {
    const heap = this.heap;
    let top = heap.peek();
    while (top !== undefined && top.expiresAt <= now) {
      heap.pop();
      if (top.state === ACTIVE) {
        for (const line of top.lines) line.account.reserved -= line.amount;
        top.state = EXPIRED;
        this.expired.push(top);
      } else {
        this.deadInHeap--;
      }
      top = heap.peek();
    }
    const cutoff = now - this.retentionMs;
    const expired = this.expired;
    while (this.expiredHead < expired.length && expired[this.expiredHead].expiresAt <= cutoff) {
      const r = expired[this.expiredHead++];
      if (r.state === EXPIRED) {
        r.state = DONE;
        this.reservations.delete(r.id);
      }
    }
    if (this.expiredHead > COMPACT_MIN && this.expiredHead * 2 > expired.length) {
      this.expired = expired.slice(this.expiredHead);
      this.expiredHead = 0;
    }
  }
}
