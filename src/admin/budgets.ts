import type { BudgetConfig } from '../config/schema.ts';
import { nanoToUsd, usdToNano } from '../core/money.ts';
import { windowEnd, windowId } from '../core/periods.ts';
import { keyStatus } from '../runtime/api-keys.ts';
import { DIM } from '../runtime/charges.ts';
import type { Guard } from '../runtime/guard.ts';
import { accounts } from '../store/store.ts';
import { adjustBudget } from '../runtime/budget-adjust.ts';
import { invalid, optionalString, readJsonObject } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

interface BudgetRow {
  /** `tenant:acme`, `agent:bot`, `key:<key id>` (the ledger's scope names; never the key itself). */
  scope: string;
  period: 'day' | 'month';
  window: string;
  resetsAt: string;
  limitUsd: number;
  usedUsd: number;
  reservedUsd: number;
  /** Settled spend as a percentage of the limit. */
  percentUsed: number;
  /** Settled plus held by calls in flight. */
  percentCommitted: number;
  alertAt: readonly number[];
}

/** Every configured budget, in config order: tenants, then agents, then their keys; then the keys minted at run time that still work. */
async function configured(guard: Guard): Promise<Array<{ scope: string; budget: BudgetConfig }>> {
  const out: Array<{ scope: string; budget: BudgetConfig }> = [];
  for (const tenant of Object.values(guard.config.tenants)) for (const budget of tenant.budgets) out.push({ scope: `tenant:${tenant.name}`, budget });
  for (const agent of Object.values(guard.config.agents)) {
    for (const budget of agent.budgets) out.push({ scope: `agent:${agent.name}`, budget });
    for (const key of agent.keys) for (const budget of key.budgets) out.push({ scope: `key:${key.id}`, budget });
  }
  const now = guard.clock.now();
  for (const key of await guard.store.apiKeys.list()) {
    if (keyStatus(key, now) !== 'active') continue;
    for (const budget of key.budgets) out.push({ scope: `key:${key.id}`, budget });
  }
  return out;
}

const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 100 : part > 0 ? 100 : 0);

/** The current window of each budget: one ledger read for all of them. */
export async function budgetRows(guard: Guard): Promise<BudgetRow[]> {
  const now = guard.clock.now();
  const lines = (await configured(guard)).map(({ scope, budget }) => {
    const window = windowId(budget.period, now);
    return { scope, budget, window, key: accounts.budget(scope, budget.period, window) };
  });
  const balances = lines.length
    ? await guard.store.ledger.balances(
        lines.map((l) => ({ key: l.key, dim: DIM.cost })),
        now,
      )
    : [];
  return lines.map(({ scope, budget, window }, i) => {
    const limit = usdToNano(budget.maxCostUsd);
    const { used, reserved } = balances[i] ?? { used: 0, reserved: 0 };
    return {
      scope,
      period: budget.period,
      window,
      resetsAt: new Date(windowEnd(budget.period, now)).toISOString(),
      limitUsd: budget.maxCostUsd,
      usedUsd: nanoToUsd(used),
      reservedUsd: nanoToUsd(reserved),
      percentUsed: percent(used, limit),
      percentCommitted: percent(used + reserved, limit),
      alertAt: budget.alertAt ?? [0.5, 0.8, 1],
    };
  });
}

async function list({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { budgets: await budgetRows(guard) } };
}

function periodOf(value: unknown): 'day' | 'month' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'day' && value !== 'month') throw invalid('period: expected "day" or "month"', 'period');
  return value;
}

/** `POST /admin/budgets/adjust` `{ scope, deltaUsd, period?, by?, reason? }` and `/reset` `{ scope, period?, by?, reason? }`: audited. */
function change(reset: boolean) {
  return async ({ guard, req }: AdminRequest): Promise<AdminReply> => {
    const body = await readJsonObject(req);
    if (typeof body.scope !== 'string') throw invalid('scope: expected tenant:<name>, agent:<name> or key:<key id>', 'scope');
    if (!reset && typeof body.deltaUsd !== 'number') throw invalid('deltaUsd: expected an amount in USD (negative to credit)', 'deltaUsd');
    const budgets = await adjustBudget(
      { store: guard.store, config: guard.config, audit: guard.audit, now: guard.clock.now() },
      {
        scope: body.scope,
        period: periodOf(body.period),
        reset,
        deltaUsd: reset ? undefined : (body.deltaUsd as number),
        by: optionalString(body, 'by', 200) ?? 'admin',
        reason: optionalString(body, 'reason'),
      },
    );
    return { body: { budgets } };
  };
}

export const budgetRoutes: Route[] = [
  { method: 'GET', pattern: 'budgets', handler: list },
  { method: 'POST', pattern: 'budgets/adjust', handler: change(false) },
  { method: 'POST', pattern: 'budgets/reset', handler: change(true) },
];
