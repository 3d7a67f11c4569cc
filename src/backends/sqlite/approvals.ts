import { openDatabase, type Database } from './database.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import type { ApprovalRequest, ApprovalStatus, ApprovalStore } from '../../store/approvals.ts';
import { approvalListeners } from '../../approvals/listeners.ts';
import { effective, planCheck, planDecide, statusList } from '../../approvals/transitions.ts';

export type SqliteApprovalStoreOptions =
  /** Open (or create) this file; the store closes it on close(). */
  | { path: string }
  /** Share fmguard's state database; the caller keeps ownership of the handle. */
  | { db: Database };

// `n` orders requests (latest per call key, newest first in lists) independent of clock skew.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS approval_requests (
  n INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  run TEXT NOT NULL,
  agent TEXT NOT NULL,
  tenant TEXT,
  tool TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  args TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  decided_at INTEGER,
  decided_by TEXT,
  reason TEXT,
  consumed_at INTEGER
);
CREATE INDEX IF NOT EXISTS approval_requests_key ON approval_requests (run, tool, fingerprint, n);
CREATE INDEX IF NOT EXISTS approval_requests_status ON approval_requests (status, expires_at);
`;

interface Row {
  id: string;
  run: string;
  agent: string;
  tenant: string | null;
  tool: string;
  fingerprint: string;
  args: string;
  created_at: number;
  expires_at: number;
  status: ApprovalStatus;
  decided_at: number | null;
  decided_by: string | null;
  reason: string | null;
  consumed_at: number | null;
}

// The status a row has at @now, computed in SQL so reads need no write lock.
const EFFECTIVE_STATUS = `CASE WHEN status IN ('pending', 'approved') AND expires_at <= @now THEN 'expired' ELSE status END`;

/**
 * Approvals in fmguard's SQLite file. Every transition is one BEGIN IMMEDIATE transaction (read the
 * latest request, decide, write), so two processes cannot both consume one approval or both file a
 * request for the same call.
 */
export function createSqliteApprovalStore(options: SqliteApprovalStoreOptions): ApprovalStore {
  const owned = 'path' in options;
  const db = owned ? openDatabase(options.path) : options.db;
  db.exec(SCHEMA);

  const selectLatest = db.prepare<[string, string, string], Row>(
    'SELECT * FROM approval_requests WHERE run = ? AND tool = ? AND fingerprint = ? ORDER BY n DESC LIMIT 1',
  );
  const selectById = db.prepare<[string], Row>('SELECT * FROM approval_requests WHERE id = ?');
  const upsert = db.prepare(
    `INSERT INTO approval_requests (id, run, agent, tenant, tool, fingerprint, args, created_at, expires_at, status, decided_at, decided_by, reason, consumed_at)
     VALUES (@id, @run, @agent, @tenant, @tool, @fingerprint, @args, @created_at, @expires_at, @status, @decided_at, @decided_by, @reason, @consumed_at)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, expires_at = excluded.expires_at, decided_at = excluded.decided_at,
       decided_by = excluded.decided_by, reason = excluded.reason, consumed_at = excluded.consumed_at`,
  );
  const listeners = approvalListeners();

  const write = (requests: ApprovalRequest[]) => {
    for (const request of requests) upsert.run(toRow(request));
  };
  const checkTx = db.transaction((input: Parameters<ApprovalStore['check']>[0]) => {
    const row = selectLatest.get(input.run, input.tool, input.fingerprint);
    const plan = planCheck(row && fromRow(row), input);
    write(plan.writes);
    return plan;
  });
  const decideTx = db.transaction((input: Parameters<ApprovalStore['decide']>[0]) => {
    const row = selectById.get(input.id);
    const plan = planDecide(row && fromRow(row), input);
    write(plan.writes);
    return plan;
  });

  // Announce only after the transaction committed.
  const notify = listeners.notify;

  return {
    kind: 'sqlite',
    async check(input) {
      const { result, writes } = checkTx.immediate(input);
      notify(writes);
      return result;
    },
    async get(id, now) {
      const row = selectById.get(id);
      return row && effective(fromRow(row), now);
    },
    async decide(input) {
      const { result, writes } = decideTx.immediate(input);
      notify(writes);
      return result;
    },
    async list(filter, now) {
      const where: string[] = [];
      const params: Record<string, unknown> = { now };
      const statuses = statusList(filter.status);
      if (statuses) {
        where.push(`${EFFECTIVE_STATUS} IN (${statuses.map((_, i) => `@s${i}`).join(', ') || 'NULL'})`);
        statuses.forEach((s, i) => (params[`s${i}`] = s));
      }
      for (const column of ['run', 'agent', 'tool'] as const) {
        if (filter[column] !== undefined) {
          where.push(`${column} = @${column}`);
          params[column] = filter[column];
        }
      }
      let sql = 'SELECT * FROM approval_requests';
      if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
      sql += ' ORDER BY n DESC';
      if (filter.limit !== undefined) {
        sql += ' LIMIT @limit';
        params.limit = Math.max(0, Math.floor(filter.limit));
      }
      return db
        .prepare<[Record<string, unknown>], Row>(sql)
        .all(params)
        .map((row) => effective(fromRow(row), now));
    },
    subscribe: listeners.subscribe,
    async close() {
      listeners.clear();
      if (owned && db.open) db.close();
    },
  };
}

function toRow(r: ApprovalRequest): Row {
  return {
    id: r.id,
    run: r.run,
    agent: r.agent,
    tenant: r.tenant ?? null,
    tool: r.tool,
    fingerprint: r.fingerprint,
    args: canonicalJson(r.args),
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    status: r.status,
    decided_at: r.decidedAt ?? null,
    decided_by: r.decidedBy ?? null,
    reason: r.reason ?? null,
    consumed_at: r.consumedAt ?? null,
  };
}

function fromRow(row: Row): ApprovalRequest {
  const request: ApprovalRequest = {
    id: row.id,
    run: row.run,
    agent: row.agent,
    tool: row.tool,
    fingerprint: row.fingerprint,
    args: JSON.parse(row.args) as unknown,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    status: row.status,
  };
  if (row.tenant !== null) request.tenant = row.tenant;
  if (row.decided_at !== null) request.decidedAt = row.decided_at;
  if (row.decided_by !== null) request.decidedBy = row.decided_by;
  if (row.reason !== null) request.reason = row.reason;
  if (row.consumed_at !== null) request.consumedAt = row.consumed_at;
  return request;
}
