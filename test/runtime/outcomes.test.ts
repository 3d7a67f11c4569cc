/**
 * Ledger refusals as the GuardErrors a caller reads (runtime/outcomes.ts): the message per stop code,
 * money in USD, the scope and period of a budget, busy or throttled concurrency slots, contention by
 * holds in flight, and the budget alert thresholds a settlement crosses.
 */
import { describe, expect, it } from 'vitest';
import type { StopCode } from '../../src/core/codes.ts';
import type { BudgetLine } from '../../src/runtime/charges.ts';
import type { GuardContext } from '../../src/runtime/context.ts';
import { type LineRefusal, ledgerRefusal, refusal, settleThresholds } from '../../src/runtime/outcomes.ts';
import type { RunHandle } from '../../src/runtime/run-handle.ts';

const handle = { id: 'r1@planner' } as RunHandle;
const BUDGET_KEY = 'budget:tenant:acme:day:2026-12-03';

describe('refusal', () => {
  it('states a run cost limit in USD: 4 decimals from a cent up, 3 significant digits below', () => {
    const e = refusal('limit.cost', { limit: 2_000_000_000, used: 1_234_560_000, requested: 1_234_000, key: 'run:r1@planner', dim: 'cost' }, handle);
    expect(e.code).toBe('limit.cost');
    expect(e.message).toBe("the run's cost limit cannot pay for this call (limit $2.0000, used $1.2346, this call needs at least $0.00123)");
    expect(e.details).toEqual({ limit: 2, used: 1.23456, requested: 0.001234, scope: 'run:r1@planner', runId: 'r1@planner' });
  });

  it('names the scope and period of a budget', () => {
    const e = refusal('budget.exhausted', { limit: 50_000_000, used: 40_000_000, requested: 20_000_000, key: BUDGET_KEY, dim: 'cost' }, handle);
    expect(e.code).toBe('budget.exhausted');
    expect(e.message).toBe('the tenant:acme day budget cannot pay for this call (limit $0.0500, used $0.0400, this call needs at least $0.0200)');
    expect(e.details).toEqual({ limit: 0.05, used: 0.04, requested: 0.02, scope: 'tenant:acme', runId: 'r1@planner' });
  });

  it('leaves the period out when the key is not a budget account', () => {
    const e = refusal('budget.exhausted', { limit: 50_000_000, used: 40_000_000, requested: 20_000_000, key: 'run:r1@planner', dim: 'cost' }, handle);
    expect(e.message).toBe('the run:r1@planner  budget cannot pay for this call (limit $0.0500, used $0.0400, this call needs at least $0.0200)');
    expect(e.details.scope).toBe('run:r1@planner');
  });

  it('states counts as plain numbers, without the requested amount in the message', () => {
    const e = refusal('limit.tokens', { limit: 1000, used: 900, requested: 200, key: 'run:r1@planner', dim: 'total_tokens' }, handle);
    expect(e.message).toBe("the run's token limit cannot fit this call (limit 1000, used 900)");
    expect(e.details).toEqual({ limit: 1000, used: 900, requested: 200, scope: 'run:r1@planner', runId: 'r1@planner' });
  });

  it.each([
    ['limit.steps', 'the run has taken its maximum number of steps (limit 5, used 5)'],
    ['limit.tool_calls', 'the run has made its maximum number of tool calls (limit 5, used 5)'],
    ['loop.repeated_tool_call', 'the same tool call with the same arguments was repeated too often (limit 5, used 5)'],
    ['limit.concurrency', 'limit.concurrency (limit 5, used 5)'],
  ] as [StopCode, string][])('%s has its own message', (code, message) => {
    const e = refusal(code, { limit: 5, used: 5, requested: 1, key: 'run:r1@planner', dim: 'steps' }, handle);
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
  });
});

const line = (over: Partial<LineRefusal>): LineRefusal => ({
  code: 'limit.cost',
  limit: 100_000_000,
  settled: 40_000_000,
  reserved: 50_000_000,
  requested: 30_000_000,
  key: 'run:r1@planner',
  dim: 'cost',
  ...over,
});

