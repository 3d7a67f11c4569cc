import type { Database, Statement, Transaction } from 'better-sqlite3';
import type { Balance, LedgerStore, ReserveRequest, ReserveResult, SettledLine, SettleRequest, SettleResult } from '../../store/store.ts';
import { checkActual, checkCharges, checkDelta, fits, OK, pendingBefore, refusalOf, SETTLE_UNKNOWN } from '../rules.ts';

/** A reservation line as stored: [key, dim, amount, limit or null]. */
type StoredLine = [string, string, number, number | null];

interface ReservationRow {
  id: string;
  lines: string;
  expired: number;
}

interface BalanceRow {
  used: number;
  reserved: number;
}

// Purging long-expired rows is housekeeping; once a minute (of caller time) is plenty.
const PURGE_EVERY_MS = 60_000;

/**
 * Ledger in SQLite. Every write runs in one BEGIN IMMEDIATE transaction, so it is atomic against
 * other connections and processes sharing the file. Same semantics as the memory ledger:
 * duplicate ids throw TypeError; settling an expired (but remembered) reservation records the
 * usage and returns ok with lines.
 */
export class SqliteLedger implements LedgerStore {
  private readonly q: {
    dueExists: Statement<[number], number>;
    due: Statement<[number], ReservationRow>;
    markExpired: Statement<[string]>;
    purge: Statement<[number]>;
    getReservation: Statement<[string], ReservationRow>;
    insertReservation: Statement<[string, number, string]>;
    deleteReservation: Statement<[string]>;
    getBalance: Statement<[string, string], BalanceRow>;
    hold: Statement<[string, string, number]>;
    unhold: Statement<[number, string, string]>;
    settleLine: Statement<{ key: string; dim: string; actual: number; hold: number }, number>;
    repeat: Statement<[string, string], number>;
    adjust: Statement<{ key: string; dim: string; delta: number }, number>;
  };
  private lastPurge = -Infinity;
  /** @internal The transaction itself (nested in a compound one as a savepoint: index.ts). */
  readonly reserveTx: Transaction<(req: ReserveRequest) => ReserveResult>;
  /** @internal The transaction itself (nested in a compound one as a savepoint: index.ts). */
  readonly settleTx: Transaction<(req: SettleRequest) => SettleResult>;
  private readonly releaseTx;
  private readonly sweepTx;
  private readonly readTx;
  private readonly adjustTx;

