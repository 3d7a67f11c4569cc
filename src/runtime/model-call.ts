import type { ChatChunk, ChatRequest, ChatResponse, Usage } from '../core/chat.ts';
import { requestedMaxTokens } from '../core/chat.ts';
import { fastHash } from '../core/canonical-json.ts';
import { isStopCode, type StopCode } from '../core/codes.ts';
import { GuardError, guardError } from '../core/errors.ts';
import { mostRepeatedToolCall, outputKey } from '../core/loop-detect.ts';
import { nanoToUsd } from '../core/money.ts';
import { costNano, type Price } from '../core/pricing.ts';
import { inputTokenUpperBound } from '../core/token-estimate.ts';
import type { ResolvedModel } from '../config/resolve.ts';
import { ProviderError, type UpstreamMeta } from '../providers/provider.ts';
import type { BucketSpec, Charge } from '../stores/store.ts';
import { admitCall, afterRefusal } from './admission.ts';
import { clampLines, clampOutput, modelActuals, modelCharges, type BudgetLine } from './charges.ts';
import type { GuardContext } from './context.ts';
import { rateBuckets } from './rate-buckets.ts';
import { retryOutcome, withRetries } from './retry-loop.ts';
import type { RunHandle } from './run-handle.ts';
import { abortPromise, AttemptTimers } from './stream-timeouts.ts';
import { linkSignals } from './signals.ts';
import { refusal, settleThresholds } from './outcomes.ts';
import { breakerOpenError } from '../breakers/index.ts';
import { isUpstreamFailure } from './resilience.ts';

export interface ModelCallOptions {
  /** The caller's own cancellation; the run's signal always applies too. */
  signal?: AbortSignal;
  /** An exact input token count, when the caller has one; otherwise a safe upper bound is estimated. */
  inputTokens?: number;
}

/** A guarded model call's outcome. */
export interface ModelCallResult {
  response: ChatResponse;
  usage: Usage;
  costUsd: number;
  /** The output cap sent upstream after clamping. */
  maxTokens: number;
  attempts: number;
  /** The model asked for. */
  model: string;
  /** The fallback that served the call when the requested model's breaker was open. */
  servedBy?: string;
}

export interface ModelStreamResult extends Omit<ModelCallResult, 'response'> {
  content: string;
}

/** A stream whose first chunk has arrived; iterate it once. `result` settles when it ends. */
export interface GuardedStream extends AsyncIterable<ChatChunk> {
  readonly maxTokens: number;
  readonly model: string;
  readonly servedBy?: string;
  readonly result: Promise<ModelStreamResult>;
}

interface Prepared {
  /** The model that serves the call (a fallback when the requested one's breaker is open). */
  model: ResolvedModel;
  /** What the agent asked for. */
  requested: ResolvedModel;
  breakerTokens: BreakerTokens;
  price: Price;
  request: ChatRequest;
  inputTokens: number;
  maxTokens: number;
  reservationId: string;
  charges: Charge[];
  budgets: BudgetLine[];
  buckets: BucketSpec[];
  reservedTokens: number;
  startedAt: number;
  /** The upstream's id for the latest attempt, when the provider reports one (for the audit). */
  upstreamRequestId?: string;
}

const RESERVE_TRIES = 3;

function isUsableMessages(messages: unknown): boolean {
  return Array.isArray(messages) && messages.length > 0 && messages.every((m) => m !== null && typeof m === 'object' && typeof (m as { role?: unknown }).role === 'string');
}

