/**
 * The ledger lines of a call (runtime/charges.ts): which accounts and dimensions a model or tool call
 * is charged on, with which limits and stop codes, what each line settles at, and how far the output
 * cap is clamped by what every budget and token limit has left.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/config/resolve.ts';
import {
  type BudgetLine,
  type ChainLink,
  clampLines,
  clampOutput,
  modelActuals,
  modelCharges,
  slotCharges,
  toolActuals,
  toolCharges,
} from '../../src/runtime/charges.ts';

const limits = (over: Partial<Limits> = {}): Limits => ({ ...DEFAULT_LIMITS, ...over });
/** 1 000 nano-USD per input token, 2 000 per output token. */
const price = { inputPerMTok: 1, outputPerMTok: 2 };
const budget: BudgetLine = {
  scope: 'tenant:acme',
  period: 'day',
  window: '2026-12-03',
  account: 'budget:tenant:acme:day:2026-12-03',
  limitNano: 50_000,
  alertAt: [],
};

describe('slotCharges: one in-flight slot per capped account', () => {
  it('both caps: the agent slot, then the tenant slot', () => {
    expect(slotCharges({ agent: 'bot', tenant: 'acme', agentCap: 2, tenantCap: 5 })).toEqual([
      { key: 'concurrency:agent:bot', dim: 'in_flight', amount: 1, limit: 2, code: 'limit.concurrency' },
      { key: 'concurrency:tenant:acme', dim: 'in_flight', amount: 1, limit: 5, code: 'limit.concurrency' },
    ]);
  });

  it('only the caps that are set, a cap of 0 included', () => {
    expect(slotCharges({ agent: 'bot', tenant: 'acme', agentCap: 0 })).toEqual([
      { key: 'concurrency:agent:bot', dim: 'in_flight', amount: 1, limit: 0, code: 'limit.concurrency' },
    ]);
    expect(slotCharges({ agent: 'bot', tenant: 'acme', tenantCap: 3 })).toEqual([
      { key: 'concurrency:tenant:acme', dim: 'in_flight', amount: 1, limit: 3, code: 'limit.concurrency' },
    ]);
    expect(slotCharges({ agent: 'bot', tenant: 'acme' })).toEqual([]);
  });
});

describe('clampLines: cost lines of every run and budget, then token lines of every run', () => {
  it('input and output token lines only where those limits are set; total always', () => {
    const chain: ChainLink[] = [
      { runId: 'child', limits: limits({ maxInputTokens: 10, maxOutputTokens: 20 }) },
      { runId: 'parent', limits: limits() },
    ];
    expect(clampLines(chain, [budget])).toEqual([
      { key: 'run:child', dim: 'cost' },
      { key: 'run:parent', dim: 'cost' },
      { key: budget.account, dim: 'cost' },
      { key: 'run:child', dim: 'input_tokens' },
      { key: 'run:child', dim: 'output_tokens' },
      { key: 'run:child', dim: 'total_tokens' },
      { key: 'run:parent', dim: 'total_tokens' },
    ]);
  });
});

