import type { Database } from 'better-sqlite3';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many have run. Append only:
 * never edit a migration that has shipped. Other modules sharing the file keep their own tables and
 * must not touch user_version.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE fm_ledger (
    key TEXT NOT NULL,
    dim TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, dim)
  ) WITHOUT ROWID;

  -- lines: JSON [[key, dim, amount, limit|null], ...]. expired = 1: hold already released by the
  -- sweep, row kept for the retention period so a late settle still records the usage.
  CREATE TABLE fm_reservations (
    id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    expired INTEGER NOT NULL DEFAULT 0,
    lines TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX fm_reservations_due ON fm_reservations (expired, expires_at);

  CREATE TABLE fm_repeats (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    count INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE fm_buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE fm_kills (
    scope TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    by TEXT NOT NULL,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;

  -- Counters other processes poll, e.g. 'kills' is bumped on every kill-switch change.
  CREATE TABLE fm_meta (
    k TEXT PRIMARY KEY,
    v INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE fm_runs (
    id TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    tenant TEXT NOT NULL,
    parent_id TEXT,
    ancestors TEXT NOT NULL,
    depth INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    status TEXT NOT NULL,
    stop_code TEXT,
    stop_reason TEXT,
    ended_at INTEGER
  );
  CREATE INDEX fm_runs_started ON fm_runs (started_at);
  CREATE INDEX fm_runs_agent ON fm_runs (agent, started_at);
  CREATE INDEX fm_runs_tenant ON fm_runs (tenant, started_at);
  CREATE INDEX fm_runs_status ON fm_runs (status, started_at);
  `,
  // Retention: rolled = 1 once a run's ledger detail is in fm_run_totals (per tenant, agent, UTC day
  // of start: days since the epoch; dim '#runs' counts the root runs).
  `
  ALTER TABLE fm_runs ADD COLUMN rolled INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX fm_runs_ended ON fm_runs (rolled, ended_at) WHERE ended_at IS NOT NULL;
  CREATE TABLE fm_run_totals (
    tenant TEXT NOT NULL,
    agent TEXT NOT NULL,
    day INTEGER NOT NULL,
    dim TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, agent, day, dim)
  ) WITHOUT ROWID;
  `,
  // API keys minted at run time: the sha256 of the secret, never the secret; \`info\` is the rest as
  // JSON (ApiKeyInfo without the revocation, which has its own columns and is written once).
  `
  CREATE TABLE fm_api_keys (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    agent TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    info TEXT NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT
  ) WITHOUT ROWID;
  CREATE INDEX fm_api_keys_agent ON fm_api_keys (agent, created_at);
  `,
];

/** Bring the file up to the current schema. Safe when several processes open a new file at once. */
export function migrate(db: Database): void {
  const current = () => db.pragma('user_version', { simple: true }) as number;
  if (current() >= MIGRATIONS.length) return;
  db.transaction(() => {
    // Re-read under the write lock: another process may have migrated in the meantime.
    for (let v = current(); v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}
