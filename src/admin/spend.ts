import type { Guard } from '../runtime/guard.ts';
import { budgetRows } from './budgets.ts';
import { oneOf } from './request.ts';
import { periodFor, periodRange, rangeMsOf, type PeriodRange } from './range.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const DIMENSIONS = ['tenant', 'agent', 'model'] as const;
type Dimension = (typeof DIMENSIONS)[number];
const DAY_MS = 86_400_000;

/** Sum of a metric per period for one scope; a period without calls spent nothing. */
async function sums(guard: Guard, scope: string, metric: string, range: PeriodRange): Promise<number[]> {
  const values = await guard.metrics.series({ scope, metric, statistic: 'Sum', periodMs: range.periodMs, end: range.to, count: range.count });
  return values.map((v) => v ?? 0);
}

function idsOf(guard: Guard, by: Dimension): string[] {
  if (by === 'model') return Object.keys(guard.config.models);
  if (by === 'agent') return Object.keys(guard.config.agents);
  return [...new Set([...Object.keys(guard.config.tenants), ...Object.values(guard.config.agents).map((a) => a.tenant)])];
}

function windowStart(period: 'day' | 'month', now: number): number {
  const d = new Date(now);
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * A budget's spend over the range, cumulative within its current window and anchored to the ledger:
 * the value at the end of period i is what the ledger holds now minus what the metrics saw after it.
 * So the line ends exactly at the budget's spend even when the metrics started mid-window (a restart).
 * Null before the window started.
 */
export function cumulativeSpend(usedUsd: number, costs: readonly number[], range: PeriodRange, windowFrom: number): Array<number | null> {
  const out: Array<number | null> = new Array(costs.length);
  let after = 0;
  for (let i = costs.length - 1; i >= 0; i--) {
    const end = range.times[i]! + range.periodMs;
    out[i] = end <= windowFrom ? null : Math.max(0, Math.round((usedUsd - after) * 1e9) / 1e9);
    if (range.times[i]! >= windowFrom) after += costs[i]!;
  }
  return out;
}

/**
 * Spend over time: cost and tokens per period for every tenant, agent or model (`by`), and each
 * budget's cumulative spend in its current window against its limit and alert thresholds.
 */
async function spend({ guard, query }: AdminRequest): Promise<AdminReply> {
  const by = oneOf(query, 'by', DIMENSIONS) ?? 'tenant';
  const rangeMs = rangeMsOf(query, 3_600_000, DAY_MS);
  const now = guard.clock.now();
  const range = periodRange(now, rangeMs, periodFor(rangeMs, guard.metrics.resolutionMs));
  const costOf = new Map<string, Promise<number[]>>();
  const cost = (scope: string) => {
    let hit = costOf.get(scope);
    if (!hit) costOf.set(scope, (hit = sums(guard, scope, 'cost_usd', range)));
    return hit;
  };
  const series = await Promise.all(
    idsOf(guard, by).map(async (id) => {
      const scope = `${by}:${id}`;
      const [costUsd, input, output] = await Promise.all([cost(scope), sums(guard, scope, 'input_tokens', range), sums(guard, scope, 'output_tokens', range)]);
      const tokens = input.map((v, i) => v + output[i]!);
      return { id, scope, costUsd, tokens, totalCostUsd: costUsd.reduce((a, b) => a + b, 0), totalTokens: tokens.reduce((a, b) => a + b, 0) };
    }),
  );
  const budgets = await Promise.all(
    (await budgetRows(guard)).map(async (row) => {
      const from = windowStart(row.period, now);
      // Keys have budgets but no metrics of their own: their spend shows in the table only.
      const cumulative = row.scope.startsWith('key:') ? null : cumulativeSpend(row.usedUsd, await cost(row.scope), range, from);
      return { ...row, windowStart: from, cumulative };
    }),
  );
  return { body: { by, from: range.from, to: range.to, now, periodMs: range.periodMs, times: range.times, series, budgets } };
}

export const spendRoutes: Route[] = [{ method: 'GET', pattern: 'spend', handler: spend }];
