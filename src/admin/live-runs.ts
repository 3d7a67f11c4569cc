import { ALL_STOP_CODES, type StopCode } from '../core/codes.ts';
import type { Guard } from '../runtime/guard.ts';
import type { RunRecord, RunStatus } from '../store/store.ts';
import { invalid, limitOf, oneOf, textOf } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';
import { runUsage } from './runs.ts';

const STATUSES: readonly RunStatus[] = ['running', 'stopped', 'completed'];

/** The limits a run is shown against (its agent's, from the config). */
export function runLimits(guard: Guard, agent: string) {
  const limits = guard.agentByName(agent)?.limits;
  if (!limits) return undefined;
  return {
    maxSteps: limits.maxSteps,
    maxToolCalls: limits.maxToolCalls,
    maxTotalTokens: limits.maxTotalTokens,
    maxCostUsd: limits.maxCostUsd,
    maxDurationMs: limits.maxDurationMs,
  };
}

/**
 * The model a run called last, from the audit log (the run record does not keep it); the model that
 * answered when a breaker sent the call to a fallback. Undefined without an audit log.
 */
export async function lastModel(guard: Guard, runId: string): Promise<string | undefined> {
  if (!guard.audit) return undefined;
  const recent = await guard.audit.sink.query({ run: runId, type: ['call.allowed', 'call.failed', 'call.refused'], order: 'desc', limit: 20 });
  const call = recent.find((e) => e.action === 'invokeModel');
  if (!call) return undefined;
  const servedBy = call.details?.servedBy;
  return typeof servedBy === 'string' ? servedBy : call.resource;
}

/** One row of the Live runs view: the record, its usage from the ledger, its limits and its model. */
export async function liveRow(guard: Guard, run: RunRecord) {
  const [usage, model] = await Promise.all([runUsage(guard, run.id), lastModel(guard, run.id)]);
  return { ...run, model, usage, limits: runLimits(guard, run.agent) };
}

function pageOf(query: URLSearchParams): number {
  const text = query.get('page');
  if (text === null || text === '') return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw invalid(`page: expected an integer from 1, got "${text}"`, 'page');
  return n;
}

/**
 * Runs, newest first, filtered by tenant, agent, state and stop code on the server and cut into pages:
 * only the page's rows are enriched (ledger usage, last model), so 10,000 runs cost one store read.
 * `counts` are per state under the other filters (for the state tabs).
 */
async function liveRuns({ guard, query }: AdminRequest): Promise<AdminReply> {
  const status = oneOf(query, 'state', STATUSES);
  const code = oneOf(query, 'code', ALL_STOP_CODES) as StopCode | undefined;
  const page = pageOf(query);
  const limit = limitOf(query, 50, 500);
  const matching = await guard.store.runs.list({ tenant: textOf(query, 'tenant'), agent: textOf(query, 'agent') });
  const counts: Record<RunStatus, number> = { running: 0, stopped: 0, completed: 0 };
  const hits: RunRecord[] = [];
  for (const run of matching) {
    if (code !== undefined && run.stopCode !== code) continue;
    counts[run.status]++;
    if (status === undefined || run.status === status) hits.push(run);
  }
  const pages = Math.max(1, Math.ceil(hits.length / limit));
  const rows = await Promise.all(hits.slice((page - 1) * limit, page * limit).map((run) => liveRow(guard, run)));
  return {
    body: {
      runs: rows,
      total: hits.length,
      page,
      pages,
      limit,
      counts,
      now: guard.clock.now(),
      facets: {
        tenants: [...new Set([...Object.keys(guard.config.tenants), ...Object.values(guard.config.agents).map((a) => a.tenant)])],
        agents: Object.keys(guard.config.agents),
        codes: ALL_STOP_CODES,
      },
    },
  };
}

export const liveRunRoutes: Route[] = [{ method: 'GET', pattern: 'live/runs', handler: liveRuns }];