/** Decision order steps 1–8: everything before the upstream call. Throws the refusal. */
async function prepare(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions, streaming: boolean): Promise<Prepared> {
  const model = ctx.config.models[request.model];
  if (!model) throw guardError('request.invalid', `unknown model "${String(request.model)}"`, { param: 'model' });
  if (!isUsableMessages(request.messages)) throw guardError('request.invalid', 'messages must be a non-empty array of messages with a role', { param: 'messages' });
  const requested = requestedMaxTokens(request);
  if (requested !== undefined && !(Number.isInteger(requested) && requested > 0)) {
    throw guardError('request.invalid', 'max_tokens must be a positive integer', { param: 'max_tokens' });
  }
  const limits = handle.agent.limits;
  const wantOutputTokens = Math.min(requested ?? limits.maxOutputTokensPerCall, limits.maxOutputTokensPerCall, model.maxOutputTokens ?? Infinity);

  admitCall(ctx, handle, 'invokeModel', model.name, () => ({
    maxTokens: wantOutputTokens,
    stream: streaming,
    runSteps: handle.localSteps,
    runCostNanoUsd: handle.localCostNano,
    runDepth: handle.record.depth,
    hourUtc: new Date(ctx.clock.now()).getUTCHours(),
  }));

  // Loop detection over the conversation: the agent keeps asking for the same tool call.
  const repeated = mostRepeatedToolCall(request.messages);
  if (repeated && repeated.count > limits.maxIdenticalToolCalls) {
    throw guardError('loop.repeated_tool_call', `the conversation repeats the call to ${repeated.name} with the same arguments ${repeated.count} times`, {
      limit: limits.maxIdenticalToolCalls,
      used: repeated.count,
      tool: repeated.name,
      runId: handle.id,
    });
  }

  // Breakers (step 6) before clamping: the price that clamps is the serving model's.
  const served = await admitModel(ctx, handle, model);
  const inputTokens = options.inputTokens ?? inputTokenUpperBound(request);
  const price: Price = served.model;
  const now = ctx.clock.now();
  const budgets = ctx.budgetsFor(handle, now);

  // Optimistic first: reserve the full cap. Only when that does not fit are balances read and the
  // cap clamped to what is left (DESIGN.md step 5), which keeps the common case to one store trip.
  for (let attempt = 1; ; attempt++) {
    let maxTokens = wantOutputTokens;
    let cost = costNano(price, { inputTokens, outputTokens: maxTokens });
    if (attempt > 1) {
      const balances = await ctx.store.ledger.balances(clampLines(handle.chain, budgets), now);
      const clamp = clampOutput({ chain: handle.chain, budgets, balances, price, inputTokens, wantOutputTokens });
      if (!clamp.ok) {
        await releaseBreakers(ctx, served.tokens);
        throw refusal(clamp.code, clamp, handle);
      }
      maxTokens = clamp.maxTokens;
      cost = clamp.costNano;
    }
    const reservedTokens = inputTokens + maxTokens;

    const buckets = rateBuckets(ctx, handle, served.model, reservedTokens);
    if (buckets.length > 0) {
      const rate = await ctx.store.rates.take(buckets, now);
      if (!rate.ok) {
        await releaseBreakers(ctx, served.tokens);
        throw guardError('rate.limited', `rate limit reached for ${rate.scope}`, { scope: rate.scope, retryAfterMs: rate.retryAfterMs });
      }
    }

    const charges = modelCharges({ chain: handle.chain, budgets, step: true, inputTokens, outputTokens: maxTokens, costNano: cost });
    const reservationId = ctx.newId('res');
    const reserved = await ctx.store.ledger.reserve({ id: reservationId, charges, expiresAt: now + ctx.config.defaults.reservationTtlMs, now });
    if (reserved.ok) {
      return { model: served.model, requested: model, breakerTokens: served.tokens, price, request, inputTokens, maxTokens, reservationId, charges, budgets, buckets, reservedTokens, startedAt: now };
    }
    if (buckets.length > 0) await ctx.store.rates.credit(buckets, now);
    // The full cap did not fit, or another call took the room meanwhile: clamp to what is left.
    const contended = reserved.refusal.code === 'limit.cost' || reserved.refusal.code === 'budget.exhausted' || reserved.refusal.code === 'limit.tokens';
    if (!contended || attempt >= RESERVE_TRIES) {
      await releaseBreakers(ctx, served.tokens);
      const r = reserved.refusal;
      throw refusal(r.code, { limit: r.limit, used: r.used + r.reserved, requested: r.requested, key: r.key, dim: r.dim }, handle);
    }
  }
}

