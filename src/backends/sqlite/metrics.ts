import type { Database, Statement } from 'better-sqlite3';
import type { MetricQuery, MetricRow, MetricStore } from '../../store/metrics.ts';

export interface SqliteMetricStoreOptions {
  /** Table name; default `fmguard_metric_points`. */
  table?: string;
}

interface DbRow {
  scope: string;
  metric: string;
  start: number;
  source: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  sketch: string | null;
}

/**
 * Metric datapoints in a SQLite database (better-sqlite3 handle, owned by the caller). Several
 * processes sharing the file each write their own rows; readers see them all.
 */
export function createSqliteMetricStore(db: Database, { table = 'fmguard_metric_points' }: SqliteMetricStoreOptions = {}): MetricStore {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new TypeError(`invalid table name ${JSON.stringify(table)}`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
    scope TEXT NOT NULL, metric TEXT NOT NULL, start INTEGER NOT NULL, source TEXT NOT NULL,
    count REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, sketch TEXT,
    PRIMARY KEY (scope, metric, start, source)
  ) WITHOUT ROWID`);
  db.exec(`CREATE INDEX IF NOT EXISTS ${table}_start ON ${table} (start)`);
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO ${table} (scope, metric, start, source, count, sum, min, max, sketch)
     VALUES (@scope, @metric, @start, @source, @count, @sum, @min, @max, @sketch)`,
  );
  const writeAll = db.transaction((rows: readonly MetricRow[]) => {
    for (const row of rows) {
      upsert.run({
        scope: row.scope,
        metric: row.metric,
        start: row.start,
        source: row.source,
        count: row.count,
        sum: row.sum,
        // SQLite has no infinities in REAL columns we can rely on; an empty set never gets written.
        min: Number.isFinite(row.min) ? row.min : 0,
        max: Number.isFinite(row.max) ? row.max : 0,
        sketch: row.sketch ? JSON.stringify(row.sketch) : null,
      });
    }
  });
  const prune = db.prepare(`DELETE FROM ${table} WHERE start < ?`);
  const reads = new Map<number, Statement<unknown[]>>();
  const readStatement = (metricCount: number) => {
    let stmt = reads.get(metricCount);
    if (!stmt) {
      const marks = Array.from({ length: metricCount }, () => '?').join(', ');
      stmt = db.prepare<unknown[]>(`SELECT * FROM ${table} WHERE scope = ? AND metric IN (${marks}) AND start >= ? AND start < ? ORDER BY start`);
      reads.set(metricCount, stmt);
    }
    return stmt;
  };

  return {
    kind: 'sqlite',
    async write(rows) {
      if (rows.length > 0) writeAll(rows);
    },
    async read(query: MetricQuery) {
      if (query.metrics.length === 0) return [];
      const rows = readStatement(query.metrics.length).all(query.scope, ...query.metrics, query.from, query.to) as DbRow[];
      return rows.map((r) => {
        const row: MetricRow = { scope: r.scope, metric: r.metric, start: r.start, source: r.source, count: r.count, sum: r.sum, min: r.min, max: r.max };
        if (r.sketch) row.sketch = JSON.parse(r.sketch);
        return row;
      });
    },
    async prune(before) {
      return prune.run(before).changes;
    },
  };
}
