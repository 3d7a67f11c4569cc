import type { ChatRequest, ChatResponse, Usage } from '../core/chat.ts';
import { toUsage } from '../core/chat.ts';
import { outputKey } from '../core/loop-detect.ts';
import { nanoToUsd } from '../core/money.ts';
import type { ModelProvider } from '../providers/provider.ts';
import type { GuardContext } from './context.ts';
import { admitModel, admitModelCall, servedFields } from './model-admission.ts';
import { fallbackUsage, settleFailure, settleSuccess } from './model-settle.ts';
import type { ModelCallOptions, ModelCallResult, Passthrough, Prepared } from './model-types.ts';
import { withRetries } from './retry-loop.ts';
import { markRefused, withModelCatchers } from './catch-chain.ts';
import type { RunHandle } from './run-handle.ts';
import { linkSignals } from './signals.ts';
import { AttemptTimers } from './stream-timeouts.ts';
import { completeUpstream } from './passthrough.ts';
import { attemptController, retryOptions, toGuardError, upstreamMeta } from './upstream.ts';

/**
 * A guarded non-streaming model call, in the decision order (ARCHITECTURE.md lists the
 * file and function of every step):
 *   2–8  admitModelCall: kill switches, policy, run limits and loop detectors, breakers (fallback),
 *        output clamp, rate limits, worst-case reservation; refusals are reported and thrown
 *   9    the upstream call under the total timeout, retried per the agent's policy and retry budget
 *   10   settle the actual usage (release the rest), breakers, events, no-progress detection
 * Step 11 (the tool calls the model proposed) is the caller's: Run.checkToolCalls.
 */
export async function callModel(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions = {}): Promise<ModelCallResult> {
  // Catch (`models.<name>.catch`): after the retriers, a catchable failure re-enters with the catcher's `next` model.
  const { value, servedBy, caught } = await withModelCatchers(ctx.config, request, [handle.signal, options.signal], (r) =>
    callModelOnce(ctx, handle, r, options),
  );
  if (caught.length === 0) return value;
  return { ...value, model: request.model, servedBy: value.servedBy ?? servedBy, caught };
}

async function callModelOnce(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions): Promise<ModelCallResult> {
  const call = await admitModelCall(ctx, handle, request, options, false).catch((error: unknown) => {
    throw markRefused(error);
  });
  const { signal, dispose } = linkSignals(handle.signal, options.signal);
  let attempts = 0;
  handle.active++;
  try {
    const response = await withRetries<ChatResponse>({
      ...retryOptions(ctx, handle, call, signal),
      attempt: (n, attemptSignal) => {
        attempts = n;
        // A retry is another call of the model: it passes the same policy check, with the context as it is now.
        if (n > 1) admitModel(ctx, handle, call.model, request, false);
        return completeOnce(ctx, handle, call, attemptSignal, options.passthrough);
      },
    });
    const usage = responseUsage(call, response);
    const choice = response.choices?.[0];
    const outKey = choice?.message.tool_calls?.length ? undefined : outputKey(choice?.message.content, undefined);
    const cost = await settleSuccess(ctx, handle, call, usage, attempts, outKey, false);
    return { response, usage, costUsd: nanoToUsd(cost), maxTokens: call.maxTokens, attempts, ...servedFields(call) };
  } catch (error) {
    const guard = toGuardError(error, call.model.name);
    // A no-progress stop comes out of settleSuccess: the call is already settled.
    if (guard.code !== 'loop.no_progress') await settleFailure(ctx, handle, call, guard, attempts, undefined);
    throw guard;
  } finally {
    dispose();
    handle.active--;
  }
}

/** One attempt: the provider's call, aborted (its socket closed) at the total timeout or on the run's stop. */
async function completeOnce(
  ctx: GuardContext,
  handle: RunHandle,
  call: Prepared,
  attemptSignal: AbortSignal,
  passthrough: Passthrough | undefined,
): Promise<ChatResponse> {
  const provider: ModelProvider = ctx.provider(call.model.provider);
  const timeouts = handle.agent.timeouts.model;
  const { controller, unlink } = attemptController(attemptSignal);
  const timers = new AttemptTimers(ctx.clock, controller, timeouts, { streaming: false, totalMs: timeouts.totalMs });
  try {
    return await completeUpstream(provider, call, passthrough, { signal: controller.signal, onUpstreamMeta: upstreamMeta(call) });
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    timers.clear();
    unlink();
  }
}

/** The usage the upstream reported, or (when it reported none) the input bound and the output's bytes. */
function responseUsage(call: Prepared, response: ChatResponse): Usage {
  if (response.usage) return toUsage(response.usage);
  return fallbackUsage(call, Buffer.byteLength(response.choices?.[0]?.message.content ?? '', 'utf8'));
}