/** Who made a model call, as every event about it reports. */
function modelSubject(handle: RunHandle, resource: string) {
  return { runId: handle.id, agent: handle.agent.name, tenant: handle.record.tenant, keyId: handle.keyId, action: 'invokeModel' as const, resource };
}

function servedFields(prepared: Prepared): { model: string; servedBy?: string } {
  return prepared.model === prepared.requested ? { model: prepared.requested.name } : { model: prepared.requested.name, servedBy: prepared.model.name };
}

type BreakerTokens = Array<[scope: string, token: unknown]>;

/**
 * Step 6: the model's and its provider's breakers. An open breaker sends the call to the first
 * configured fallback the agent may use whose breakers admit it (the Step Functions Catch);
 * without one the call is refused with `breaker.open` and the cooldown left.
 */
async function admitModel(ctx: GuardContext, handle: RunHandle, requested: ResolvedModel): Promise<{ model: ResolvedModel; tokens: BreakerTokens }> {
  const breakers = ctx.breakers;
  if (!breakers) return { model: requested, tokens: [] };
  let refused: { scope: string; retryAfterMs: number | null } | undefined;
  const candidates = [requested, ...requested.fallbacks.map((name) => ctx.config.models[name]!)];
  for (const [i, model] of candidates.entries()) {
    if (i > 0 && ctx.authorizer) {
      const decision = ctx.authorizer.authorize({ agent: handle.agent.name, tenant: handle.record.tenant, action: 'invokeModel', resource: model.name, context: { maxTokens: 1, stream: false, runSteps: handle.localSteps, runCostNanoUsd: 0, runDepth: handle.record.depth, hourUtc: 0 } });
      if (decision.effect !== 'allow') continue;
    }
    const tokens: BreakerTokens = [];
    let blocked = false;
    for (const scope of [`model:${model.name}`, `provider:${model.provider}`]) {
      const admission = await breakers.admit(scope);
      if (!admission.ok) {
        if (!refused || (admission.retryAfterMs ?? Infinity) < (refused.retryAfterMs ?? Infinity)) refused = { scope, retryAfterMs: admission.retryAfterMs };
        blocked = true;
        break;
      }
      tokens.push([scope, admission.token]);
    }
    if (!blocked) return { model, tokens };
    await releaseBreakers(ctx, tokens);
  }
  throw breakerOpenError(refused!.scope, { ok: false, retryAfterMs: refused!.retryAfterMs });
}

async function releaseBreakers(ctx: GuardContext, tokens: BreakerTokens): Promise<void> {
  for (const [scope, token] of tokens) await ctx.breakers!.release(scope, token as never);
}

/** Tell the breakers how the call went: upstream failures count, everything else only frees probes. */
async function recordBreakers(ctx: GuardContext, tokens: BreakerTokens, outcome: 'success' | StopCode): Promise<void> {
  if (!ctx.breakers || tokens.length === 0) return;
  for (const [scope, token] of tokens) {
    if (outcome === 'success') await ctx.breakers.record(scope, token as never, true);
    else if (isUpstreamFailure(outcome)) await ctx.breakers.record(scope, token as never, false);
    else await ctx.breakers.release(scope, token as never);
  }
}

/** The request as sent upstream: the model's upstream name, the clamped cap, usage asked for. */
function upstreamRequest(prepared: Prepared, streaming: boolean): ChatRequest {
  const { request, model, maxTokens } = prepared;
  const { stream_options: streamOptions, ...rest } = request;
  const out: ChatRequest = { ...rest, model: model.upstreamModel ?? model.name, stream: streaming };
  if (request.max_completion_tokens !== undefined) out.max_completion_tokens = maxTokens;
  else out.max_tokens = maxTokens;
  if (streaming) out.stream_options = { ...streamOptions, include_usage: true };
  return out;
}

const REJECTED_REQUEST = new Set([400, 404, 413, 422]);

