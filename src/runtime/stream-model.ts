import type { ChatChunk, ChatRequest, Usage } from '../core/chat.ts';
import { toUsage } from '../core/chat.ts';
import { guardError } from '../core/errors.ts';
import { outputKey } from '../core/loop-detect.ts';
import { nanoToUsd } from '../core/money.ts';
import type { GuardContext } from './context.ts';
import { admitModel, admitModelCall, servedFields } from './model-admission.ts';
import { fallbackUsage, settleFailure, settleSuccess } from './model-settle.ts';
import type { GuardedStream, ModelCallOptions, ModelStreamResult, Passthrough, Prepared } from './model-types.ts';
import { OutputMeter } from './output-meter.ts';
import { withRetries } from './retry-loop.ts';
import { markRefused, withModelCatchers } from './catch-chain.ts';
import type { RunHandle } from './run-handle.ts';
import { linkSignals } from './signals.ts';
import { AttemptTimers, abortPromise } from './stream-timeouts.ts';
import { streamUpstream } from './passthrough.ts';
import { attemptController, retryOptions, toGuardError, upstreamMeta } from './upstream.ts';

/** An upstream stream whose first chunk has arrived, with what keeps it bounded. */
interface OpenStream {
  iterator: AsyncIterator<ChatChunk>;
  controller: AbortController;
  timers: AttemptTimers;
  unlink: () => void;
  first: ChatChunk | undefined;
}

/**
 * A guarded streaming model call, in the decision order (ARCHITECTURE.md):
 *   2–8  admitModelCall (as for callModel)
 *   9    open the upstream stream, retried until its first chunk (so a refusal or a first-token
 *        timeout is still an ordinary error), then relay it under the idle and total timeouts, cut
 *        when the run stops or the output exceeds what was reserved
 *   10   settle when it ends, or settle what flowed when it is cut
 */
export async function streamModel(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions = {}): Promise<GuardedStream> {
  // Catch (`models.<name>.catch`) before the first chunk: a catchable failure re-enters with the catcher's `next` model.
  const { value, servedBy, caught } = await withModelCatchers(ctx.config, request, [handle.signal, options.signal], (r) =>
    streamModelOnce(ctx, handle, r, options),
  );
  if (caught.length === 0) return value;
  const served = value.servedBy ?? servedBy;
  const result = value.result.then((r) => ({ ...r, model: request.model, servedBy: served, caught }));
  result.catch(() => {});
  return { ...value, model: request.model, servedBy: served, result };
}

async function streamModelOnce(ctx: GuardContext, handle: RunHandle, request: ChatRequest, options: ModelCallOptions): Promise<GuardedStream> {
  const call = await admitModelCall(ctx, handle, request, options, true).catch((error: unknown) => {
    throw markRefused(error);
  });
  const { signal, dispose } = linkSignals(handle.signal, options.signal);
  let attempts = 0;
  handle.active++;
  let open: OpenStream;
  try {
    open = await withRetries({
      ...retryOptions(ctx, handle, call, signal),
      attempt: (n, attemptSignal) => {
        attempts = n;
        // A retry is another call of the model: it passes the same policy check, with the context as it is now.
        if (n > 1) admitModel(ctx, handle, call.model, request, true);
        return openOnce(ctx, handle, call, attemptSignal, signal, options.passthrough);
      },
    });
  } catch (error) {
    handle.active--;
    dispose();
    const guard = toGuardError(error, call.model.name);
    await settleFailure(ctx, handle, call, guard, attempts, undefined);
    throw guard;
  }
  return relay(ctx, handle, call, open, attempts, dispose);
}

/**
 * One attempt: open the stream and wait for its first chunk. Its controller must outlive the retry
 * loop (which unlinks the attempt's signal when the attempt returns), so the call's signal is linked too.
 */
