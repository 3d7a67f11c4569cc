import type { StoredEvent } from '../audit/index.ts';
import type { Guard } from '../runtime/guard.ts';
import type { RunRecord } from '../store/store.ts';
import { lastModel, runLimits } from './live-runs.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';
import { existing, runUsage } from './runs.ts';

/** Most events one timeline shows (a run is stopped long before this by its step limit). */
const MAX_EVENTS = 5000;

export interface RunNode {
  id: string;
  agent: string;
  status: RunRecord['status'];
  stopCode?: string;
  startedAt: number;
  endedAt?: number;
  children: RunNode[];
}

/** The family a run belongs to, from its root ancestor down: sub-runs as a tree. */
function familyTree(all: readonly RunRecord[], rootId: string): RunNode | undefined {
  const byParent = new Map<string, RunRecord[]>();
  let root: RunRecord | undefined;
  for (const run of all) {
    if (run.id === rootId) root = run;
    if (run.parentId !== undefined && run.ancestors.includes(rootId)) {
      const siblings = byParent.get(run.parentId) ?? [];
      siblings.push(run);
      byParent.set(run.parentId, siblings);
    }
  }
  if (!root) return undefined;
  const node = (run: RunRecord): RunNode => ({
    id: run.id,
    agent: run.agent,
    status: run.status,
    stopCode: run.stopCode,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    children: (byParent.get(run.id) ?? []).sort((a, b) => a.startedAt - b.startedAt).map(node),
  });
  return node(root);
}

/** An audit event as a timeline entry: the chain fields are the log's business, not the reader's. */
function entry(event: StoredEvent) {
  const { prevHash: _prev, hash: _hash, ...rest } = event;
  return rest;
}

/**
 * A run's history like a Step Functions execution's: every decision about it in order (model and
 * tool calls with code, tokens, cost, latency, attempts and fallback; approvals; the stop), from the
 * audit log; with its usage against its limits and the sub-runs as a tree.
 */
async function timeline({ guard, params }: AdminRequest): Promise<AdminReply> {
  const run = await existing(guard, params.id!);
  const [usage, model, kills, all] = await Promise.all([runUsage(guard, run.id), lastModel(guard, run.id), guard.store.kills.list(), runsOfFamily(guard, run)]);
  const killSwitch = kills.get(`run:${run.id}`);
  let events: StoredEvent[] = [];
  if (guard.audit) {
    await guard.audit.flush();
    events = await guard.audit.sink.query({ run: run.id, order: 'asc', limit: MAX_EVENTS });
  }
  const rootId = run.ancestors.length > 0 ? run.ancestors[run.ancestors.length - 1]! : run.id;
  return {
    body: {
      run: { ...run, model },
      usage,
      limits: runLimits(guard, run.agent),
      ...(killSwitch && { killSwitch: { scope: `run:${run.id}`, ...killSwitch } }),
      audit: guard.audit !== undefined,
      events: events.map(entry),
      truncated: events.length === MAX_EVENTS,
      tree: familyTree(all, rootId) ?? null,
      now: guard.clock.now(),
    },
  };
}

/** The runs that can be in this run's family: all runs of its tenant (the store has no parent index). */
function runsOfFamily(guard: Guard, run: RunRecord): Promise<RunRecord[]> {
  return guard.store.runs.list({ tenant: run.tenant });
}

export const timelineRoutes: Route[] = [{ method: 'GET', pattern: 'runs/:id/timeline', handler: timeline }];
