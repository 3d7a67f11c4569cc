import type { Database } from 'better-sqlite3';
import type { AlarmStateStore } from '../../store/alarms.ts';
import type { BreakerStore } from '../../store/breakers.ts';
import type { CasResult, VersionedRecord, VersionedStore } from '../../store/versioned.ts';

export interface SqliteVersionedStoreOptions {
  /** Table name; default `fmguard_breakers` (breakers) or `fmguard_alarms` (alarms). */
  table?: string;
}

interface Row {
  scope: string;
  state: string;
  version: number;
}

/**
 * Versioned records in SQLite (better-sqlite3 handle, owned by the caller), one row per key. The
 * compare-and-set runs in an immediate transaction, so processes sharing the file serialize on it.
 */
export function createSqliteVersionedStore<S>(db: Database, table: string): VersionedStore<S> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new TypeError(`invalid table name ${JSON.stringify(table)}`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
    scope TEXT PRIMARY KEY, state TEXT NOT NULL, version INTEGER NOT NULL
  )`);
  const select = db.prepare(`SELECT scope, state, version FROM ${table} WHERE scope = ?`);
  const insert = db.prepare(`INSERT INTO ${table} (scope, state, version) VALUES (?, ?, 1)`);
  const update = db.prepare(`UPDATE ${table} SET state = ?, version = version + 1 WHERE scope = ? AND version = ?`);
  const remove = db.prepare(`DELETE FROM ${table} WHERE scope = ?`);
  const all = db.prepare(`SELECT scope, state, version FROM ${table} ORDER BY scope`);
  const toRecord = (row: Row): VersionedRecord<S> => ({ scope: row.scope, state: JSON.parse(row.state) as S, version: row.version });

  const cas = db.transaction((scope: string, expectedVersion: number, json: string): CasResult<S> => {
    const row = select.get(scope) as Row | undefined;
    if ((row?.version ?? 0) !== expectedVersion) return { ok: false, current: row && toRecord(row) };
    if (row) update.run(json, scope, expectedVersion);
    else insert.run(scope, json);
    return { ok: true, record: { scope, state: JSON.parse(json) as S, version: expectedVersion + 1 } };
  });

  return {
    kind: 'sqlite',
    async get(scope) {
      const row = select.get(scope) as Row | undefined;
      return row && toRecord(row);
    },
    async compareAndSet(scope, expectedVersion, state) {
      return cas.immediate(scope, expectedVersion, JSON.stringify(state));
    },
    async delete(scope) {
      remove.run(scope);
    },
    async list() {
      return (all.all() as Row[]).map(toRecord);
    },
  };
}

/** Breaker state in SQLite. */
export function createSqliteBreakerStore(db: Database, { table = 'fmguard_breakers' }: SqliteVersionedStoreOptions = {}): BreakerStore {
  return createSqliteVersionedStore(db, table);
}

/** Alarm state in SQLite. */
export function createSqliteAlarmStore(db: Database, { table = 'fmguard_alarms' }: SqliteVersionedStoreOptions = {}): AlarmStateStore {
  return createSqliteVersionedStore(db, table);
}