/** Map anything an attempt threw to a stop code (for retry matching and reporting). */
export function codeOf(error: unknown): StopCode {
  if (GuardError.isInstance(error)) return error.code;
  if (error instanceof ProviderError) return error.code ?? (REJECTED_REQUEST.has(error.status) ? 'request.invalid' : 'upstream.error');
  if (typeof error === 'object' && error !== null && isStopCode((error as { code?: unknown }).code)) return (error as { code: StopCode }).code;
  return 'upstream.error';
}

export function toGuardError(error: unknown, resource: string): GuardError {
  const guard = asGuardError(error, resource);
  // fmguard already retried this call per policy (or its retry budget said no): a client retrying
  // on top would only multiply the load on a failing upstream.
  const outcome = retryOutcome(error);
  if (outcome && (outcome.reason === 'exhausted' || outcome.reason === 'budget' || outcome.reason === 'no-time')) {
    guard.details.retriesSpent = true;
    guard.details.attempts = outcome.attempts;
  }
  return guard;
}

function asGuardError(error: unknown, resource: string): GuardError {
  if (GuardError.isInstance(error)) return error;
  if (error instanceof ProviderError) {
    if (error.code !== undefined) return guardError(error.code, `${resource}: ${error.message}`, { status: error.status, retryAfterMs: error.retryAfterMs }, error);
    // The upstream rejected the request itself: repeating it cannot help.
    if (REJECTED_REQUEST.has(error.status)) return guardError('request.invalid', `${resource}: the upstream rejected the request (${error.status}): ${error.message}`, { status: error.status }, error);
    return guardError('upstream.error', `${resource}: upstream failed (${error.status}): ${error.message}`, { status: error.status, retryAfterMs: error.retryAfterMs }, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return guardError('upstream.error', `${resource}: ${message}`, {}, error);
}

function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof ProviderError) return error.retryAfterMs;
  return GuardError.isInstance(error) ? error.details.retryAfterMs : undefined;
}

/** Keeps the upstream's request id of the latest attempt, for the call's event. */
function upstreamMeta(prepared: Prepared) {
  return (meta: UpstreamMeta) => {
    if (meta.requestId !== undefined) prepared.upstreamRequestId = meta.requestId;
  };
}

/** The run's signal, joined with the caller's own when there is one (cheaply: see signals.ts). */
function callSignal(handle: RunHandle, options: ModelCallOptions): { signal: AbortSignal; dispose: () => void } {
  return linkSignals(handle.signal, options.signal);
}

/**
 * A controller for one attempt, aborted by any of `signals`. For streams it must outlive the retry
 * loop (which unlinks its own signal when the attempt returns), so the call's signal is linked too.
 */
function attemptController(...signals: AbortSignal[]): { controller: AbortController; unlink: () => void } {
  const controller = new AbortController();
  const links: Array<() => void> = [];
  for (const [i, signal] of signals.entries()) {
    if (signals.indexOf(signal) !== i) continue;
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    links.push(() => signal.removeEventListener('abort', onAbort));
  }
  return { controller, unlink: () => links.forEach((unlink) => unlink()) };
}

/** Usage when the upstream reported none: the input bound and what was counted of the output. */
function fallbackUsage(prepared: Prepared, outputTokens: number): Usage {
  return { inputTokens: prepared.inputTokens, outputTokens: Math.min(outputTokens, prepared.maxTokens) };
}

/** Steps 10–11 after a success: settle, credit rate tokens, events, no-progress detection. */
async function finish(ctx: GuardContext, handle: RunHandle, prepared: Prepared, usage: Usage, attempts: number, outKey: string | undefined, streamed: boolean): Promise<number> {
  const now = ctx.clock.now();
  const cost = costNano(prepared.price, usage);
  const settled = await ctx.store.ledger.settle({
    id: prepared.reservationId,
    actual: modelActuals(prepared.charges, { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costNano: cost }),
    now,
  });
  handle.localSteps++;
  handle.localCostNano += cost;
  await recordBreakers(ctx, prepared.breakerTokens, 'success');
  await creditUnused(ctx, prepared, usage.inputTokens + usage.outputTokens, now);
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
  const repeats = await ctx.store.ledger.trackRepeat(`run:${handle.id}:output`, fastHash(outKey));
  const limit = handle.agent.limits.maxIdenticalOutputs;
  if (repeats >= limit) {
    const error = guardError('loop.no_progress', `the model returned the same output ${repeats} times in a row`, { limit, used: repeats, runId: handle.id });
    await ctx.stopRun(handle, error);
    throw error;
  }
  return cost;
}

