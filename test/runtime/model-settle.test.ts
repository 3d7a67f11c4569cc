/**
 * settleSuccess / settleFailure (src/runtime/model-settle.ts) against a recording store and context:
 * what is settled, which unused rate tokens are given back, what the run counts and what is reported.
 */
import { describe, expect, it } from 'vitest';
import { guardError } from '../../src/core/errors.ts';
import { markInternal } from '../../src/core/fault.ts';
import type { GuardContext } from '../../src/runtime/context.ts';
import { settleFailure, settleSuccess } from '../../src/runtime/model-settle.ts';
import type { Reserved } from '../../src/runtime/model-types.ts';
import type { RunHandle } from '../../src/runtime/run-handle.ts';

function setup({
  listening = true,
  reservedTokens = 100,
  buckets = [
    { key: 'agent:a:tpm', amount: 100 },
    { key: 'agent:a:rpm', amount: 1 },
  ],
  settled = { ok: true, lines: [] } as unknown,
  budgets = [] as unknown[],
} = {}) {
  const events: Array<Record<string, unknown>> = [];
  const credits: unknown[] = [];
  const repeats: string[] = [];
  const ctx = {
    clock: { now: () => 5000 },
    listening,
    emit: (e: Record<string, unknown>) => events.push(e),
    store: {
      ledger: { settle: async () => settled },
      rates: { credit: async (c: unknown) => credits.push(c) },
    },
  } as unknown as GuardContext;
  const handle = {
    id: 'run-1',
    agent: { name: 'bot', limits: { maxIdenticalOutputs: 3 } },
    record: { tenant: 't1' },
    keyId: undefined,
    localSteps: 0,
    localCostNano: 10,
    ledger: { trackRepeat: async (key: string) => (repeats.push(key), 1) },
  } as unknown as RunHandle;
  const requested = { name: 'gpt' };
  const prepared = {
    requested,
    model: requested,
    price: { inputPerMTok: 1, outputPerMTok: 2 },
    charges: [],
    budgets,
    breakerTokens: [],
    reservationId: 'res-1',
    reservedTokens,
    buckets,
    startedAt: 4000,
    maxTokens: 64,
    upstreamRequestId: 'up-1',
  } as unknown as Reserved;
  return { ctx, handle, prepared, events, credits, repeats };
}

const usage = { inputTokens: 30, outputTokens: 20 };

describe('settleSuccess', () => {
  it('settles, gives back the unused tpm tokens, counts the step and its cost, reports the call', async () => {
    const { ctx, handle, prepared, events, credits, repeats } = setup();
    expect(await settleSuccess(ctx, handle, prepared, usage, 2, 'same text', true)).toBe(70_000);
    expect(credits).toEqual([[{ key: 'agent:a:tpm', amount: 50 }]]);
    expect([handle.localSteps, handle.localCostNano]).toEqual([1, 70_010]);
    expect(repeats).toEqual(['run:run-1:output']);
    expect(events).toEqual([
      {
        type: 'call.allowed',
        at: 5000,
        runId: 'run-1',
        agent: 'bot',
        tenant: 't1',
        keyId: undefined,
        action: 'invokeModel',
        resource: 'gpt',
        servedBy: undefined,
        usage,
        costUsd: 0.00007,
        latencyMs: 1000,
        attempts: 2,
        maxTokens: 64,
        streamed: true,
        upstreamRequestId: 'up-1',
      },
    ]);
  });
  it('names the model that served a fallback; reports nothing when nobody listens', async () => {
    const s = setup();
    const served = { ...s.prepared, model: { name: 'small' } } as unknown as Reserved;
    await settleSuccess(s.ctx, s.handle, served, usage, 1, undefined, false);
    expect(s.events[0]?.servedBy).toBe('small');
    const quiet = setup({ listening: false });
    await settleSuccess(quiet.ctx, quiet.handle, quiet.prepared, usage, 1, undefined, false);
    expect(quiet.events).toEqual([]);
  });
  it('gives nothing back when all reserved tokens were used, or there is no bucket', async () => {
    const full = setup({ reservedTokens: 50 });
    await settleSuccess(full.ctx, full.handle, full.prepared, usage, 1, undefined, false);
    expect(full.credits).toEqual([]);
    const none = setup({ buckets: [] });
    await settleSuccess(none.ctx, none.handle, none.prepared, usage, 1, undefined, false);
    expect(none.credits).toEqual([]);
  });
  it('judges budget thresholds only on a settlement that went through', async () => {
    const budget = { scope: 'tenant:t1', period: 'day', window: 'w', account: 'budget:t1', limitNano: 100, alertAt: [0.5] };
    const s = setup({ settled: { ok: false, reason: 'expired' }, budgets: [budget] });
    expect(await settleSuccess(s.ctx, s.handle, s.prepared, usage, 1, undefined, false)).toBe(70_000);
    expect(s.events.map((e) => e.type)).toEqual(['call.allowed']);
  });
});

describe('settleFailure', () => {
  it('counts the step, records usage that happened, reports the failure with its fault and retry denial', async () => {
    const { ctx, handle, prepared, events, credits } = setup();
    const error = guardError('upstream.error', 'boom', { retryDenied: 'budget' });
    await settleFailure(ctx, handle, prepared, error, 3, usage);
    expect([handle.localSteps, handle.localCostNano]).toEqual([1, 70_010]);
    expect(credits).toEqual([[{ key: 'agent:a:tpm', amount: 50 }]]);
    expect(events).toEqual([
      {
        type: 'call.failed',
        at: 5000,
        runId: 'run-1',
        agent: 'bot',
        tenant: 't1',
        keyId: undefined,
        action: 'invokeModel',
        resource: 'gpt',
        code: 'upstream.error',
        message: 'boom',
        usage,
        costUsd: 0.00007,
        latencyMs: 1000,
        attempts: 3,
        upstreamRequestId: 'up-1',
        retryDenied: 'budget',
      },
    ]);
  });
  it('marks an internal failure, and no retry denial when it was not the budget', async () => {
    const { ctx, handle, prepared, events } = setup();
    await settleFailure(ctx, handle, prepared, markInternal(guardError('request.invalid', 'x', { retryDenied: 'other' as never })), 1, undefined);
    expect(events[0]).toMatchObject({ internal: true, retryDenied: undefined, costUsd: 0, usage: undefined });
    const plain = setup();
    await settleFailure(plain.ctx, plain.handle, plain.prepared, guardError('upstream.error', 'x'), 1, undefined);
    expect('internal' in (plain.events[0] ?? {})).toBe(false);
    const quiet = setup({ listening: false });
    await settleFailure(quiet.ctx, quiet.handle, quiet.prepared, guardError('upstream.error', 'x'), 1, undefined);
    expect(quiet.events).toEqual([]);
  });
});
