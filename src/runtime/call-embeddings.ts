import { reserveFor } from './local-ledger.ts';
import type { Usage } from '../core/chat.ts';
import { guardError } from '../core/errors.ts';
import { nanoToUsd } from '../core/money.ts';
import { costNano } from '../core/pricing.ts';
import { type EmbeddingsRequest, type EmbeddingsResponse, embeddingTokenUpperBound } from '../core/wire/embeddings.ts';
import type { ResolvedModel } from '../config/resolve.ts';
import { admitCall } from './admission.ts';
import { modelCharges } from './charges.ts';
import type { GuardContext } from './context.ts';
import { refuseModelCall, servedFields, slotsFor } from './model-admission.ts';
import { admitBreakers, releaseBreakers } from './model-breakers.ts';
import { settleFailure, settleSuccess } from './model-settle.ts';
import type { Reserved } from './model-types.ts';
import { ledgerRefusal } from './outcomes.ts';
import { rateBuckets } from './rate-buckets.ts';
import { withRetries } from './retry-loop.ts';
import type { RunHandle } from './run-handle.ts';
import { linkSignals } from './signals.ts';
import { AttemptTimers } from './stream-timeouts.ts';
import { attemptController, retryOptions, toGuardError, upstreamMeta } from './upstream.ts';

export interface EmbeddingsCallOptions {
  /** The caller's own cancellation; the run's signal always applies too. */
  signal?: AbortSignal;
  /** An exact input token count, when the caller has one; otherwise a safe upper bound is reserved. */
  inputTokens?: number;
}

export interface EmbeddingsCallResult {
  response: EmbeddingsResponse;
  /** Input tokens as the upstream reported them (no output tokens). */
  usage: Usage;
  costUsd: number;
  attempts: number;
  /** The model asked for. */
  model: string;
  /** The fallback that served the call when the requested model's breaker was open. */
  servedBy?: string;
}

/**
 * A guarded embeddings call: a model call without output, in the same decision order
 * (ARCHITECTURE.md) and with the same events, so metrics, alarms and the audit log count it:
 *   1    request checks: a configured model whose provider serves embeddings
 *   2–4  admitCall: kill switches, policy (`invokeModel` on the model), the run's wall time
 *   6    breakers (a configured fallback serves when the model's breaker is open)
 *   7–8  rate limits, then one reservation: a step, the input tokens (an upper bound), their cost
 *   9    the upstream call under the total timeout, retried per the agent's policy and retry budget
 *   10   settle the input tokens the upstream reported, breakers, events
 * There is no output cap to clamp and no loop detector to run: an embedding proposes nothing.
 */
export async function callEmbeddings(
  ctx: GuardContext,
  handle: RunHandle,
  request: EmbeddingsRequest,
  options: EmbeddingsCallOptions = {},
): Promise<EmbeddingsCallResult> {
  const call = await admitEmbeddings(ctx, handle, request, options);
  const { signal, dispose } = linkSignals(handle.signal, options.signal);
  let attempts = 0;
  handle.active++;
  try {
    const response = await withRetries<EmbeddingsResponse>({
      ...retryOptions(ctx, handle, call, signal),
      attempt: (n, attemptSignal) => {
        attempts = n;
        // A retry is another call of the model: it passes the same policy check, with the context as it is now.
        if (n > 1) admitCall(ctx, handle, 'invokeModel', call.model.name, () => policyContext(ctx, handle));
        return embedOnce(ctx, handle, call, request, attemptSignal);
      },
    });
    const reported = response.usage?.prompt_tokens;
    const usage: Usage = { inputTokens: typeof reported === 'number' ? reported : call.inputTokens, outputTokens: 0 };
    const cost = await settleSuccess(ctx, handle, call, usage, attempts, undefined, false);
    return { response, usage, costUsd: nanoToUsd(cost), attempts, ...servedFields(call) };
  } catch (error) {
    const guard = toGuardError(error, call.model.name);
    await settleFailure(ctx, handle, call, guard, attempts, undefined);
    throw guard;
  } finally {
    dispose();
    handle.active--;
  }
}