describe('ledgerRefusal', () => {
  it('a busy concurrency slot: limit.concurrency, retry after a second', () => {
    const e = ledgerRefusal(
      line({ code: 'limit.concurrency', limit: 3, settled: 1, reserved: 2, requested: 1, key: 'concurrency:agent:planner', dim: 'slots' }),
      handle,
    );
    expect(e.code).toBe('limit.concurrency');
    expect(e.message).toBe('agent:planner already has 3 calls in flight (maxConcurrentCalls 3); retry when one ends');
    expect(e.details).toEqual({ limit: 3, inFlight: 3, scope: 'agent:planner', runId: 'r1@planner', retryAfterMs: 1000 });
  });

  it('a reserved concurrency of 0: throttled, not retryable', () => {
    const e = ledgerRefusal(
      line({ code: 'limit.concurrency', limit: 0, settled: 0, reserved: 0, requested: 1, key: 'concurrency:agent:planner', dim: 'slots' }),
      handle,
    );
    expect(e.code).toBe('limit.concurrency');
    expect(e.message).toBe('agent:planner has a reserved concurrency of 0: its calls are throttled');
    expect(e.details).toEqual({ limit: 0, inFlight: 0, scope: 'agent:planner', runId: 'r1@planner', retryable: false });
  });

  it('a cost limit that settled usage leaves room for: limit.contended, with the settled amount in USD', () => {
    const e = ledgerRefusal(line({}), handle);
    expect(e.code).toBe('limit.contended');
    expect(e.message).toBe(
      "other calls in flight hold what is left (limit.cost: the run's cost limit cannot pay for this call (limit $0.1000, used $0.0900, this call needs at least $0.0300)); settled usage leaves room, so retry when they settle",
    );
    expect(e.details).toEqual({
      limit: 0.1,
      used: 0.09,
      requested: 0.03,
      scope: 'run:r1@planner',
      runId: 'r1@planner',
      limitCode: 'limit.cost',
      settled: 0.04,
      retryAfterMs: 1000,
    });
  });

  it('settled usage plus the request exactly at the limit is still contention', () => {
    expect(ledgerRefusal(line({ settled: 70_000_000, reserved: 1, requested: 30_000_000 }), handle).code).toBe('limit.contended');
  });

  it('a budget and a token limit can be contended too; token counts stay plain', () => {
    expect(ledgerRefusal(line({ code: 'budget.exhausted', key: BUDGET_KEY }), handle).code).toBe('limit.contended');
    const e = ledgerRefusal(line({ code: 'limit.tokens', limit: 1000, settled: 500, reserved: 400, requested: 200, dim: 'total_tokens' }), handle);
    expect(e.code).toBe('limit.contended');
    expect(e.details).toMatchObject({ limitCode: 'limit.tokens', settled: 500, used: 900, limit: 1000 });
  });

  it('no holds in flight: the line’s own code', () => {
    const e = ledgerRefusal(line({ settled: 70_000_000, reserved: 0, requested: 30_000_000 }), handle);
    expect(e.code).toBe('limit.cost');
    expect(e.details).toEqual({ limit: 0.1, used: 0.07, requested: 0.03, scope: 'run:r1@planner', runId: 'r1@planner' });
  });

  it('settled usage alone leaves no room: the line’s own code, used counting the holds', () => {
    const e = ledgerRefusal(line({ settled: 80_000_000, reserved: 10_000_000, requested: 30_000_000 }), handle);
    expect(e.code).toBe('limit.cost');
    expect(e.details).toEqual({ limit: 0.1, used: 0.09, requested: 0.03, scope: 'run:r1@planner', runId: 'r1@planner' });
  });

  it('a count limit whose holds are exact is never contention', () => {
    const e = ledgerRefusal(line({ code: 'limit.steps', limit: 5, settled: 2, reserved: 3, requested: 1, dim: 'steps' }), handle);
    expect(e.code).toBe('limit.steps');
    expect(e.details).toEqual({ limit: 5, used: 5, requested: 1, scope: 'run:r1@planner', runId: 'r1@planner' });
  });
});

describe('settleThresholds', () => {
  const budget = (scope: string, account: string): BudgetLine => ({ scope, period: 'day', window: '2026-12-03', account, limitNano: 100, alertAt: [0.5, 0.8] });
  const acme = budget('tenant:acme', BUDGET_KEY);
  const bot = budget('agent:bot', 'budget:agent:bot:day:2026-12-03');
  const context = (listening: boolean) => {
    const events: unknown[] = [];
    return { events, ctx: { listening, emit: (e: unknown) => events.push(e) } as unknown as GuardContext };
  };

  it('emits budget.threshold for each threshold a settlement crossed, for the budget of that line', () => {
    const { events, ctx } = context(true);
    settleThresholds(ctx, [bot, acme], [{ key: BUDGET_KEY, dim: 'cost', before: 40, after: 85 }], 1234);
    expect(events).toEqual([
      { type: 'budget.threshold', at: 1234, scope: 'tenant:acme', period: 'day', window: '2026-12-03', threshold: 0.5, usedUsd: 85e-9, limitUsd: 100e-9 },
      { type: 'budget.threshold', at: 1234, scope: 'tenant:acme', period: 'day', window: '2026-12-03', threshold: 0.8, usedUsd: 85e-9, limitUsd: 100e-9 },
    ]);
  });

  it('emits nothing when nobody listens', () => {
    const { events, ctx } = context(false);
    settleThresholds(ctx, [acme], [{ key: BUDGET_KEY, dim: 'cost', before: 40, after: 85 }], 1234);
    expect(events).toEqual([]);
  });

  it('skips lines that are not a budget’s cost, or whose budget is not in the call', () => {
    const { events, ctx } = context(true);
    settleThresholds(
      ctx,
      [acme],
      [
        { key: BUDGET_KEY, dim: 'total_tokens', before: 40, after: 85 },
        { key: 'budget:agent:other:day:2026-12-03', dim: 'cost', before: 40, after: 85 },
      ],
      1234,
    );
    expect(events).toEqual([]);
  });
});
