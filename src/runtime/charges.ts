import type { StopCode } from '../core/codes.ts';
import { usdToNano } from '../core/money.ts';
import { affordableOutputTokens, costNano, type Price } from '../core/pricing.ts';
import type { Limits } from '../config/resolve.ts';
import type { Balance, Charge } from '../store/store.ts';
import { accounts } from '../store/store.ts';

/**
 * What one call is charged against, and how much: pure functions from limits, budgets and balances
 * to ledger charges. The run and every ancestor run each get their own lines (a sub-run's usage counts
 * against every ancestor), and every periodic budget gets a cost line.
 */

export interface ChainLink {
  runId: string;
  limits: Limits;
}

export interface BudgetLine {
  /** `tenant:acme`, `agent:bot`, `key:key_abc`. */
  scope: string;
  period: 'day' | 'month';
  window: string;
  account: string;
  limitNano: number;
  alertAt: readonly number[];
}

export const DIM = {
  steps: 'steps',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  totalTokens: 'total_tokens',
  cost: 'cost',
  toolCalls: 'tool_calls',
  tool: (name: string) => `tool:${name}`,
  call: (fp: string) => `call:${fp}`,
  /** A reserved-concurrency slot: held while the call is in flight, settled at 0 (released) on every exit. */
  inFlight: 'in_flight',
} as const;

/** Who holds reserved concurrency: the agent's and its tenant's caps (`maxConcurrentCalls`). */
export interface SlotOwner {
  agent: string;
  tenant: string;
  agentCap?: number;
  tenantCap?: number;
}

/**
 * One in-flight slot on each capped account (Lambda reserved concurrency, shared by every replica
 * through the ledger). They go last in a reservation, so a call that also breaks a cost or step
 * limit is refused for that (terminal), not for a busy slot (retryable). A crashed replica's slots
 * come back when the reservation expires (`defaults.reservationTtlMs`, the lease).
 */
export function slotCharges(owner: SlotOwner): Charge[] {
  const out: Charge[] = [];
  if (owner.agentCap !== undefined)
    out.push({ key: `concurrency:agent:${owner.agent}`, dim: DIM.inFlight, amount: 1, limit: owner.agentCap, code: 'limit.concurrency' });
  if (owner.tenantCap !== undefined)
    out.push({ key: `concurrency:tenant:${owner.tenant}`, dim: DIM.inFlight, amount: 1, limit: owner.tenantCap, code: 'limit.concurrency' });
  return out;
}

/** A ledger line with the limit it is checked against. */
interface Line {
  key: string;
  dim: string;
  limit: number;
  code: StopCode;
}

function costLines(chain: readonly ChainLink[], budgets: readonly BudgetLine[]): Line[] {
  const lines: Line[] = chain.map((link) => ({ key: accounts.run(link.runId), dim: DIM.cost, limit: usdToNano(link.limits.maxCostUsd), code: 'limit.cost' }));
  for (const b of budgets) lines.push({ key: b.account, dim: DIM.cost, limit: b.limitNano, code: 'budget.exhausted' });
  return lines;
}

function tokenLines(chain: readonly ChainLink[]): Array<Line & { kind: 'input' | 'output' | 'total' }> {
  const lines: Array<Line & { kind: 'input' | 'output' | 'total' }> = [];
  for (const link of chain) {
    const key = accounts.run(link.runId);
    const l = link.limits;
    if (l.maxInputTokens !== undefined) lines.push({ key, dim: DIM.inputTokens, limit: l.maxInputTokens, code: 'limit.tokens', kind: 'input' });
    if (l.maxOutputTokens !== undefined) lines.push({ key, dim: DIM.outputTokens, limit: l.maxOutputTokens, code: 'limit.tokens', kind: 'output' });
    lines.push({ key, dim: DIM.totalTokens, limit: l.maxTotalTokens, code: 'limit.tokens', kind: 'total' });
  }
  return lines;
}

/** The (key, dim) pairs whose balances decide how far a model call's output may be clamped. */
export function clampLines(chain: readonly ChainLink[], budgets: readonly BudgetLine[]): Array<{ key: string; dim: string }> {
  return [...costLines(chain, budgets), ...tokenLines(chain)].map(({ key, dim }) => ({ key, dim }));
}

export interface ClampInput {
  chain: readonly ChainLink[];
  budgets: readonly BudgetLine[];
  /** Balances for `clampLines(chain, budgets)`, in that order. */
  balances: readonly Balance[];
  price: Price;
  inputTokens: number;
  /** The cap before budgets: min(request, per-call cap, model max). */
  wantOutputTokens: number;
}

export type ClampResult =
  | { ok: true; maxTokens: number; costNano: number; clampedBy?: StopCode }
  | { ok: false; code: StopCode; limit: number; used: number; requested: number; key: string; dim: string; settled: number; reserved: number };

/**
 * Clamp the output cap to what every remaining budget and token limit can pay for (decision step 5, ARCHITECTURE.md).
 * Refuses when not even one output token fits, naming the line that binds.
 */
