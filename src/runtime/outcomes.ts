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
