import { checkCharges, EXPIRED_RETENTION_MS } from '../rules.ts';
import type { BucketSpec, CompoundOps, ReserveRequest, SettleRequest, SettleResult, Store, TakeAndReserveResult } from '../../store/store.ts';
import { SqliteApiKeys } from './api-keys.ts';
import { createSqliteApprovalStore } from './approvals.ts';
import { createSqliteAuditSink } from './audit.ts';
import { openDatabase, type Database } from './database.ts';
import { createSqliteMetricStore } from './metrics.ts';
import { createSqliteAlarmStore, createSqliteBreakerStore } from './versioned.ts';
import { SqliteKills } from './kills.ts';
import { SqliteLedger } from './ledger.ts';
import { SqliteRates } from './rates.ts';
import { SqliteRuns } from './runs.ts';
import { migrate } from './schema.ts';

export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` works for one connection. */
  path: string;
  /** How long a write waits for another connection's lock before failing (default 5000). */
  busyTimeoutMs?: number;
  /** How often kill switches written by other processes are looked for, while subscribed (default 250). */
  killPollMs?: number;
  /** How long an expired reservation is remembered for a late settle (default 1 h). */
  expiredRetentionMs?: number;
}

export interface SqliteStore extends Store {
  /** The open connection, for modules that keep their own tables in the same file. */
  readonly db: Database;
}

/**
 * State in one SQLite file, shared safely by several processes (WAL, BEGIN IMMEDIATE for every
 * write, a busy timeout). Survives restarts. The ledger's tables are prefixed `fm_`; approvals,
 * breakers, alarms, metric datapoints and the default audit log keep their own tables in the same file.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  const db = openDatabase(options.path, { busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const kills = new SqliteKills(db, options.killPollMs ?? 250);
  const approvals = createSqliteApprovalStore({ db });
  const ledger = new SqliteLedger(db, options.expiredRetentionMs ?? EXPIRED_RETENTION_MS);
  const rates = new SqliteRates(db);
  return {
    kind: 'sqlite',
    db,
    ledger,
    rates,
    compound: compoundOps(db, ledger, rates),
    kills,
    runs: new SqliteRuns(db),
    approvals,
    breakers: createSqliteBreakerStore(db),
    metrics: createSqliteMetricStore(db),
    alarms: createSqliteAlarmStore(db),
    apiKeys: new SqliteApiKeys(db),
    audit: { kind: 'sqlite', durable: true, open: () => createSqliteAuditSink({ db }) },
    async close() {
      kills.close();
      await approvals.close();
      if (db.open) db.close();
    },
  };
}

/**
 * A call's store work before its upstream (rate tokens and the reservation) and after it (the
 * settlement and the tokens given back), each one write transaction: the parts' own transactions
 * nest in it as savepoints, so the decisions are theirs exactly, and one commit reaches the WAL.
 */
function compoundOps(db: Database, ledger: SqliteLedger, rates: SqliteRates): CompoundOps {
  const takeAndReserve = db.transaction((buckets: BucketSpec[], req: ReserveRequest): TakeAndReserveResult => {
    const rate = rates.takeTx(buckets, req.now);
    if (!rate.ok) return { rate };
    const reserve = ledger.reserveTx(req);
    if (!reserve.ok) rates.creditTx(buckets, req.now);
    return { rate, reserve };
  });
  const settleAndCredit = db.transaction((req: SettleRequest, credit: BucketSpec[]): SettleResult => {
    const settled = ledger.settleTx(req);
    if (credit.length > 0) rates.creditTx(credit, req.now);
    return settled;
  });
  return {
    async takeAndReserve(buckets, req) {
      checkCharges(req.charges);
      return takeAndReserve.immediate(buckets, req);
    },
    async settleAndCredit(req, credit) {
      return settleAndCredit.immediate(req, credit);
    },
  };
}

export { createSqliteApprovalStore, type SqliteApprovalStoreOptions } from './approvals.ts';
export { createSqliteAuditSink, type SqliteAuditSinkOptions } from './audit.ts';
export { createSqliteMetricStore, type SqliteMetricStoreOptions } from './metrics.ts';
export { createSqliteAlarmStore, createSqliteBreakerStore, type SqliteVersionedStoreOptions } from './versioned.ts';
