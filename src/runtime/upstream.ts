import type { ChatRequest } from '../core/chat.ts';
import { isStopCode, type StopCode } from '../core/codes.ts';
import { GuardError, guardError } from '../core/errors.ts';
import { isInternalThrow, markInternal } from '../core/fault.ts';
import { ProviderError, type UpstreamMeta } from '../providers/provider.ts';
import type { GuardContext } from './context.ts';
import type { Prepared, Reserved } from './model-types.ts';
import { retryOutcome } from './retry-loop.ts';
import type { RunHandle } from './run-handle.ts';

/** Talking to an upstream: the request as sent, what its failures mean, how attempts are retried and aborted. */

/** The request as sent upstream: the model's upstream name, the clamped cap, usage asked for. */
export function upstreamRequest(prepared: Prepared, streaming: boolean): ChatRequest {
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
  if (isInternalThrow(error)) return 'request.invalid';
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
  // The retry budget (not the retriers) stopped the retries: say so, never cap silently.
  if (outcome?.reason === 'budget') return budgetCapped(guard, outcome.attempts);
  return guard;
}

/** The error of a call whose retries the retry budget cut short: its message and details say so (the header and the audit follow the details). */
function budgetCapped(guard: GuardError, attempts: number): GuardError {
  if (guard.details.retryDenied === 'budget' && guard.message.includes('retry budget')) return guard;
  const capped = guardError(
    guard.code,
    `${guard.message} (retries capped by the retry budget after ${attempts} attempt${attempts === 1 ? '' : 's'}: too many retries across calls recently)`,
    { ...guard.details, retryDenied: 'budget', attempts },
    guard,
  );
  return capped;
}

function asGuardError(error: unknown, resource: string): GuardError {
  if (GuardError.isInstance(error)) return error;
  if (error instanceof ProviderError) {
    if (error.code !== undefined)
      return guardError(error.code, `${resource}: ${error.message}`, { status: error.status, retryAfterMs: error.retryAfterMs }, error);
    // The upstream rejected the request itself: repeating it cannot help.
    if (REJECTED_REQUEST.has(error.status))
      return guardError(
        'request.invalid',
        `${resource}: the upstream rejected the request (${error.status}): ${error.message}`,
        { status: error.status },
        error,
      );
    return guardError(
      'upstream.error',
      `${resource}: upstream failed (${error.status}): ${error.message}`,
      { status: error.status, retryAfterMs: error.retryAfterMs },
      error,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  // fmguard's own resource error (a stack overflow on a hostile shape): the input's fault, never the upstream's.
  if (isInternalThrow(error)) return markInternal(guardError('request.invalid', `${resource}: the call could not be processed: ${message}`, {}, error));
  return guardError('upstream.error', `${resource}: ${message}`, {}, error);
}

function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof ProviderError) return error.retryAfterMs;
  return GuardError.isInstance(error) ? error.details.retryAfterMs : undefined;
}

/**
 * A controller for one attempt, aborted by any of `signals`. For streams it must outlive the retry
 * loop (which unlinks its own signal when the attempt returns), so the call's signal is linked too.
 */
export function attemptController(...signals: AbortSignal[]): { controller: AbortController; unlink: () => void } {
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

/** How a model call retries: the agent's policy, the shared retry budget, the run's deadline; retries are reported. */
export function retryOptions(ctx: GuardContext, handle: RunHandle, prepared: Reserved, signal: AbortSignal) {
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

/** Keeps the upstream's request id of the latest attempt, for the call's event (and so the audit). */
export function upstreamMeta(prepared: { upstreamRequestId?: string }) {
  return (meta: UpstreamMeta) => {
    if (meta.requestId !== undefined) prepared.upstreamRequestId = meta.requestId;
  };
}