async function openOnce(
  ctx: GuardContext,
  handle: RunHandle,
  call: Prepared,
  attemptSignal: AbortSignal,
  callSignal: AbortSignal,
  passthrough: Passthrough | undefined,
): Promise<OpenStream> {
  const timeouts = handle.agent.timeouts.model;
  const { controller, unlink } = attemptController(attemptSignal, callSignal);
  const timers = new AttemptTimers(ctx.clock, controller, timeouts, { streaming: true, totalMs: timeouts.totalMs });
  const iterator = streamUpstream(ctx.provider(call.model.provider), call, passthrough, {
    signal: controller.signal,
    onUpstreamMeta: upstreamMeta(call),
  })[Symbol.asyncIterator]();
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
}

/** The stream as the caller iterates it (once); `result` settles when it ends or is cut. */
function relay(ctx: GuardContext, handle: RunHandle, call: Prepared, open: OpenStream, attempts: number, dispose: () => void): GuardedStream {
  const { promise: result, resolve, reject } = settlement<ModelStreamResult>();
  const generator = chunks(ctx, handle, call, open, attempts, { resolve, reject, dispose });
  let iterated = false;
  let started = false;
  // A generator closed before its first next() never runs its body, so its finally would never
  // settle the call: run it to its first chunk (which flowed and is paid for), then close it.
  const close = async (): Promise<void> => {
    if (!started) {
      started = true;
      await generator.next().catch(() => {});
    }
    await generator.return(undefined).catch(() => {});
    await result.catch(() => {});
  };
  const iterator: AsyncGenerator<ChatChunk> = {
    next: () => {
      started = true;
      return generator.next();
    },
    return: async (value) => {
      await close();
      return { done: true, value };
    },
    throw: async (error) => {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
    [Symbol.asyncDispose]: async () => close(),
  } as AsyncGenerator<ChatChunk>;
  return {
    ...(open.first?.native !== undefined ? { passedThrough: true } : {}),
    maxTokens: call.maxTokens,
    ...servedFields(call),
    result,
    close,
    [Symbol.asyncIterator]() {
      if (iterated) throw new TypeError('a guarded stream can be iterated only once');
      iterated = true;
      return iterator;
    },
  };
}

interface Outcome {
  resolve: (result: ModelStreamResult) => void;
  reject: (error: unknown) => void;
  dispose: () => void;
}

/** Yield the upstream's chunks, counting the output, until the stream ends, fails or is cut; then settle. */
async function* chunks(ctx: GuardContext, handle: RunHandle, call: Prepared, open: OpenStream, attempts: number, outcome: Outcome): AsyncGenerator<ChatChunk> {
  const { iterator, controller, timers, unlink, first } = open;
  const meter = new OutputMeter();
  let usage: Usage | undefined;
  let settled = false;
  const aborted = abortPromise(controller.signal);
  const counted = () => usage ?? fallbackUsage(call, Math.max(meter.estimate, Math.min(meter.bytes, call.maxTokens)));
  // Output that flowed was generated and is paid for: a cut stream settles what was counted.
  const settleCut = async (reason: unknown) => {
    settled = true;
    const guard = toGuardError(reason, call.model.name);
    await settleFailure(ctx, handle, call, guard, attempts, counted());
    outcome.reject(guard);
    return guard;
  };
  try {
    let next: ChatChunk | undefined = first;
    while (next) {
      if (next.usage) usage = toUsage(next.usage);
      meter.add(next);
      if (meter.estimate > call.maxTokens + 16) {
        controller.abort(
          guardError('limit.tokens', `the stream exceeded the ${call.maxTokens} output tokens reserved for it`, {
            limit: call.maxTokens,
            used: meter.estimate,
          }),
        );
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
    const final = counted();
    try {
      const cost = await settleSuccess(ctx, handle, call, final, attempts, meter.toolArgs ? undefined : outputKey(meter.content, undefined), true);
      outcome.resolve({ usage: final, costUsd: nanoToUsd(cost), maxTokens: call.maxTokens, attempts, ...servedFields(call), content: meter.content });
    } catch (error) {
      outcome.reject(error);
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
    outcome.dispose();
    handle.active--;
  }
}

/** A promise and its settlers (Promise.withResolvers is Node 22+); an unobserved rejection is not unhandled. */
function settlement<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
