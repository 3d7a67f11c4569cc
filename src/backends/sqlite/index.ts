import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { EXPIRED_RETENTION_MS } from '../memory/rules.ts';
import type { Store } from '../../store/store.ts';
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
  readonly db: Database.Database;
}

/**
 * State in one SQLite file, shared safely by several processes (WAL, BEGIN IMMEDIATE for every
 * write, a busy timeout). Survives restarts. All tables are prefixed `fm_`.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (path !== ':memory:' && path !== '' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  const kills = new SqliteKills(db, options.killPollMs ?? 250);
  return {
    kind: 'sqlite',
    db,
    ledger: new SqliteLedger(db, options.expiredRetentionMs ?? EXPIRED_RETENTION_MS),
    rates: new SqliteRates(db),
    kills,
    runs: new SqliteRuns(db),
    async close() {
      kills.close();
      if (db.open) db.close();
    },
  };
}
