import type { Database, Statement } from 'better-sqlite3';
import type { StopCode } from '../../core/codes.ts';
import type { RunFilter, RunRecord, RunStatus, RunStore } from '../../store/store.ts';

interface RunRow {
  id: string;
  agent: string;
  tenant: string;
  parent_id: string | null;
  ancestors: string;
  depth: number;
  started_at: number;
  deadline: number;
  status: RunStatus;
  stop_code: StopCode | null;
  stop_reason: string | null;
  ended_at: number | null;
}

const COLUMNS = 'id, agent, tenant, parent_id, ancestors, depth, started_at, deadline, status, stop_code, stop_reason, ended_at';

function toRecord(row: RunRow): RunRecord {
  const run: RunRecord = {
    id: row.id,
    agent: row.agent,
    tenant: row.tenant,
    ancestors: JSON.parse(row.ancestors) as string[],
    depth: row.depth,
    startedAt: row.started_at,
    deadline: row.deadline,
    status: row.status,
  };
  if (row.parent_id !== null) run.parentId = row.parent_id;
  if (row.stop_code !== null) run.stopCode = row.stop_code;
  if (row.stop_reason !== null) run.stopReason = row.stop_reason;
  if (row.ended_at !== null) run.endedAt = row.ended_at;
  return run;
}

type ListParams = { agent?: string; tenant?: string; status?: RunStatus; limit: number };

/** Runs in SQLite. `list` is newest first: startedAt, then insertion order. */
export class SqliteRuns implements RunStore {
  private readonly q: {
    insert: Statement<unknown[]>;
    get: Statement<[string], RunRow>;
    end: Statement<[RunStatus, number, string | null, string | null, string]>;
  };
  /** One prepared statement per combination of filters, made on first use. */
  private readonly lists = new Map<string, Statement<ListParams, RunRow>>();
  private readonly createTx;
  private readonly endTx;

  constructor(private readonly db: Database) {
    this.q = {
      insert: db.prepare(`INSERT OR IGNORE INTO fm_runs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare(`SELECT ${COLUMNS} FROM fm_runs WHERE id = ?`),
      end: db.prepare(`UPDATE fm_runs SET status = ?, ended_at = ?, stop_code = ?, stop_reason = ? WHERE id = ? AND status = 'running'`),
    };
    this.createTx = db.transaction((run: RunRecord) => {
      const { changes } = this.q.insert.run(
        run.id,
        run.agent,
        run.tenant,
        run.parentId ?? null,
        JSON.stringify(run.ancestors),
        run.depth,
        run.startedAt,
        run.deadline,
        run.status,
        run.stopCode ?? null,
        run.stopReason ?? null,
        run.endedAt ?? null,
      );
      return { created: changes > 0, run: toRecord(this.q.get.get(run.id) as RunRow) };
    });
    this.endTx = db.transaction((id: string, status: Exclude<RunStatus, 'running'>, at: number, code?: StopCode, reason?: string) => {
      this.q.end.run(status, at, code ?? null, reason ?? null, id);
      const row = this.q.get.get(id);
      return row && toRecord(row);
    });
  }

  async create(run: RunRecord): Promise<{ created: boolean; run: RunRecord }> {
    return this.createTx.immediate(run);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = this.q.get.get(id);
    return row && toRecord(row);
  }

  async end(id: string, status: Exclude<RunStatus, 'running'>, at: number, code?: StopCode, reason?: string): Promise<RunRecord | undefined> {
    return this.endTx.immediate(id, status, at, code, reason);
  }

  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const { agent, tenant, status, limit } = filter;
    const where: string[] = [];
    const params: ListParams = { limit: limit === undefined ? -1 : Math.max(0, limit) };
    if (agent !== undefined) {
      where.push('agent = @agent');
      params.agent = agent;
    }
    if (tenant !== undefined) {
      where.push('tenant = @tenant');
      params.tenant = tenant;
    }
    if (status !== undefined) {
      where.push('status = @status');
      params.status = status;
    }
    const shape = where.join(' AND ');
    let stmt = this.lists.get(shape);
    if (stmt === undefined) {
      const clause = shape === '' ? '' : `WHERE ${shape}`;
      // A negative LIMIT means no limit in SQLite.
      stmt = this.db.prepare<ListParams, RunRow>(`SELECT ${COLUMNS} FROM fm_runs ${clause} ORDER BY started_at DESC, rowid DESC LIMIT @limit`);
      this.lists.set(shape, stmt);
    }
    return stmt.all(params).map(toRecord);
  }
}
