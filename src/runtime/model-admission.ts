import { reserveFor } from './local-ledger.ts';
import type { ChatRequest } from '../core/chat.ts';
import { requestedMaxTokens } from '../core/chat.ts';
import { type GuardError, guardError } from '../core/errors.ts';
import { ToolCallCounter } from '../core/loop-detect.ts';
import { costNano, type Price } from '../core/pricing.ts';
import { inputTokenUpperBound } from '../core/token-estimate.ts';
import type { ResolvedModel } from '../config/resolve.ts';
import { admitCall, afterRefusal } from './admission.ts';
import { clampLines, clampOutput, modelCharges, slotCharges } from './charges.ts';
import type { GuardContext } from './context.ts';
import { failClosed } from './fail-closed.ts';
import { admitBreakers, releaseBreakers, type BreakerTokens } from './model-breakers.ts';
import type { ModelCallOptions, Prepared, Reserved } from './model-types.ts';
import { ledgerRefusal } from './outcomes.ts';
import { rateBuckets } from './rate-buckets.ts';
import type { RunHandle } from './run-handle.ts';

/**
 * Decision order steps 2–8 for one model call (step 1, the principal and the run, is startRun's):
 * everything decided before the upstream is called. A refusal is reported as a `call.refused` event
 * and thrown; a state read that fails refuses with `store.unavailable` (fail closed).
 */
export async function admitModelCall(
  ctx: GuardContext,
  handle: RunHandle,
  request: ChatRequest,
  options: ModelCallOptions,
  streaming: boolean,
): Promise<Prepared> {
  try {
    const model = requestedModel(ctx, request);
    const wantOutputTokens = outputCap(handle, model, request);
    admitModel(ctx, handle, model, request, streaming); // 2 kill switches, 3 policy, 4 run time
    checkConversationLoop(handle, request); // 4 loop detectors
    // 6 breakers, before the clamp: the serving model's price clamps. A fallback passes the same policy check.
    const served = await admitBreakers(ctx, model, (fallback) => admitModel(ctx, handle, fallback, request, streaming));
    const inputTokens = options.inputTokens ?? inputTokenUpperBound(request);
    return await reserveModelCall(ctx, handle, {
      request,
      requested: model,
      served: served.model,
      breakerTokens: served.tokens,
      inputTokens,
      wantOutputTokens,
    }); // 5, 7, 8
  } catch (error) {
    throw await refuseModelCall(ctx, handle, request, error);
  }
}

const RESERVE_TRIES = 3;

function isUsableMessages(messages: unknown): boolean {
  return (
    Array.isArray(messages) &&
    messages.length > 0 &&
    messages.every((m) => m !== null && typeof m === 'object' && typeof (m as { role?: unknown }).role === 'string')
  );
}

/** The configured model a request names, with its messages and output cap checked (`request.invalid`). */
function requestedModel(ctx: GuardContext, request: ChatRequest): ResolvedModel {
  const model = ctx.config.models[request.model];
  if (!model) throw guardError('request.invalid', `unknown model "${String(request.model)}"`, { param: 'model' });
  if (!isUsableMessages(request.messages))
    throw guardError('request.invalid', 'messages must be a non-empty array of messages with a role', { param: 'messages' });
  const requested = requestedMaxTokens(request);
  if (requested !== undefined && !(Number.isInteger(requested) && requested > 0)) {
    throw guardError('request.invalid', 'max_tokens must be a positive integer', { param: 'max_tokens' });
  }
  return model;
}

/**
 * Steps 2–4 for one model that would serve the call: the requested one, a fallback, a retry. The
 * same check every time: the run's principal and the request's real context for that model.
 */
export function admitModel(ctx: GuardContext, handle: RunHandle, model: ResolvedModel, request: ChatRequest, streaming: boolean): void {
  admitCall(ctx, handle, 'invokeModel', model.name, () => policyContext(ctx, handle, outputCap(handle, model, request), streaming));
}

/** The output cap before budgets: min(request, per-call cap, model max). */
function outputCap(handle: RunHandle, model: ResolvedModel, request: ChatRequest): number {
  const limits = handle.agent.limits;
  return Math.min(requestedMaxTokens(request) ?? limits.maxOutputTokensPerCall, limits.maxOutputTokensPerCall, model.maxOutputTokens ?? Infinity);
}

/** What a model-call policy may test (the Cedar context). */
function policyContext(ctx: GuardContext, handle: RunHandle, maxTokens: number, stream: boolean): Record<string, unknown> {
  return {
    maxTokens,
    stream,
    runSteps: handle.localSteps,
    runCostNanoUsd: handle.localCostNano,
    runDepth: handle.record.depth,
    hourUtc: new Date(ctx.clock.now()).getUTCHours(),
  };
}

/** Loop detection over the conversation: the agent keeps asking for the same tool call. */
function checkConversationLoop(handle: RunHandle, request: ChatRequest): void {
  const limit = handle.agent.limits.maxIdenticalToolCalls;
  // Incremental over the run's steps (a memo per run): only the messages new since the last step are counted.
  handle.toolCalls ??= new ToolCallCounter();
  const repeated = handle.toolCalls.mostRepeated(request.messages);
  if (repeated && repeated.count > limit) {
    throw guardError('loop.repeated_tool_call', `the conversation repeats the call to ${repeated.name} with the same arguments ${repeated.count} times`, {
      limit,
      used: repeated.count,
      tool: repeated.name,
      runId: handle.id,
    });
  }
}