async function creditUnused(ctx: GuardContext, prepared: Prepared, usedTokens: number, now: number): Promise<void> {
  const unused = prepared.reservedTokens - usedTokens;
  if (unused <= 0 || prepared.buckets.length === 0) return;
  const tokenBuckets = prepared.buckets.filter((b) => b.key.endsWith(":tpm"));
  if (tokenBuckets.length > 0) await ctx.store.rates.credit(tokenBuckets.map((b) => ({ ...b, amount: unused })), now);
}

/** After a failure: keep the step (it was taken), record any usage that happened, report. */
async function fail(ctx: GuardContext, handle: RunHandle, prepared: Prepared, error: GuardError, attempts: number, usage: Usage | undefined): Promise<void> {
  const now = ctx.clock.now();
  const used = usage ?? { inputTokens: 0, outputTokens: 0 };
  const cost = usage ? costNano(prepared.price, usage) : 0;
  await ctx.store.ledger.settle({
    id: prepared.reservationId,
    actual: modelActuals(prepared.charges, { inputTokens: used.inputTokens, outputTokens: used.outputTokens, costNano: cost }),
    now,
  });
  handle.localSteps++;
  handle.localCostNano += cost;
  await recordBreakers(ctx, prepared.breakerTokens, error.code);
  await creditUnused(ctx, prepared, used.inputTokens + used.outputTokens, now);
  if (ctx.listening) {
    ctx.emit({
      type: 'call.failed',
      at: now,
      ...modelSubject(handle, prepared.requested.name),
      code: error.code,
      message: error.message,
      usage,
      costUsd: nanoToUsd(cost),
      latencyMs: now - prepared.startedAt,
      attempts,
      upstreamRequestId: prepared.upstreamRequestId,
    });
  }
}

function retryOptions(ctx: GuardContext, handle: RunHandle, prepared: Prepared, signal: AbortSignal) {
  return {
    policy: ctx.retryPolicy(handle.agent.name),
    budget: ctx.retryBudget,
    scope: `provider:${prepared.model.provider}`,
    clock: ctx.clock,
    signal,
    deadline: handle.record.deadline,
    // The run's own deadline timer aborts `signal` (limit.duration); the loop only judges time left.
    enforceDeadline: false,
    codeOf,
    retryAfterOf,
    onRetry: ctx.listening
      ? (info: { attempt: number; code: StopCode; delayMs: number }) =>
          ctx.emit({
            type: 'retry',
            at: ctx.clock.now(),
            runId: handle.id,
            agent: handle.agent.name,
            tenant: handle.record.tenant,
            action: 'invokeModel',
            resource: prepared.model.name,
            attempt: info.attempt,
            code: info.code,
            delayMs: info.delayMs,
          })
      : undefined,
  };
}

