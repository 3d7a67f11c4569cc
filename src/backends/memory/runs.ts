import type { StopCode } from '../../core/codes.ts';
import {
  accounts,
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
import type { MemoryLedger } from './ledger.ts';

interface Entry {
  seq: number;
  run: RunRecord;
  /** Its ledger detail has been rolled into the period totals and dropped. */
  rolled: boolean;
}

/** A period total: one tenant, agent and day; `runs` root runs and their used amount per dimension. */
interface Total {
  tenant: string;
  agent: string;
  day: number;
  runs: number;
  used: Map<string, number>;
}

/** A copy, so callers can never change stored state by mutating what they got back. */
function copyRun(run: RunRecord): RunRecord {
  const out: RunRecord = { ...run, ancestors: run.ancestors.slice() };
  return out;
}

/** Runs in a Map. `list` sorts newest first (startedAt, then creation order). */
export class MemoryRuns implements RunStore {
  private readonly runs = new Map<string, Entry>();
  private readonly totalsByPeriod = new Map<string, Total>();
  private seq = 0;

  constructor(private readonly ledger: MemoryLedger) {}

  async create(run: RunRecord): Promise<{ created: boolean; run: RunRecord }> {
    const existing = this.runs.get(run.id);
    if (existing !== undefined) return { created: false, run: copyRun(existing.run) };
    const stored = copyRun(run);
    this.runs.set(run.id, { seq: this.seq++, run: stored, rolled: false });
    return { created: true, run: copyRun(stored) };
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const entry = this.runs.get(id);
    return entry && copyRun(entry.run);
  }

  async end(id: string, status: Exclude<RunStatus, 'running'>, at: number, code?: StopCode, reason?: string): Promise<RunRecord | undefined> {
    const entry = this.runs.get(id);
    if (entry === undefined) return undefined;
    const run = entry.run;
    if (run.status === 'running') {
      run.status = status;
      run.endedAt = at;
      if (code !== undefined) run.stopCode = code;
      if (reason !== undefined) run.stopReason = reason;
    }
    return copyRun(run);
  }

  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const { agent, tenant, status, limit } = filter;
    const hits: Entry[] = [];
    for (const entry of this.runs.values()) {
      const r = entry.run;
      if (agent !== undefined && r.agent !== agent) continue;
      if (tenant !== undefined && r.tenant !== tenant) continue;
      if (status !== undefined && r.status !== status) continue;
      hits.push(entry);
    }
    hits.sort((a, b) => b.run.startedAt - a.run.startedAt || b.seq - a.seq);
    const n = limit === undefined ? hits.length : Math.max(0, Math.min(limit, hits.length));
    const out = new Array<RunRecord>(n);
    for (let i = 0; i < n; i++) out[i] = copyRun(hits[i].run);
    return out;
  }

  async prune(req: RunPruneRequest): Promise<RunPruneResult> {
    const { limit, rollBefore } = pruneBounds(req);
    let rolled = 0;
    let deleted = 0;
    for (const entry of this.runs.values()) {
      const r = entry.run;
      if (entry.rolled || r.status === 'running' || r.endedAt === undefined || !(r.endedAt < rollBefore)) continue;
      if (rolled >= limit) break;
      const used = this.ledger.dropAccount(accounts.run(r.id));
      if (r.depth === 0) {
        const day = runDay(r.startedAt);
        const id = JSON.stringify([r.tenant, r.agent, day]);
        let total = this.totalsByPeriod.get(id);
        if (total === undefined) this.totalsByPeriod.set(id, (total = { tenant: r.tenant, agent: r.agent, day, runs: 0, used: new Map() }));
        total.runs++;
        for (const dim of req.dims) total.used.set(dim, (total.used.get(dim) ?? 0) + (used.get(dim) ?? 0));
      }
      entry.rolled = true;
      rolled++;
    }
    if (req.deleteBefore !== undefined) {
      const before = req.deleteBefore;
      for (const [id, entry] of this.runs) {
        const r = entry.run;
        if (!entry.rolled || r.endedAt === undefined || !(r.endedAt < before)) continue;
        if (deleted >= limit) break;
        this.runs.delete(id);
        deleted++;
      }
    }
    return { rolled, deleted };
  }

  async totals(dims: readonly string[], filter: RunTotalsFilter = {}): Promise<RunTotals> {
    const used: Record<string, number> = {};
    for (const dim of dims) used[dim] = 0;
    let runs = 0;
    const wanted = (tenant: string, agent: string) =>
      (filter.tenant === undefined || filter.tenant === tenant) && (filter.agent === undefined || filter.agent === agent);
    for (const total of this.totalsByPeriod.values()) {
      if (!wanted(total.tenant, total.agent)) continue;
      runs += total.runs;
      for (const dim of dims) used[dim]! += total.used.get(dim) ?? 0;
    }
    for (const { run, rolled } of this.runs.values()) {
      if (rolled || run.depth !== 0 || !wanted(run.tenant, run.agent)) continue;
      runs++;
      const key = accounts.run(run.id);
      for (const dim of dims) used[dim]! += this.ledger.usedOf(key, dim);
    }
    return { runs, used };
  }
}
