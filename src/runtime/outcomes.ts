import type { StopCode } from '../core/codes.ts';
import { guardError, type GuardError } from '../core/errors.ts';
import { nanoToUsd } from '../core/money.ts';
import { crossedThresholds } from '../core/thresholds.ts';
import type { SettledLine } from '../store/store.ts';
import type { BudgetLine } from './charges.ts';
import { DIM } from './charges.ts';
import type { GuardContext } from './context.ts';
import type { RunHandle } from './run-handle.ts';

const MESSAGES: Partial<Record<StopCode, string>> = {
  'limit.cost': "the run's cost limit cannot pay for this call",
  'budget.exhausted': 'the {scope} {period} budget cannot pay for this call',
  'limit.tokens': "the run's token limit cannot fit this call",
  'limit.steps': 'the run has taken its maximum number of steps',
  'limit.tool_calls': 'the run has made its maximum number of tool calls',
  'loop.repeated_tool_call': 'the same tool call with the same arguments was repeated too often',
};

function usd(value: number): string {
  return `$${value < 0.01 ? value.toPrecision(3) : value.toFixed(4)}`;
}

/**
 * A refusal from the ledger as a GuardError with the numbers in the units a user reads: USD for
 * money lines, plain counts otherwise.
 */
export function refusal(code: StopCode, numbers: { limit: number; used: number; requested: number; key: string; dim: string }, handle: RunHandle): GuardError {
  const money = numbers.dim === DIM.cost;
  const [, scopeKind, scopeId, period] = numbers.key.startsWith('budget:') ? numbers.key.split(':') : [];
  const scope = scopeKind ? `${scopeKind}:${scopeId}` : `run:${handle.id}`;
  const limit = money ? nanoToUsd(numbers.limit) : numbers.limit;
  const used = money ? nanoToUsd(numbers.used) : numbers.used;
  const requested = money ? nanoToUsd(numbers.requested) : numbers.requested;
  const what = (MESSAGES[code] ?? code).replace('{scope}', scope).replace('{period}', period ?? '');
  const figures = money ? `limit ${usd(limit)}, used ${usd(used)}, this call needs at least ${usd(requested)}` : `limit ${limit}, used ${used}`;
  return guardError(code, `${what} (${figures})`, { limit, used, requested, scope, runId: handle.id });
}

/** How long a client is told to wait before retrying a busy slot or a contended budget. */
export const CONTENTION_RETRY_AFTER_MS = 1000;

/** Refusals whose in-flight holds are worst cases (settled usage is usually less): those can be contention. */
const HOLDS_ARE_ESTIMATES: ReadonlySet<StopCode> = new Set(['limit.cost', 'budget.exhausted', 'limit.tokens']);

/** What the ledger said about the line that did not fit. */
export interface LineRefusal {
  code: StopCode;
  limit: number;
  /** Settled usage. */
  settled: number;
  /** Held by reservations in flight. */
  reserved: number;
  requested: number;
  key: string;
  dim: string;
}

/**
 * A ledger refusal as the GuardError a caller acts on:
 * - a reserved-concurrency slot that is busy: `limit.concurrency` (429, retry after the wait); with a
 *   cap of 0 the agent or tenant is throttled for good, so the error says not to retry;
 * - a cost, budget or token limit that settled usage alone leaves room for, refused only because of
 *   other calls' holds in flight: `limit.contended` (429, retryable: the holds settle or expire);
 * - otherwise the line's own code (settled usage leaves no room: terminal for the caller).
 */
export function ledgerRefusal(r: LineRefusal, handle: RunHandle): GuardError {
  if (r.code === 'limit.concurrency') {
    const scope = r.key.slice('concurrency:'.length);
    const throttled = r.limit === 0;
    return guardError(
      'limit.concurrency',
      throttled
        ? `${scope} has a reserved concurrency of 0: its calls are throttled`
        : `${scope} already has ${r.settled + r.reserved} calls in flight (maxConcurrentCalls ${r.limit}); retry when one ends`,
      {
        limit: r.limit,
        inFlight: r.settled + r.reserved,
        scope,
        runId: handle.id,
        ...(throttled ? { retryable: false } : { retryAfterMs: CONTENTION_RETRY_AFTER_MS }),
      },
    );
  }
  if (HOLDS_ARE_ESTIMATES.has(r.code) && r.reserved > 0 && r.settled + r.requested <= r.limit) {
    const base = refusal(r.code, { limit: r.limit, used: r.settled + r.reserved, requested: r.requested, key: r.key, dim: r.dim }, handle);
    return guardError(
      'limit.contended',
      `other calls in flight hold what is left (${r.code}: ${base.message}); settled usage leaves room, so retry when they settle`,
      { ...base.details, limitCode: r.code, settled: r.dim === DIM.cost ? nanoToUsd(r.settled) : r.settled, retryAfterMs: CONTENTION_RETRY_AFTER_MS },
    );
  }
  return refusal(r.code, { limit: r.limit, used: r.settled + r.reserved, requested: r.requested, key: r.key, dim: r.dim }, handle);
}

/** Emit `budget.threshold` for every alert threshold a settlement crossed. */
export function settleThresholds(ctx: GuardContext, budgets: readonly BudgetLine[], lines: readonly SettledLine[], now: number): void {
  if (!ctx.listening || budgets.length === 0) return;
  for (const line of lines) {
    if (line.dim !== DIM.cost || !line.key.startsWith('budget:')) continue;
    const budget = budgets.find((b) => b.account === line.key);
    if (!budget) continue;
    for (const threshold of crossedThresholds(budget.alertAt, line.before, line.after, budget.limitNano)) {
      ctx.emit({
        type: 'budget.threshold',
        at: now,
        scope: budget.scope,
        period: budget.period,
        window: budget.window,
        threshold,
        usedUsd: nanoToUsd(line.after),
        limitUsd: nanoToUsd(budget.limitNano),
      });
    }
  }
}