/** A guarded non-streaming model call (DESIGN.md decision order for one model call). */
export async function callModel(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions = {}): Promise<ModelCallResult> {
  const prepared = await guardedPrepare(ctx, handle, request, options, false);
  const provider = ctx.provider(prepared.model.provider);
  const body = upstreamRequest(prepared, false);
  const { signal, dispose } = callSignal(handle, options);
  const timeouts = handle.agent.timeouts.model;
  let attempts = 0;
  handle.active++;
  try {
    const response = await withRetries<ChatResponse>({
      ...retryOptions(ctx, handle, prepared, signal),
      attempt: async (n, attemptSignal) => {
        attempts = n;
        const { controller, unlink } = attemptController(attemptSignal);
        const timers = new AttemptTimers(ctx.clock, controller, timeouts, { streaming: false, totalMs: timeouts.totalMs });
        try {
          return await provider.complete(body, { signal: controller.signal, onUpstreamMeta: upstreamMeta(prepared) });
        } catch (error) {
          throw controller.signal.aborted ? controller.signal.reason : error;
        } finally {
          timers.clear();
          unlink();
        }
      },
    });
    const choice = response.choices?.[0];
    const usage = response.usage
      ? { inputTokens: response.usage.prompt_tokens, outputTokens: response.usage.completion_tokens, cachedInputTokens: response.usage.prompt_tokens_details?.cached_tokens }
      : fallbackUsage(prepared, Buffer.byteLength(choice?.message.content ?? '', 'utf8'));
    const cost = await finish(ctx, handle, prepared, usage, attempts, choice?.message.tool_calls?.length ? undefined : outputKey(choice?.message.content, undefined), false);
    return { response, usage, costUsd: nanoToUsd(cost), maxTokens: prepared.maxTokens, attempts, ...servedFields(prepared) };
  } catch (error) {
    const guard = toGuardError(error, prepared.model.name);
    if (guard.code !== 'loop.no_progress') await fail(ctx, handle, prepared, guard, attempts, undefined);
    throw guard;
  } finally {
    dispose();
    handle.active--;
  }
}

/** Refusals before the call are reported as events, then thrown. */
async function guardedPrepare(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions, streaming: boolean): Promise<Prepared> {
  try {
    return await prepare(ctx, handle, request, options, streaming);
  } catch (error) {
    // Before the upstream call, anything but a refusal is the state failing: fail closed.
    const refusedWith = GuardError.isInstance(error) ? error : guardError('store.unavailable', `state could not be read: ${error instanceof Error ? error.message : String(error)}`, {}, error);
    const guard = await afterRefusal(ctx, handle, refusedWith);
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
    throw guard;
  }
}

/** Output counted as it flows: the larger of chunks seen and a chars/4 estimate. */
class OutputMeter {
  chunks = 0;
  bytes = 0;
  content = '';
  toolArgs = '';

  add(chunk: ChatChunk): void {
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta ?? {};
      let counted = false;
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        this.content += delta.content;
        this.bytes += Buffer.byteLength(delta.content, 'utf8');
        counted = true;
      }
      for (const call of delta.tool_calls ?? []) {
        const text = (call.function?.name ?? '') + (call.function?.arguments ?? '');
        this.toolArgs += `${call.index}:${text}`;
        this.bytes += Buffer.byteLength(text, 'utf8');
        counted = true;
      }
      if (counted) this.chunks++;
    }
  }

  get estimate(): number {
    return Math.max(this.chunks, Math.ceil(this.bytes / 4));
  }
}

/**
 * A guarded streaming model call. Resolves once the first chunk has arrived (so a refusal or a
 * first-token timeout is still an ordinary error), then streams the rest under the idle and total
 * timeouts, cutting the stream when the run is stopped or the output exceeds what was reserved.
 */