describe('clampOutput', () => {
  const zero = { used: 0, reserved: 0 };

  it('an output-token limit clamps the cap to what is left of it', () => {
    // lines: cost run, input, output, total
    const chain = [{ runId: 'r', limits: limits({ maxInputTokens: 1000, maxOutputTokens: 100 }) }];
    const r = clampOutput({ chain, budgets: [], balances: [zero, zero, { used: 60, reserved: 10 }, zero], price, inputTokens: 50, wantOutputTokens: 500 });
    expect(r).toEqual({ ok: true, maxTokens: 30, costNano: 50 * 1000 + 30 * 2000, clampedBy: 'limit.tokens' });
  });

  it('a line that leaves exactly the wanted cap does not clamp', () => {
    const chain = [{ runId: 'r', limits: limits({ maxOutputTokens: 100 }) }];
    const r = clampOutput({ chain, budgets: [], balances: [zero, { used: 70, reserved: 0 }, zero], price, inputTokens: 5, wantOutputTokens: 30 });
    expect(r).toEqual({ ok: true, maxTokens: 30, costNano: 5 * 1000 + 30 * 2000, clampedBy: undefined });
  });

  it('input tokens that exactly fit what is left are admitted; one more is refused on the input line', () => {
    const chain = [{ runId: 'r', limits: limits({ maxInputTokens: 100 }) }];
    const balances = [zero, { used: 50, reserved: 10 }, zero];
    expect(clampOutput({ chain, budgets: [], balances, price, inputTokens: 40, wantOutputTokens: 7 })).toEqual({
      ok: true,
      maxTokens: 7,
      costNano: 40 * 1000 + 7 * 2000,
      clampedBy: undefined,
    });
    expect(clampOutput({ chain, budgets: [], balances, price, inputTokens: 41, wantOutputTokens: 7 })).toEqual({
      ok: false,
      code: 'limit.tokens',
      limit: 100,
      used: 60,
      requested: 41,
      key: 'run:r',
      dim: 'input_tokens',
      settled: 50,
      reserved: 10,
    });
  });

  it('the total-token limit leaves room for the input and clamps the output to the rest', () => {
    const chain = [{ runId: 'r', limits: limits({ maxTotalTokens: 1000 }) }];
    const r = clampOutput({ chain, budgets: [], balances: [zero, { used: 800, reserved: 100 }], price, inputTokens: 60, wantOutputTokens: 500 });
    expect(r).toEqual({ ok: true, maxTokens: 40, costNano: 60 * 1000 + 40 * 2000, clampedBy: 'limit.tokens' });
  });

  it('exactly one output token left is admitted with a cap of 1', () => {
    const chain = [{ runId: 'r', limits: limits({ maxTotalTokens: 1000 }) }];
    const r = clampOutput({ chain, budgets: [], balances: [zero, { used: 900, reserved: 0 }], price, inputTokens: 99, wantOutputTokens: 500 });
    expect(r).toEqual({ ok: true, maxTokens: 1, costNano: 99 * 1000 + 2000, clampedBy: 'limit.tokens' });
  });

  it('no room for the input plus one output token: refused on the total line, asking input + 1', () => {
    const chain = [{ runId: 'r', limits: limits({ maxTotalTokens: 1000 }) }];
    const r = clampOutput({ chain, budgets: [], balances: [zero, { used: 880, reserved: 20 }], price, inputTokens: 100, wantOutputTokens: 500 });
    expect(r).toEqual({
      ok: false,
      code: 'limit.tokens',
      limit: 1000,
      used: 900,
      requested: 101,
      key: 'run:r',
      dim: 'total_tokens',
      settled: 880,
      reserved: 20,
    });
  });

  it('no output token left: refused on the output line, asking 1', () => {
    const chain = [{ runId: 'r', limits: limits({ maxOutputTokens: 100 }) }];
    const r = clampOutput({ chain, budgets: [], balances: [zero, { used: 90, reserved: 10 }, zero], price, inputTokens: 10, wantOutputTokens: 50 });
    expect(r).toEqual({ ok: false, code: 'limit.tokens', limit: 100, used: 100, requested: 1, key: 'run:r', dim: 'output_tokens', settled: 90, reserved: 10 });
  });

  it('a budget that cannot pay for one output token refuses with budget.exhausted, asking the cost of input + 1', () => {
    const chain = [{ runId: 'r', limits: limits() }];
    // budget 50 000 nano, 40 000 used, 5 000 held: 5 000 left; 3 input tokens cost 3 000, one output 2 000 more.
    const balances = [zero, { used: 40_000, reserved: 5_000 }, zero];
    expect(clampOutput({ chain, budgets: [budget], balances, price, inputTokens: 3, wantOutputTokens: 10 })).toEqual({
      ok: true,
      maxTokens: 1,
      costNano: 5_000,
      clampedBy: 'budget.exhausted',
    });
    expect(clampOutput({ chain, budgets: [budget], balances, price, inputTokens: 4, wantOutputTokens: 10 })).toEqual({
      ok: false,
      code: 'budget.exhausted',
      limit: 50_000,
      used: 45_000,
      requested: 6_000,
      key: budget.account,
      dim: 'cost',
      settled: 40_000,
      reserved: 5_000,
    });
  });

  it('a line without a balance counts as unused', () => {
    const chain = [{ runId: 'r', limits: limits({ maxOutputTokens: 25 }) }];
    expect(clampOutput({ chain, budgets: [], balances: [], price, inputTokens: 10, wantOutputTokens: 100 })).toEqual({
      ok: true,
      maxTokens: 25,
      costNano: 10 * 1000 + 25 * 2000,
      clampedBy: 'limit.tokens',
    });
  });
});

