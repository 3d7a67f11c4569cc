import type { Database } from 'better-sqlite3';
import type { AlarmStateStore } from '../../store/alarms.ts';
import type { BreakerChangeListener, BreakerState, BreakerStore } from '../../store/breakers.ts';
import type { CasResult, VersionedRecord, VersionedStore } from '../../store/versioned.ts';

export interface SqliteVersionedStoreOptions {
  /** Table name; default `fmguard_breakers` (breakers) or `fmguard_alarms` (alarms). */
  table?: string;
  /** Breakers: how often changes made by other connections are looked for while subscribed (default 10 ms). */
  pollMs?: number;
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

/**
 * Breaker state in SQLite. While anyone is subscribed, changes other connections (other processes)
 * commit are found by polling `PRAGMA data_version` (free: it changes on any foreign commit), which
 * gates a read of the (scope, version) pairs, diffed against the last read; changes made through this
 * handle are announced at once.
 */
export function createSqliteBreakerStore(db: Database, { table = 'fmguard_breakers', pollMs = 10 }: SqliteVersionedStoreOptions = {}): BreakerStore {
  const base = createSqliteVersionedStore<BreakerState>(db, table);
  const versions = db.prepare<[], { scope: string; version: number }>(`SELECT scope, version FROM ${table}`);
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const listeners = new Set<BreakerChangeListener>();
  let timer: NodeJS.Timeout | undefined;
  let seen = -1;
  let known = new Map<string, number>();
  const announce = (scope: string, version: number | undefined) => {
    for (const listener of [...listeners]) {
      try {
        listener(scope, version);
      } catch {
        // A listener's failure is its own.
      }
    }
  };
  const readVersions = () => new Map((versions.all() as Array<{ scope: string; version: number }>).map((r) => [r.scope, r.version]));
  const poll = () => {
    let next: Map<string, number>;
    try {
      const v = dataVersion.get() as number;
      if (v === seen) return;
      seen = v;
      next = readVersions();
    } catch {
      return; // busy or closed underneath us: the next tick tries again
    }
    const before = known;
    known = next;
    for (const [scope, version] of next) if (before.get(scope) !== version) announce(scope, version);
    for (const scope of before.keys()) if (!next.has(scope)) announce(scope, undefined);
  };
  return {
    ...base,
    async compareAndSet(scope: string, expectedVersion: number, state: BreakerState) {
      const result = await base.compareAndSet(scope, expectedVersion, state);
      if (result.ok) {
        if (timer !== undefined) known.set(scope, result.record.version);
        announce(scope, result.record.version);
      }
      return result;
    },
    async delete(scope: string) {
      await base.delete(scope);
      if (timer !== undefined) known.delete(scope);
      announce(scope, undefined);
    },
    subscribe(listener: BreakerChangeListener) {
      const entry: BreakerChangeListener = (scope, version) => listener(scope, version);
      listeners.add(entry);
      if (timer === undefined) {
        seen = dataVersion.get() as number;
        known = readVersions();
        timer = setInterval(poll, pollMs);
        timer.unref();
      }
      return () => {
        listeners.delete(entry);
        if (listeners.size === 0 && timer !== undefined) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}

/** Alarm state in SQLite. */
export function createSqliteAlarmStore(db: Database, { table = 'fmguard_alarms' }: SqliteVersionedStoreOptions = {}): AlarmStateStore {
  return createSqliteVersionedStore(db, table);
}