/** Steps 1–8; a refusal is reported (`call.refused`) and thrown, a state read that fails refuses with `store.unavailable`. */
async function admitEmbeddings(ctx: GuardContext, handle: RunHandle, request: EmbeddingsRequest, options: EmbeddingsCallOptions): Promise<Reserved> {
  try {
    const model = embeddingModel(ctx, request);
    const admit = (m: ResolvedModel) => admitCall(ctx, handle, 'invokeModel', m.name, () => policyContext(ctx, handle));
    admit(model); // 2 kill switches, 3 policy, 4 run time
    const breakers = await admitBreakers(ctx, model, admit); // 6: a fallback passes the same policy check
    const inputTokens = options.inputTokens ?? embeddingTokenUpperBound(request.input);
    const now = ctx.clock.now();
    const budgets = ctx.budgetsFor(handle, now);
    const cost = costNano(breakers.model, { inputTokens, outputTokens: 0 });
    const buckets = rateBuckets(ctx, handle, breakers.model, inputTokens); // 7
    const charges = modelCharges({ chain: handle.chain, budgets, step: true, inputTokens, outputTokens: 0, costNano: cost, slots: slotsFor(ctx, handle) });
    const reservationId = ctx.newId('res');
    // 7 rate tokens and 8 the reservation: one store operation where the store has it.
    const { rate, reserve: reserved } = await reserveFor(ctx.store, handle.ledger, buckets, {
      id: reservationId,
      charges,
      expiresAt: now + ctx.config.defaults.reservationTtlMs,
      now,
    });
    if (!rate.ok) {
      await releaseBreakers(ctx, breakers.tokens);
      throw guardError('rate.limited', `rate limit reached for ${rate.scope}`, { scope: rate.scope, retryAfterMs: rate.retryAfterMs });
    }
    if (!reserved!.ok) {
      await releaseBreakers(ctx, breakers.tokens);
      throw ledgerRefusal({ ...reserved!.refusal, settled: reserved!.refusal.used }, handle);
    }
    return {
      model: breakers.model,
      requested: model,
      breakerTokens: breakers.tokens,
      price: breakers.model,
      inputTokens,
      maxTokens: 0,
      reservationId,
      charges,
      budgets,
      buckets,
      reservedTokens: inputTokens,
      startedAt: now,
    };
  } catch (error) {
    throw await refuseModelCall(ctx, handle, request, error);
  }
}

/** The configured model a request names, served by a provider that has embeddings (`request.invalid` otherwise). */
function embeddingModel(ctx: GuardContext, request: EmbeddingsRequest): ResolvedModel {
  const model = ctx.config.models[request?.model];
  if (!model) throw guardError('request.invalid', `unknown model "${String(request?.model)}"`, { param: 'model' });
  if (typeof ctx.provider(model.provider).embed !== 'function') {
    throw guardError('request.invalid', `model "${model.name}" is served by provider "${model.provider}", which has no embeddings`, { param: 'model' });
  }
  if (request.input === undefined || request.input === null) throw guardError('request.invalid', 'input is required', { param: 'input' });
  return model;
}

/** The Cedar context of a model call (policies see an embeddings call as one without output). */
function policyContext(ctx: GuardContext, handle: RunHandle): Record<string, unknown> {
  return {
    maxTokens: 0,
    stream: false,
    runSteps: handle.localSteps,
    runCostNanoUsd: handle.localCostNano,
    runDepth: handle.record.depth,
    hourUtc: new Date(ctx.clock.now()).getUTCHours(),
  };
}

/** One attempt: the provider's call, aborted (its socket closed) at the total timeout or on the run's stop. */
async function embedOnce(
  ctx: GuardContext,
  handle: RunHandle,
  call: Reserved,
  request: EmbeddingsRequest,
  attemptSignal: AbortSignal,
): Promise<EmbeddingsResponse> {
  const provider = ctx.provider(call.model.provider);
  if (!provider.embed) throw guardError('request.invalid', `provider "${call.model.provider}" has no embeddings`, { param: 'model' });
  const timeouts = handle.agent.timeouts.model;
  const { controller, unlink } = attemptController(attemptSignal);
  const timers = new AttemptTimers(ctx.clock, controller, timeouts, { streaming: false, totalMs: timeouts.totalMs });
  try {
    const upstream = { ...request, model: call.model.upstreamModel ?? call.model.name };
    return await provider.embed(upstream, { signal: controller.signal, onUpstreamMeta: upstreamMeta(call) });
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    timers.clear();
    unlink();
  }
}
