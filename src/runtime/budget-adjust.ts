import type { AuditLog } from '../audit/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import { guardError } from '../core/errors.ts';
import { nanoToUsd, usdToNano } from '../core/money.ts';
import { windowId } from '../core/periods.ts';
import { accounts, type Store } from '../store/store.ts';
import { DIM } from './charges.ts';

export interface BudgetAdjustment {
  /** `tenant:<name>`, `agent:<name>` or `key:<key id>`. */
  scope: string;
  /** Default: every period the scope has a budget for. */
  period?: 'day' | 'month';
  /** USD to add to the current window's spend (negative credits it back); absent with `reset`. */
  deltaUsd?: number;
  /** Set the current window's spend to 0. */
  reset?: boolean;
  /** Who did it (the audit log records it). */
  by: string;
  reason?: string;
}

export interface AdjustedBudget {
  scope: string;
  period: 'day' | 'month';
  window: string;
  beforeUsd: number;
  afterUsd: number;
}

/** The periods a scope has budgets for in the config (a minted key's `key:` scope may have its own). */
function periodsOf(config: FmguardConfig, scope: string): Array<'day' | 'month'> | undefined {
  const [kind, name = ''] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1)];
  if (kind === 'tenant') return config.tenants[name]?.budgets.map((b) => b.period);
  if (kind === 'agent') return config.agents[name]?.budgets.map((b) => b.period);
  if (kind === 'key') {
    for (const agent of Object.values(config.agents)) for (const key of agent.keys) if (key.id === name) return key.budgets.map((b) => b.period);
    return ['day', 'month'];
  }
  return undefined;
}

/**
 * `fmguard budgets adjust|reset` and `POST /admin/budgets/{adjust,reset}`: an operator's correction of
 * the current window of a periodic budget, atomic in the store, and audited (`admin.action`).
 */
export async function adjustBudget(
  parts: { store: Store; config: FmguardConfig; audit?: AuditLog; now: number },
  change: BudgetAdjustment,
): Promise<AdjustedBudget[]> {
  const { scope } = change;
  if (!/^(tenant|agent|key):.+$/.test(scope))
    throw guardError('request.invalid', `scope: expected tenant:<name>, agent:<name> or key:<key id>, got "${scope}"`, { param: 'scope' });
  const known = periodsOf(parts.config, scope);
  if (!known)
    throw guardError('request.invalid', `scope: no ${scope.split(':')[0]} "${scope.slice(scope.indexOf(':') + 1)}" in the config`, { param: 'scope' });
  const periods = change.period ? [change.period] : [...new Set(known)];
  if (periods.length === 0) throw guardError('request.invalid', `scope: ${scope} has no budget (give --period to adjust one anyway)`, { param: 'scope' });
  if (!change.reset && (typeof change.deltaUsd !== 'number' || !Number.isFinite(change.deltaUsd))) {
    throw guardError('request.invalid', 'deltaUsd: expected an amount in USD (negative to credit)', { param: 'deltaUsd' });
  }
  const out: AdjustedBudget[] = [];
  for (const period of periods) {
    const window = windowId(period, parts.now);
    const key = accounts.budget(scope, period, window);
    const delta = change.reset ? -Number.MAX_SAFE_INTEGER : Math.sign(change.deltaUsd!) * usdToNano(Math.abs(change.deltaUsd!));
    const { before, after } = await parts.store.ledger.adjust(key, DIM.cost, delta);
    const row = { scope, period, window, beforeUsd: nanoToUsd(before), afterUsd: nanoToUsd(after) };
    out.push(row);
    parts.audit?.record({
      type: 'admin.action',
      time: parts.now,
      action: change.reset ? 'budget.reset' : 'budget.adjust',
      resource: scope,
      details: { ...row, by: change.by, ...(change.reason ? { reason: change.reason } : {}), ...(change.reset ? {} : { deltaUsd: change.deltaUsd }) },
    });
  }
  return out;
}