export function clampOutput({ chain, budgets, balances, price, inputTokens, wantOutputTokens }: ClampInput): ClampResult {
  let maxTokens = wantOutputTokens;
  let clampedBy: StopCode | undefined;
  let binding: { line: Line; balance: Balance; requested: number } | undefined;
  const lines = [...costLines(chain, budgets), ...tokenLines(chain)];
  lines.forEach((line, i) => {
    const balance = balances[i] ?? { used: 0, reserved: 0 };
    const remaining = line.limit - balance.used - balance.reserved;
    let fits: number;
    if (line.dim === DIM.cost) fits = affordableOutputTokens(price, inputTokens, remaining);
    else if (line.dim === DIM.inputTokens) fits = inputTokens <= remaining ? Number.MAX_SAFE_INTEGER : -1;
    else if (line.dim === DIM.outputTokens) fits = remaining;
    else fits = remaining - inputTokens;
    if (fits < maxTokens) {
      maxTokens = Math.max(fits, 0);
      clampedBy = line.code;
      const requested =
        line.dim === DIM.cost
          ? costNano(price, { inputTokens, outputTokens: 1 })
          : line.dim === DIM.outputTokens
            ? 1
            : inputTokens + (line.dim === DIM.totalTokens ? 1 : 0);
      binding = { line, balance, requested };
    }
  });
  if (maxTokens < 1 && binding) {
    return {
      ok: false,
      code: binding.line.code,
      limit: binding.line.limit,
      used: binding.balance.used + binding.balance.reserved,
      requested: binding.requested,
      key: binding.line.key,
      dim: binding.line.dim,
      settled: binding.balance.used,
      reserved: binding.balance.reserved,
    };
  }
  return { ok: true, maxTokens, costNano: costNano(price, { inputTokens, outputTokens: maxTokens }), clampedBy };
}

export interface ModelChargeInput {
  chain: readonly ChainLink[];
  budgets: readonly BudgetLine[];
  /** Count a step (first attempt of a call) or not (a retry). */
  step: boolean;
  inputTokens: number;
  outputTokens: number;
  costNano: number;
  /** Reserved-concurrency slots (`slotCharges`), appended last. */
  slots?: readonly Charge[];
}

/** Ledger charges for one model-call attempt; settle with `modelActuals` in the same order. */
export function modelCharges({ chain, budgets, step, inputTokens, outputTokens, costNano: cost, slots }: ModelChargeInput): Charge[] {
  const charges: Charge[] = [];
  for (const link of chain) {
    const key = accounts.run(link.runId);
    const l = link.limits;
    if (step) charges.push({ key, dim: DIM.steps, amount: 1, limit: l.maxSteps, code: 'limit.steps' });
    charges.push({ key, dim: DIM.inputTokens, amount: inputTokens, limit: l.maxInputTokens, code: 'limit.tokens' });
    charges.push({ key, dim: DIM.outputTokens, amount: outputTokens, limit: l.maxOutputTokens, code: 'limit.tokens' });
    charges.push({ key, dim: DIM.totalTokens, amount: inputTokens + outputTokens, limit: l.maxTotalTokens, code: 'limit.tokens' });
    charges.push({ key, dim: DIM.cost, amount: cost, limit: usdToNano(l.maxCostUsd), code: 'limit.cost' });
  }
  for (const b of budgets) charges.push({ key: b.account, dim: DIM.cost, amount: cost, limit: b.limitNano, code: 'budget.exhausted' });
  if (slots) charges.push(...slots);
  return charges;
}

/** Actual amounts for `modelCharges` lines. */
export function modelActuals(charges: readonly Charge[], actual: { inputTokens: number; outputTokens: number; costNano: number }): number[] {
  return charges.map((c) => {
    switch (c.dim) {
      case DIM.steps:
        return c.amount;
      case DIM.inputTokens:
        return actual.inputTokens;
      case DIM.outputTokens:
        return actual.outputTokens;
      case DIM.totalTokens:
        return actual.inputTokens + actual.outputTokens;
      case DIM.inFlight:
        return 0;
      default:
        return actual.costNano;
    }
  });
}

export interface ToolChargeInput {
  chain: readonly ChainLink[];
  tool: string;
  /** Fingerprint of (tool, canonical arguments), for the repeated-call detector. */
  callFingerprint: string;
  /** Reserved-concurrency slots (`slotCharges`), appended last. */
  slots?: readonly Charge[];
}

/** Ledger charges for one tool call: total and per-tool call counts, and the identical-call counter. */
export function toolCharges({ chain, tool, callFingerprint, slots }: ToolChargeInput): Charge[] {
  const charges: Charge[] = [];
  for (const [i, link] of chain.entries()) {
    const key = accounts.run(link.runId);
    const l = link.limits;
    charges.push({ key, dim: DIM.toolCalls, amount: 1, limit: l.maxToolCalls, code: 'limit.tool_calls' });
    const perTool = l.maxToolCallsPerTool.byTool[tool] ?? l.maxToolCallsPerTool.default;
    charges.push({ key, dim: DIM.tool(tool), amount: 1, limit: perTool, code: 'limit.tool_calls' });
    // Repetition is judged within the run that makes the call only.
    if (i === 0) charges.push({ key, dim: DIM.call(callFingerprint), amount: 1, limit: l.maxIdenticalToolCalls, code: 'loop.repeated_tool_call' });
  }
  if (slots) charges.push(...slots);
  return charges;
}

/** Actual amounts for `toolCharges` lines: each count as reserved, the in-flight slots released. */
export function toolActuals(charges: readonly Charge[]): number[] {
  return charges.map((c) => (c.dim === DIM.inFlight ? 0 : c.amount));
}