export async function streamModel(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions = {}): Promise<GuardedStream> {
  const prepared = await guardedPrepare(ctx, handle, request, options, true);
  const provider = ctx.provider(prepared.model.provider);
  const body = upstreamRequest(prepared, true);
  const { signal, dispose } = callSignal(handle, options);
  const timeouts = handle.agent.timeouts.model;
  let attempts = 0;
  let open: { iterator: AsyncIterator<ChatChunk>; controller: AbortController; timers: AttemptTimers; unlink: () => void; first: ChatChunk | undefined } | undefined;

  handle.active++;
  try {
    open = await withRetries({
      ...retryOptions(ctx, handle, prepared, signal),
      attempt: async (n, attemptSignal) => {
        attempts = n;
        const { controller, unlink } = attemptController(attemptSignal, signal);
        const timers = new AttemptTimers(ctx.clock, controller, timeouts, { streaming: true, totalMs: timeouts.totalMs });
        const iterator = provider.stream(body, { signal: controller.signal, onUpstreamMeta: upstreamMeta(prepared) })[Symbol.asyncIterator]();
        const aborted = abortPromise(controller.signal);
        try {
          const first = await Promise.race([iterator.next(), aborted.promise]);
          timers.chunk();
          return { iterator, controller, timers, unlink, first: first.done ? undefined : first.value };
        } catch (error) {
          timers.clear();
          unlink();
          void iterator.return?.().catch(() => {});
          throw controller.signal.aborted ? controller.signal.reason : error;
        } finally {
          aborted.dispose();
        }
      },
    });
  } catch (error) {
    handle.active--;
    dispose();
    const guard = toGuardError(error, prepared.model.name);
    await fail(ctx, handle, prepared, guard, attempts, undefined);
    throw guard;
  }

  const { iterator, controller, timers, unlink, first } = open;
  const meter = new OutputMeter();
  let resolveResult!: (r: ModelStreamResult) => void;
  let rejectResult!: (e: unknown) => void;
  const result = new Promise<ModelStreamResult>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  result.catch(() => {});
  let iterated = false;

  async function* chunks(): AsyncGenerator<ChatChunk> {
    let usage: Usage | undefined;
    let settled = false;
    const aborted = abortPromise(controller.signal);
    // Output that flowed was generated and is paid for: a cut stream settles what was counted.
    const settleCut = async (reason: unknown) => {
      settled = true;
      const guard = toGuardError(reason, prepared.model.name);
      const partial = usage ?? fallbackUsage(prepared, Math.max(meter.estimate, Math.min(meter.bytes, prepared.maxTokens)));
      await fail(ctx, handle, prepared, guard, attempts, partial);
      rejectResult(guard);
      return guard;
    };
    try {
      let next: ChatChunk | undefined = first;
      while (next) {
        if (next.usage) usage = { inputTokens: next.usage.prompt_tokens, outputTokens: next.usage.completion_tokens, cachedInputTokens: next.usage.prompt_tokens_details?.cached_tokens };
        meter.add(next);
        if (meter.estimate > prepared.maxTokens + 16) {
          controller.abort(guardError('limit.tokens', `the stream exceeded the ${prepared.maxTokens} output tokens reserved for it`, { limit: prepared.maxTokens, used: meter.estimate }));
          throw controller.signal.reason;
        }
        yield next;
        const step = await Promise.race([iterator.next(), aborted.promise]);
        if (step.done) break;
        timers.chunk();
        next = step.value;
      }
      settled = true;
      timers.clear();
      const final = usage ?? fallbackUsage(prepared, Math.max(meter.estimate, Math.min(meter.bytes, prepared.maxTokens)));
      try {
        const cost = await finish(ctx, handle, prepared, final, attempts, meter.toolArgs ? undefined : outputKey(meter.content, undefined), true);
        resolveResult({ usage: final, costUsd: nanoToUsd(cost), maxTokens: prepared.maxTokens, attempts, ...servedFields(prepared), content: meter.content });
      } catch (error) {
        rejectResult(error);
        throw error;
      }
    } catch (error) {
      if (settled) throw error;
      throw await settleCut(controller.signal.aborted ? controller.signal.reason : error);
    } finally {
      aborted.dispose();
      timers.clear();
      unlink();
      if (!settled) {
        // The consumer stopped reading: stop the upstream too, and pay for what flowed.
        controller.abort(guardError('request.invalid', 'the consumer closed the stream'));
        await settleCut(controller.signal.reason);
      }
      void iterator.return?.().catch(() => {});
      dispose();
      handle.active--;
    }
  }

  const generator = chunks();
  return {
    maxTokens: prepared.maxTokens,
    ...servedFields(prepared),
    result,
    [Symbol.asyncIterator]() {
      if (iterated) throw new TypeError('a guarded stream can be iterated only once');
      iterated = true;
      return generator;
    },
  };
}
