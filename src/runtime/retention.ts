import type { Clock } from '../core/clock.ts';
import { periodic } from '../core/periodic.ts';
import type { RunPruneResult, Store } from '../store/store.ts';
import { DIM } from './charges.ts';

/** The run dimensions the period totals keep (per-tool counts and call fingerprints are detail only). */
export const TOTAL_DIMS: readonly string[] = [DIM.steps, DIM.toolCalls, DIM.inputTokens, DIM.outputTokens, DIM.totalTokens, DIM.cost];

export interface RunPrunerOptions {
  store: Store;
  clock: Clock;
  /** Ended runs' records are deleted this long after their end (their detail rolled first). */
  runsMaxAgeMs?: number;
  /** Ended runs' ledger detail is rolled into period totals and dropped this long after their end. */
  ledgerMaxAgeMs?: number;
  /** How often (default one hour). */
  everyMs?: number;
  /** Runs per store call (default 1000): each call is one transaction or script. */
  batch?: number;
  onError?: (error: unknown) => void;
}

export interface RunPruneSummary extends RunPruneResult {
  /** Kill switches on runs that no longer exist, cleared. */
  killsCleared: number;
}

export interface RunPruner {
  pruneNow(): Promise<RunPruneSummary>;
  start(): void;
  stop(): void;
}

/**
 * Retention of runs and ledger detail by age: batches of `store.runs.prune` until nothing is left,
 * then the kill switches of runs that are gone. Totals (`store.runs.totals`, budgets per window,
 * metrics) never change: budgets and metrics are accounts of their own, and run detail is rolled
 * into period totals before it is dropped.
 */
export function createRunPruner({
  store,
  clock,
  runsMaxAgeMs,
  ledgerMaxAgeMs,
  everyMs = 3_600_000,
  batch = 1000,
  onError = () => {},
}: RunPrunerOptions): RunPruner {
  const pruneNow = async (): Promise<RunPruneSummary> => {
    const now = clock.now();
    const req = {
      dims: TOTAL_DIMS,
      limit: batch,
      ...(ledgerMaxAgeMs !== undefined && { rollBefore: now - ledgerMaxAgeMs }),
      ...(runsMaxAgeMs !== undefined && { deleteBefore: now - runsMaxAgeMs }),
    };
    const out: RunPruneSummary = { rolled: 0, deleted: 0, killsCleared: 0 };
    if (req.rollBefore === undefined && req.deleteBefore === undefined) return out;
    for (;;) {
      const { rolled, deleted } = await store.runs.prune(req);
      out.rolled += rolled;
      out.deleted += deleted;
      if (rolled < batch && deleted < batch) break;
      // Let calls in between: one batch at a time.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (out.deleted > 0) {
      for (const scope of (await store.kills.list()).keys()) {
        if (!scope.startsWith('run:')) continue;
        if ((await store.runs.get(scope.slice(4))) === undefined) {
          await store.kills.clear(scope);
          out.killsCleared++;
        }
      }
    }
    return out;
  };

  const runner = periodic(pruneNow, everyMs, onError);
  return {
    pruneNow: runner.runNow,
    start: runner.start,
    stop() {
      void runner.stop();
    },
  };
}