describe('modelCharges and modelActuals', () => {
  const chain: ChainLink[] = [
    { runId: 'child', limits: limits({ maxSteps: 5, maxInputTokens: 100, maxOutputTokens: 200, maxTotalTokens: 250, maxCostUsd: 0.5 }) },
    { runId: 'parent', limits: limits({ maxSteps: 9, maxTotalTokens: 900, maxCostUsd: 2 }) },
  ];
  const slots = slotCharges({ agent: 'bot', tenant: 'acme', agentCap: 1 });

  it('a first attempt: a step, input, output, total and cost on every run, cost on every budget, slots last', () => {
    const charges = modelCharges({ chain, budgets: [budget], step: true, inputTokens: 30, outputTokens: 70, costNano: 170_000, slots });
    expect(charges).toEqual([
      { key: 'run:child', dim: 'steps', amount: 1, limit: 5, code: 'limit.steps' },
      { key: 'run:child', dim: 'input_tokens', amount: 30, limit: 100, code: 'limit.tokens' },
      { key: 'run:child', dim: 'output_tokens', amount: 70, limit: 200, code: 'limit.tokens' },
      { key: 'run:child', dim: 'total_tokens', amount: 100, limit: 250, code: 'limit.tokens' },
      { key: 'run:child', dim: 'cost', amount: 170_000, limit: 500_000_000, code: 'limit.cost' },
      { key: 'run:parent', dim: 'steps', amount: 1, limit: 9, code: 'limit.steps' },
      { key: 'run:parent', dim: 'input_tokens', amount: 30, limit: undefined, code: 'limit.tokens' },
      { key: 'run:parent', dim: 'output_tokens', amount: 70, limit: undefined, code: 'limit.tokens' },
      { key: 'run:parent', dim: 'total_tokens', amount: 100, limit: 900, code: 'limit.tokens' },
      { key: 'run:parent', dim: 'cost', amount: 170_000, limit: 2_000_000_000, code: 'limit.cost' },
      { key: budget.account, dim: 'cost', amount: 170_000, limit: 50_000, code: 'budget.exhausted' },
      { key: 'concurrency:agent:bot', dim: 'in_flight', amount: 1, limit: 1, code: 'limit.concurrency' },
    ]);
    // Settled: the step as counted, the actual tokens and cost, the slot released.
    expect(modelActuals(charges, { inputTokens: 25, outputTokens: 40, costNano: 105_000 })).toEqual([
      1, 25, 40, 65, 105_000, 1, 25, 40, 65, 105_000, 105_000, 0,
    ]);
  });

  it('a retry counts no step, and without slots there are none', () => {
    const charges = modelCharges({ chain: chain.slice(0, 1), budgets: [], step: false, inputTokens: 3, outputTokens: 4, costNano: 11 });
    expect(charges.map((c) => `${c.key} ${c.dim} ${c.amount}`)).toEqual([
      'run:child input_tokens 3',
      'run:child output_tokens 4',
      'run:child total_tokens 7',
      'run:child cost 11',
    ]);
    expect(modelActuals(charges, { inputTokens: 2, outputTokens: 5, costNano: 9 })).toEqual([2, 5, 7, 9]);
  });
});

describe('toolCharges and toolActuals', () => {
  const chain: ChainLink[] = [
    { runId: 'child', limits: limits({ maxToolCalls: 4, maxToolCallsPerTool: { default: 2, byTool: { search: 3 } }, maxIdenticalToolCalls: 2 }) },
    { runId: 'parent', limits: limits({ maxToolCalls: 8, maxToolCallsPerTool: { default: 6, byTool: {} }, maxIdenticalToolCalls: 5 }) },
  ];

  it('counts on every run, the identical-call counter on the calling run only, slots last', () => {
    const slots = slotCharges({ agent: 'bot', tenant: 'acme', tenantCap: 7 });
    const charges = toolCharges({ chain, tool: 'search', callFingerprint: 'fp1', slots });
    expect(charges).toEqual([
      { key: 'run:child', dim: 'tool_calls', amount: 1, limit: 4, code: 'limit.tool_calls' },
      { key: 'run:child', dim: 'tool:search', amount: 1, limit: 3, code: 'limit.tool_calls' },
      { key: 'run:child', dim: 'call:fp1', amount: 1, limit: 2, code: 'loop.repeated_tool_call' },
      { key: 'run:parent', dim: 'tool_calls', amount: 1, limit: 8, code: 'limit.tool_calls' },
      { key: 'run:parent', dim: 'tool:search', amount: 1, limit: 6, code: 'limit.tool_calls' },
      { key: 'concurrency:tenant:acme', dim: 'in_flight', amount: 1, limit: 7, code: 'limit.concurrency' },
    ]);
    // Each count settles as reserved; the slot is released.
    expect(toolActuals(charges)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it('without slots, only the counts', () => {
    expect(toolCharges({ chain: chain.slice(0, 1), tool: 'fetch', callFingerprint: 'fp2' }).map((c) => `${c.dim} ${c.limit}`)).toEqual([
      'tool_calls 4',
      'tool:fetch 2',
      'call:fp2 2',
    ]);
  });
});
