import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { loadDriver } from '../driver.ts';

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** How long a write waits for another connection's lock before failing (default 5000). */
  busyTimeoutMs?: number;
}

/**
 * Open (or create) a SQLite file in WAL mode, so readers in other processes run beside a writer.
 * Its directory is created if missing; `:memory:` and `file:` URIs are passed through.
 */
export function openDatabase(path: string, { busyTimeoutMs = 5000 }: OpenDatabaseOptions = {}): Database {
  const Driver = loadDriver<typeof BetterSqlite3>('better-sqlite3', 'the SQLite store');
  if (path !== ':memory:' && path !== '' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
  const db = new Driver(path, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
