import type { BucketSpec } from '../store/store.ts';
import { settleFor } from './local-ledger.ts';
import type { Usage } from '../core/chat.ts';
import { fastHash } from '../core/canonical-json.ts';
import { guardError, type GuardError } from '../core/errors.ts';
import { faultOf } from '../core/fault.ts';
import { nanoToUsd } from '../core/money.ts';
import { costNano } from '../core/pricing.ts';
import { modelActuals } from './charges.ts';
import type { GuardContext } from './context.ts';
import { modelSubject } from './model-admission.ts';
import { recordBreakers } from './model-breakers.ts';
import type { Reserved } from './model-types.ts';
import { settleThresholds } from './outcomes.ts';
import type { RunHandle } from './run-handle.ts';

/** Usage when the upstream reported none: the input bound and what was counted of the output. */
export function fallbackUsage(prepared: Reserved, outputTokens: number): Usage {
  return { inputTokens: prepared.inputTokens, outputTokens: Math.min(outputTokens, prepared.maxTokens) };
}

/** Step 10 after a success: settle, credit rate tokens, events, then the no-progress detector. Returns the cost. */
export async function settleSuccess(
  ctx: GuardContext,
  handle: RunHandle,
  prepared: Reserved,
  usage: Usage,
  attempts: number,
  outKey: string | undefined,
  streamed: boolean,
): Promise<number> {
  const now = ctx.clock.now();
  const cost = costNano(prepared.price, usage);
  const settled = await settleStep(ctx, handle, prepared, usage, cost, now);
  await recordBreakers(ctx, prepared.breakerTokens, 'success');
  if (settled.ok) settleThresholds(ctx, prepared.budgets, settled.lines, now);
  if (ctx.listening) {
    ctx.emit({
      type: 'call.allowed',
      at: now,
      ...modelSubject(handle, prepared.requested.name),
      servedBy: prepared.model !== prepared.requested ? prepared.model.name : undefined,
      usage,
      costUsd: nanoToUsd(cost),
      latencyMs: now - prepared.startedAt,
      attempts,
      maxTokens: prepared.maxTokens,
      streamed,
      upstreamRequestId: prepared.upstreamRequestId,
    });
  }
  // Repeated tool calls are judged by the more specific repeated-call detector; this one watches text.
  if (outKey === undefined) return cost;
  const repeats = await handle.ledger.trackRepeat(`run:${handle.id}:output`, fastHash(outKey));
  const limit = handle.agent.limits.maxIdenticalOutputs;
  // `maxIdenticalOutputs: N` allows N identical outputs in a row and stops at the (N+1)th, as every limit does.
  if (repeats > limit) {
    // The provider generated (and billed) this response before it could be judged: it is charged, and the stop says so.
    const costUsd = nanoToUsd(cost);
    const error = guardError(
      'loop.no_progress',
      `the model returned the same output ${repeats} times in a row (limit ${limit}); this response was generated and charged ($${costUsd}) but is not returned`,
      { limit, used: repeats, runId: handle.id, charged: true, chargedUsd: costUsd },
    );
    await ctx.stopRun(handle, error);
    throw error;
  }
  return cost;
}

/** The token buckets' unused tokens (estimate minus actual), to give back with the settlement. */
function unusedCredit(prepared: Reserved, usedTokens: number): BucketSpec[] {
  const unused = prepared.reservedTokens - usedTokens;
  if (unused <= 0 || prepared.buckets.length === 0) return [];
  const out: BucketSpec[] = [];
  for (const b of prepared.buckets) if (b.key.endsWith(':tpm')) out.push({ ...b, amount: unused });
  return out;
}

/**
 * The reservation settled at what was used, unused rate tokens given back (one store operation where
 * the store has it), and the step and its cost counted on the run.
 */
async function settleStep(ctx: GuardContext, handle: RunHandle, prepared: Reserved, used: Usage, cost: number, now: number) {
  const settled = await settleFor(
    ctx.store,
    handle.ledger,
    {
      id: prepared.reservationId,
      actual: modelActuals(prepared.charges, { inputTokens: used.inputTokens, outputTokens: used.outputTokens, costNano: cost }),
      now,
    },
    unusedCredit(prepared, used.inputTokens + used.outputTokens),
  );
  handle.localSteps++;
  handle.localCostNano += cost;
  return settled;
}

/** Step 10 after a failure: keep the step (it was taken), record any usage that happened, report. */
export async function settleFailure(
  ctx: GuardContext,
  handle: RunHandle,
  prepared: Reserved,
  error: GuardError,
  attempts: number,
  usage: Usage | undefined,
): Promise<void> {
  const now = ctx.clock.now();
  const used = usage ?? { inputTokens: 0, outputTokens: 0 };
  const cost = usage ? costNano(prepared.price, usage) : 0;
  await settleStep(ctx, handle, prepared, used, cost, now);
  await recordBreakers(ctx, prepared.breakerTokens, error);
  if (ctx.listening) {
    ctx.emit({
      type: 'call.failed',
      at: now,
      ...modelSubject(handle, prepared.requested.name),
      code: error.code,
      message: error.message,
      ...(faultOf(error) === 'internal' ? { internal: true } : {}),
      usage,
      costUsd: nanoToUsd(cost),
      latencyMs: now - prepared.startedAt,
      attempts,
      upstreamRequestId: prepared.upstreamRequestId,
      retryDenied: error.details.retryDenied === 'budget' ? 'budget' : undefined,
    });
  }
}
