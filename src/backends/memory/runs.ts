import type { StopCode } from '../../core/codes.ts';
import type { RunFilter, RunRecord, RunStatus, RunStore } from '../../store/store.ts';

interface Entry {
  seq: number;
  run: RunRecord;
}

/** A copy, so callers can never change stored state by mutating what they got back. */
function copyRun(run: RunRecord): RunRecord {
  const out: RunRecord = { ...run, ancestors: run.ancestors.slice() };
  return out;
}

/** Runs in a Map. `list` sorts newest first (startedAt, then creation order). */
export class MemoryRuns implements RunStore {
  private readonly runs = new Map<string, Entry>();
  private seq = 0;

  async create(run: RunRecord): Promise<{ created: boolean; run: RunRecord }> {
    const existing = this.runs.get(run.id);
    if (existing !== undefined) return { created: false, run: copyRun(existing.run) };
    const stored = copyRun(run);
    this.runs.set(run.id, { seq: this.seq++, run: stored });
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
}
