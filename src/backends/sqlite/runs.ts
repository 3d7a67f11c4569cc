import type { Database, Statement } from 'better-sqlite3';
import type { StopCode } from '../../core/codes.ts';
import {
  runDay,
  type RunFilter,
  type RunPruneRequest,
  type RunPruneResult,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type RunTotals,
  type RunTotalsFilter,
} from '../../store/store.ts';
import { pruneBounds } from '../rules.ts';

/** The run count's dimension in fm_run_totals (no ledger dimension starts with '#'). */
const RUNS_DIM = '#runs';

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
  private readonly pruneTx;
  private readonly totalsTx;

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
    const due = db.prepare<[number, number], { id: string; tenant: string; agent: string; depth: number; started_at: number }>(
      'SELECT id, tenant, agent, depth, started_at FROM fm_runs WHERE rolled = 0 AND ended_at IS NOT NULL AND ended_at < ? LIMIT ?',
    );
    const used = db.prepare<[string, string], number>('SELECT used FROM fm_ledger WHERE key = ? AND dim = ?').pluck();
    const add = db.prepare<[string, string, number, string, number]>(
      `INSERT INTO fm_run_totals (tenant, agent, day, dim, used) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tenant, agent, day, dim) DO UPDATE SET used = used + excluded.used`,
    );
    const dropAccount = db.prepare<[string]>('DELETE FROM fm_ledger WHERE key = ?');
    // The repeat trackers `run:<id>:…`: every key from 'run:<id>:' up to 'run:<id>;' (';' follows ':').
    const dropRepeats = db.prepare<[string, string]>('DELETE FROM fm_repeats WHERE key >= ? AND key < ?');
    const markRolled = db.prepare<[string]>('UPDATE fm_runs SET rolled = 1 WHERE id = ?');
    const deleteRuns = db.prepare<[number, number]>(
      'DELETE FROM fm_runs WHERE rowid IN (SELECT rowid FROM fm_runs WHERE rolled = 1 AND ended_at IS NOT NULL AND ended_at < ? LIMIT ?)',
    );
    this.pruneTx = db.transaction((req: RunPruneRequest): RunPruneResult => {
      const { limit, rollBefore } = pruneBounds(req);
      let rolled = 0;
      if (rollBefore > -Infinity) {
        for (const run of due.all(rollBefore, limit)) {
          const key = `run:${run.id}`;
          if (run.depth === 0) {
            const day = runDay(run.started_at);
            add.run(run.tenant, run.agent, day, RUNS_DIM, 1);
            for (const dim of req.dims) {
              const amount = (used.get(key, dim) as number | undefined) ?? 0;
              if (amount !== 0) add.run(run.tenant, run.agent, day, dim, amount);
            }
          }
          dropAccount.run(key);
          dropRepeats.run(`${key}:`, `${key};`);
          markRolled.run(run.id);
          rolled++;
        }
      }
      const deleted = req.deleteBefore === undefined ? 0 : deleteRuns.run(req.deleteBefore, limit).changes;
      return { rolled, deleted };
    });
    this.totalsTx = db.transaction((dims: readonly string[], filter: RunTotalsFilter): RunTotals => {
      const where: string[] = [];
      const params: Record<string, string> = {};
      if (filter.tenant !== undefined) {
        where.push('tenant = @tenant');
        params.tenant = filter.tenant;
      }
      if (filter.agent !== undefined) {
        where.push('agent = @agent');
        params.agent = filter.agent;
      }
      const and = where.map((w) => ` AND r.${w}`).join('');
      const out: RunTotals = { runs: 0, used: Object.fromEntries(dims.map((d) => [d, 0])) };
      const rolledRows = db
        .prepare<Record<string, string>, { dim: string; used: number }>(`SELECT dim, SUM(used) AS used FROM fm_run_totals r WHERE 1 = 1${and} GROUP BY dim`)
        .all(params);
      for (const row of rolledRows) {
        if (row.dim === RUNS_DIM) out.runs += row.used;
        else if (row.dim in out.used) out.used[row.dim]! += row.used;
      }
      out.runs += db
        .prepare<Record<string, string>, number>(`SELECT COUNT(*) FROM fm_runs r WHERE rolled = 0 AND depth = 0${and}`)
        .pluck()
        .get(params) as number;
      const live = db.prepare<Record<string, string>, { dim: string; used: number }>(
        `SELECT l.dim AS dim, SUM(l.used) AS used FROM fm_runs r JOIN fm_ledger l ON l.key = 'run:' || r.id
         WHERE r.rolled = 0 AND r.depth = 0${and} GROUP BY l.dim`,
      );
      for (const row of live.all(params)) if (row.dim in out.used) out.used[row.dim]! += row.used;
      return out;
    });
  }

  async prune(req: RunPruneRequest): Promise<RunPruneResult> {
    return this.pruneTx.immediate(req);
  }

  async totals(dims: readonly string[], filter: RunTotalsFilter = {}): Promise<RunTotals> {
    return this.totalsTx.deferred(dims, filter);
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
