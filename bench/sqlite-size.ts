/** How much room a SQLite file takes, for the retention benches: bytes in use and the file after VACUUM. */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Bytes in use (pages holding data: page count − free pages, × page size) and the rows of each of `tables`. */
export function sqliteUsage<T extends string>(path: string, tables: readonly T[]): { bytes: number; rows: Record<T, number> } {
  const db = new Database(path, { readonly: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    const rows = {} as Record<T, number>;
    for (const table of tables) rows[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { bytes: (pages - free) * pageSize, rows };
  } finally {
    db.close();
  }
}

/** The file's size after a WAL checkpoint and VACUUM. */
export function vacuumedSize(path: string): number {
  const db = new Database(path);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('VACUUM');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return statSync(path).size;
}