interface ReserveInput {
  request: ChatRequest;
  requested: ResolvedModel;
  served: ResolvedModel;
  breakerTokens: BreakerTokens;
  inputTokens: number;
  wantOutputTokens: number;
}

/**
 * Steps 5, 7 and 8: clamp the output cap to what the budgets can pay for, take the rate-limit
 * tokens, reserve the worst case on the run and every budget, all or nothing. Optimistic first: the
 * full cap is reserved; only when it does not fit are balances read and the cap clamped to what is
 * left, which keeps the common case to one store trip. A refusal releases the breaker admissions.
 */
async function reserveModelCall(ctx: GuardContext, handle: RunHandle, input: ReserveInput): Promise<Prepared> {
  const { request, requested, served, breakerTokens, inputTokens, wantOutputTokens } = input;
  const price: Price = served;
  const now = ctx.clock.now();
  const budgets = ctx.budgetsFor(handle, now);
  const refuse = async (error: Error) => {
    await releaseBreakers(ctx, breakerTokens);
    return error;
  };
  for (let attempt = 1; ; attempt++) {
    let maxTokens = wantOutputTokens;
    let cost = costNano(price, { inputTokens, outputTokens: maxTokens });
    if (attempt > 1) {
      const balances = await handle.ledger.balances(clampLines(handle.chain, budgets), now);
      const clamp = clampOutput({ chain: handle.chain, budgets, balances, price, inputTokens, wantOutputTokens });
      if (!clamp.ok) throw await refuse(ledgerRefusal(clamp, handle));
      maxTokens = clamp.maxTokens;
      cost = clamp.costNano;
    }
    const reservedTokens = inputTokens + maxTokens;
    const buckets = rateBuckets(ctx, handle, served, reservedTokens);
    const slots = slotsFor(ctx, handle);
    const charges = modelCharges({ chain: handle.chain, budgets, step: true, inputTokens, outputTokens: maxTokens, costNano: cost, slots });
    const reservationId = ctx.newId('res');
    // 7 rate tokens and 8 the reservation: one store operation where the store has it (tokens back on a refusal).
    const admitted = await reserveFor(ctx.store, handle.ledger, buckets, {
      id: reservationId,
      charges,
      expiresAt: now + ctx.config.defaults.reservationTtlMs,
      now,
    });
    const rate = admitted.rate;
    if (!rate.ok)
      throw await refuse(guardError('rate.limited', `rate limit reached for ${rate.scope}`, { scope: rate.scope, retryAfterMs: rate.retryAfterMs }));
    const reserved = admitted.reserve!;
    if (reserved.ok) {
      return {
        model: served,
        requested,
        breakerTokens,
        price,
        request,
        inputTokens,
        maxTokens,
        reservationId,
        charges,
        budgets,
        buckets,
        reservedTokens,
        startedAt: now,
      };
    }
    // The full cap did not fit, or another call took the room meanwhile: clamp to what is left.
    const r = reserved.refusal;
    const contended = r.code === 'limit.cost' || r.code === 'budget.exhausted' || r.code === 'limit.tokens';
    if (!contended || attempt >= RESERVE_TRIES) {
      throw await refuse(ledgerRefusal({ ...r, settled: r.used }, handle));
    }
  }
}

/** The reserved-concurrency slots a call of this run holds while in flight (agent's and tenant's caps). */
export function slotsFor(ctx: GuardContext, handle: RunHandle) {
  const tenant = handle.record.tenant;
  return slotCharges({
    agent: handle.agent.name,
    tenant,
    agentCap: handle.agent.maxConcurrentCalls,
    tenantCap: Object.hasOwn(ctx.config.tenants, tenant) ? ctx.config.tenants[tenant]!.maxConcurrentCalls : undefined,
  });
}

/** Who made a model call, as every event about it reports. */
/**
 * A model call refused before the upstream (any API): the run stopped when the refusal ends it, a
 * `call.refused` event, and the error to throw (a failed state read becomes `store.unavailable`).
 */
export async function refuseModelCall(ctx: GuardContext, handle: RunHandle, request: { model?: unknown } | undefined, error: unknown): Promise<GuardError> {
  const guard = await afterRefusal(ctx, handle, failClosed(error));
  if (ctx.listening) {
    ctx.emit({
      type: 'call.refused',
      at: ctx.clock.now(),
      ...modelSubject(handle, String(request?.model)),
      code: guard.code,
      message: guard.message,
      details: guard.details,
    });
  }
  return guard;
}

export function modelSubject(handle: RunHandle, resource: string) {
  return { runId: handle.id, agent: handle.agent.name, tenant: handle.record.tenant, keyId: handle.keyId, action: 'invokeModel' as const, resource };
}

export function servedFields(prepared: Reserved): { model: string; servedBy?: string } {
  return prepared.model === prepared.requested ? { model: prepared.requested.name } : { model: prepared.requested.name, servedBy: prepared.model.name };
}