  constructor(
    db: Database,
    private readonly retentionMs: number,
  ) {
    this.q = {
      dueExists: db.prepare<[number], number>('SELECT 1 FROM fm_reservations WHERE expired = 0 AND expires_at <= ? LIMIT 1').pluck(),
      due: db.prepare('SELECT id, lines, expired FROM fm_reservations WHERE expired = 0 AND expires_at <= ?'),
      markExpired: db.prepare('UPDATE fm_reservations SET expired = 1 WHERE id = ?'),
      purge: db.prepare('DELETE FROM fm_reservations WHERE expired = 1 AND expires_at <= ?'),
      getReservation: db.prepare('SELECT id, lines, expired FROM fm_reservations WHERE id = ?'),
      insertReservation: db.prepare('INSERT INTO fm_reservations (id, expires_at, lines) VALUES (?, ?, ?)'),
      deleteReservation: db.prepare('DELETE FROM fm_reservations WHERE id = ?'),
      getBalance: db.prepare('SELECT used, reserved FROM fm_ledger WHERE key = ? AND dim = ?'),
      hold: db.prepare(
        `INSERT INTO fm_ledger (key, dim, reserved) VALUES (?, ?, ?)
         ON CONFLICT (key, dim) DO UPDATE SET reserved = reserved + excluded.reserved`,
      ),
      // MAX(..., 0): a negative hold would loosen every limit on the account; never let it.
      unhold: db.prepare('UPDATE fm_ledger SET reserved = MAX(reserved - ?, 0) WHERE key = ? AND dim = ?'),
      settleLine: db
        .prepare<{ key: string; dim: string; actual: number; hold: number }, number>(
          `INSERT INTO fm_ledger (key, dim, used) VALUES (@key, @dim, @actual)
           ON CONFLICT (key, dim) DO UPDATE SET used = used + excluded.used, reserved = MAX(reserved - @hold, 0)
           RETURNING used`,
        )
        .pluck(),
      adjust: db
        .prepare<{ key: string; dim: string; delta: number }, number>(
          `INSERT INTO fm_ledger (key, dim, used) VALUES (@key, @dim, MAX(@delta, 0))
           ON CONFLICT (key, dim) DO UPDATE SET used = MAX(used + @delta, 0)
           RETURNING used`,
        )
        .pluck(),
      // In SET, `fingerprint` and `count` on the right are the old row's values.
      repeat: db
        .prepare<[string, string], number>(
          `INSERT INTO fm_repeats (key, fingerprint, count) VALUES (?, ?, 1)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN fingerprint = excluded.fingerprint THEN count + 1 ELSE 1 END,
             fingerprint = excluded.fingerprint
           RETURNING count`,
        )
        .pluck(),
    };

    this.sweepTx = db.transaction((now: number) => this.sweep(now));

    this.reserveTx = db.transaction((req: ReserveRequest): ReserveResult => {
      const { id, charges } = req;
      this.sweep(req.now);
      if (this.q.getReservation.get(id) !== undefined) throw new TypeError(`reservation id already in use: ${id}`);
      for (let i = 0; i < charges.length; i++) {
        const c = charges[i];
        if (c.limit === undefined) continue;
        const bal = this.q.getBalance.get(c.key, c.dim);
        const used = bal?.used ?? 0;
        const reserved = bal?.reserved ?? 0;
        const need = c.amount + pendingBefore(charges, i);
        if (!fits(c.limit, used, reserved, need)) return { ok: false, refusal: refusalOf(c, used, reserved, need) };
      }
      const lines = new Array<StoredLine>(charges.length);
      for (let i = 0; i < charges.length; i++) {
        const c = charges[i];
        this.q.hold.run(c.key, c.dim, c.amount);
        lines[i] = [c.key, c.dim, c.amount, c.limit ?? null];
      }
      this.q.insertReservation.run(id, req.expiresAt, JSON.stringify(lines));
      return OK;
    });

    this.settleTx = db.transaction((req: SettleRequest): SettleResult => {
      const row = this.q.getReservation.get(req.id);
      if (row === undefined) return SETTLE_UNKNOWN;
      const lines = JSON.parse(row.lines) as StoredLine[];
      checkActual(req.actual, lines.length);
      const holding = row.expired === 0;
      const out = new Array<SettledLine>(lines.length);
      for (let i = 0; i < lines.length; i++) {
        const [key, dim, amount, limit] = lines[i];
        const actual = req.actual[i];
        const after = this.q.settleLine.get({ key, dim, actual, hold: holding ? amount : 0 }) as number;
        const settled: SettledLine = { key, dim, before: after - actual, after };
        if (limit !== null) settled.limit = limit;
        out[i] = settled;
      }
      this.q.deleteReservation.run(req.id);
      return { ok: true, lines: out };
    });

    this.releaseTx = db.transaction((id: string) => {
      const row = this.q.getReservation.get(id);
      if (row === undefined) return;
      if (row.expired === 0) this.unhold(row);
      this.q.deleteReservation.run(id);
    });

    this.adjustTx = db.transaction((key: string, dim: string, delta: number) => {
      const before = this.q.getBalance.get(key, dim)?.used ?? 0;
      return { before, after: this.q.adjust.get({ key, dim, delta }) as number };
    });
    this.readTx = db.transaction((lines: Array<{ key: string; dim: string }>): Balance[] =>
      lines.map(({ key, dim }) => {
        const bal = this.q.getBalance.get(key, dim);
        return bal ? { used: bal.used, reserved: bal.reserved } : { used: 0, reserved: 0 };
      }),
    );
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    checkCharges(req.charges);
    return this.reserveTx.immediate(req);
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    return this.settleTx.immediate(req);
  }

  async release(id: string): Promise<void> {
    this.releaseTx.immediate(id);
  }

  async balances(lines: Array<{ key: string; dim: string }>, now: number): Promise<Balance[]> {
    // Take the write lock only when something is actually due.
    if (this.q.dueExists.get(now) !== undefined) this.sweepTx.immediate(now);
    return this.readTx.deferred(lines);
  }

  async adjust(key: string, dim: string, delta: number): Promise<{ before: number; after: number }> {
    checkDelta(delta);
    return this.adjustTx.immediate(key, dim, delta);
  }

  async trackRepeat(key: string, fingerprint: string): Promise<number> {
    return this.q.repeat.get(key, fingerprint) as number;
  }

  private unhold(row: ReservationRow): void {
    for (const [key, dim, amount] of JSON.parse(row.lines) as StoredLine[]) this.q.unhold.run(amount, key, dim);
  }

  /** Inside a write transaction: release due holds, and now and then forget long-expired rows. */
  private sweep(now: number): void {
    for (const row of this.q.due.all(now)) {
      this.unhold(row);
      this.q.markExpired.run(row.id);
    }
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      this.q.purge.run(now - this.retentionMs);
    }
  }
}
