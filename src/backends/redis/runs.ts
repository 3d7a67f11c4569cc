import type { StopCode } from '../../core/codes.ts';
import type { RunFilter, RunPruneRequest, RunPruneResult, RunRecord, RunStatus, RunStore, RunTotals, RunTotalsFilter } from '../../store/store.ts';
import { pruneBounds } from '../rules.ts';
import type { Gate } from './connection.ts';
import { createRunScript, endRunScript, listRunsScript, pruneRunsScript, runTotalsScript } from './lua/runs.ts';

function toFields(run: RunRecord): string[] {
  const f = [
    'id',
    run.id,
    'agent',
    run.agent,
    'tenant',
    run.tenant,
    'ancestors',
    JSON.stringify(run.ancestors),
    'depth',
    String(run.depth),
    'startedAt',
    String(run.startedAt),
    'deadline',
    String(run.deadline),
    'status',
    run.status,
  ];
  if (run.parentId !== undefined) f.push('parentId', run.parentId);
  if (run.stopCode !== undefined) f.push('stopCode', run.stopCode);
  if (run.stopReason !== undefined) f.push('stopReason', run.stopReason);
  if (run.endedAt !== undefined) f.push('endedAt', String(run.endedAt));
  return f;
}

function fromFields(h: Record<string, string>): RunRecord {
  const run: RunRecord = {
    id: h.id,
    agent: h.agent,
    tenant: h.tenant,
    ancestors: JSON.parse(h.ancestors) as string[],
    depth: Number(h.depth),
    startedAt: Number(h.startedAt),
    deadline: Number(h.deadline),
    status: h.status as RunStatus,
  };
  if (h.parentId !== undefined) run.parentId = h.parentId;
  if (h.stopCode !== undefined) run.stopCode = h.stopCode as StopCode;
  if (h.stopReason !== undefined) run.stopReason = h.stopReason;
  if (h.endedAt !== undefined) run.endedAt = Number(h.endedAt);
  return run;
}

function fromFlat(flat: string[]): RunRecord {
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]] = flat[i + 1];
  return fromFields(h);
}

const filterArg = (value: string | undefined) => (value === undefined ? '' : `=${value}`);

/** Runs in Redis: create and end are one script each (insert-if-absent, first stop wins). */
export class RedisRuns implements RunStore {
  constructor(
    private readonly gate: Gate,
    private readonly prefix: string,
    /** With a value, an ended run's record and ledger account expire this long after its end. */
    private readonly ttlMs?: number,
  ) {}

  async create(run: RunRecord): Promise<{ created: boolean; run: RunRecord }> {
    const args = [this.prefix, run.id, run.agent, run.tenant, String(run.startedAt), ...toFields(run)];
    const [created, flat] = (await this.gate.run('run create', (redis) => createRunScript.run(redis, args))) as [number, string[]];
    return { created: created === 1, run: fromFlat(flat) };
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const h = await this.gate.run('run get', (redis) => redis.hgetall(`${this.prefix}run:${id}`));
    return h.id === undefined ? undefined : fromFields(h);
  }

  async end(id: string, status: Exclude<RunStatus, 'running'>, at: number, code?: StopCode, reason?: string): Promise<RunRecord | undefined> {
    const args = [
      this.prefix,
      id,
      status,
      String(at),
      code === undefined ? '0' : '1',
      code ?? '',
      reason === undefined ? '0' : '1',
      reason ?? '',
      this.ttlMs === undefined ? '' : String(Math.ceil(this.ttlMs)),
    ];
    const flat = (await this.gate.run('run end', (redis) => endRunScript.run(redis, args))) as string[] | null;
    return flat ? fromFlat(flat) : undefined;
  }

  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const { agent, tenant, status, limit } = filter;
    const args = [this.prefix, filterArg(agent), filterArg(tenant), filterArg(status), String(limit === undefined ? -1 : Math.max(0, Math.floor(limit)))];
    const rows = (await this.gate.run('run list', (redis) => listRunsScript.run(redis, args))) as string[][];
    return rows.map(fromFlat);
  }

  async prune(req: RunPruneRequest): Promise<RunPruneResult> {
    const { limit, rollBefore } = pruneBounds(req);
    const args = [
      this.prefix,
      rollBefore === -Infinity ? '' : String(rollBefore),
      req.deleteBefore === undefined ? '' : String(req.deleteBefore),
      String(limit),
      String(req.dims.length),
      ...req.dims,
    ];
    const [rolled, deleted] = (await this.gate.run('run prune', (redis) => pruneRunsScript.run(redis, args))) as [number, number];
    return { rolled, deleted };
  }

  async totals(dims: readonly string[], filter: RunTotalsFilter = {}): Promise<RunTotals> {
    const args = [this.prefix, filterArg(filter.tenant), filterArg(filter.agent), String(dims.length), ...dims];
    const reply = (await this.gate.run('run totals', (redis) => runTotalsScript.run(redis, args))) as string[];
    const used: Record<string, number> = {};
    dims.forEach((dim, i) => {
      used[dim] = Number(reply[i + 1]);
    });
    return { runs: Number(reply[0]), used };
  }
}
