/**
 * The I/O half of retries: run attempts, ask the pure policy (core/retry.ts) and the retry budget
 * (core/retry-budget.ts) whether to try again, and wait on the injected clock. Each attempt gets a
 * signal that fires on the caller's abort or at `deadline`, and only the time left until it.
 */
import { sleep, type Clock } from '../core/clock.ts';
import type { StopCode } from '../core/codes.ts';
import { GuardError, guardError } from '../core/errors.ts';
import type { RetryBudget } from '../core/retry-budget.ts';
import type { RetryPolicy, RetryStopReason } from '../core/retry.ts';

/** Why the loop stopped retrying and rethrew: the policy's reason, the budget, or an unmapped error. */
export type RetryGiveUpReason = RetryStopReason | 'budget' | 'unknown-error';

export interface RetryOutcome {
  reason: RetryGiveUpReason;
  /** Attempts made, the failed last one included. */
  attempts: number;
  code?: StopCode;
}

export interface RetryInfo {
  /** The attempt that failed (1-based); attempt + 1 runs after the delay. */
  attempt: number;
  code: StopCode;
  delayMs: number;
  /** Index of the retrier used and its own retry count. */
  retrier: number;
  retrierAttempt: number;
  error: unknown;
}

export interface AttemptContext {
  /** Time left until the deadline when the attempt starts; undefined without a deadline. */
  timeLeftMs: number | undefined;
}

export interface WithRetriesOptions<T> {
  policy: RetryPolicy;
  budget?: RetryBudget;
  /** Retry-budget scope, e.g. `provider:openai` or `agent:support-bot`. */
  scope: string;
  clock: Clock;
  signal?: AbortSignal;
  /** Epoch ms on `clock` after which no attempt may run; attempts are aborted with `timeout.total` at it. */
  deadline?: number;
  /**
   * Whether the loop itself aborts an attempt at `deadline` (default true). A caller whose `signal`
   * already fires at the deadline (a run's wall-time limit) passes false: the deadline then only
   * decides whether a retry still fits, and no per-attempt controller is created.
   */
  enforceDeadline?: boolean;
  /** One attempt. It must honour `signal` (use runToolInWorker for code that does not). */
  attempt: (n: number, signal: AbortSignal, ctx: AttemptContext) => Promise<T>;
  /** Map an error to a stop code; undefined = not retryable, rethrown as is. */
  codeOf: (err: unknown) => StopCode | undefined;
  /** The provider's retry-after for an error. Default: `GuardError.details.retryAfterMs`. */
  retryAfterOf?: (err: unknown) => number | undefined;
  onRetry?: (info: RetryInfo) => void;
}

const OUTCOME = Symbol.for('fmguard.retryOutcome');

/** Why `withRetries` gave up on this error, if it came out of it. */
export function retryOutcome(err: unknown): RetryOutcome | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  return (err as Record<symbol, RetryOutcome | undefined>)[OUTCOME];
}

function giveUp(err: unknown, outcome: RetryOutcome): unknown {
  if (typeof err === 'object' && err !== null && Object.isExtensible(err)) {
    Object.defineProperty(err, OUTCOME, { value: outcome, configurable: true, enumerable: false });
    if (outcome.reason === 'budget' && GuardError.isInstance(err)) err.details.retryDenied = 'budget';
  }
  return err;
}

function defaultRetryAfter(err: unknown): number | undefined {
  return GuardError.isInstance(err) ? err.details.retryAfterMs : undefined;
}

/** Run `attempt` until it succeeds or the policy, the budget, the deadline or the signal says stop. */
export async function withRetries<T>(options: WithRetriesOptions<T>): Promise<T> {
  const { policy, budget, scope, clock, signal, deadline, enforceDeadline = true, attempt, codeOf, retryAfterOf = defaultRetryAfter, onRetry } = options;
  const state = policy.start();
  const timeLeft = () => (deadline === undefined ? undefined : deadline - clock.now());
  budget?.recordCall(scope, clock.now());
  let last: { err: unknown; code: StopCode } | undefined;

  for (let n = 1; ; n++) {
    signal?.throwIfAborted();
    const left = timeLeft();
    if (left !== undefined && left <= 0) {
      if (last) throw giveUp(last.err, { reason: 'no-time', attempts: n - 1, code: last.code });
      throw guardError('timeout.total', 'the deadline passed before the first attempt', { deadline });
    }
    try {
      return await runAttempt(n, left);
    } catch (err) {
      // The caller gave up: no retry, and the attempt's own error (usually the abort reason) goes back.
      if (signal?.aborted) throw err;
      const code = codeOf(err);
      if (code === undefined) throw giveUp(err, { reason: 'unknown-error', attempts: n });
      const d = state.next(code, { retryAfterMs: retryAfterOf(err), timeLeftMs: timeLeft() });
      if (!d.retry) throw giveUp(err, { reason: d.reason, attempts: n, code });
      if (budget && !budget.tryRetry(scope, clock.now())) throw giveUp(err, { reason: 'budget', attempts: n, code });
      last = { err, code };
      onRetry?.({ attempt: n, code, delayMs: d.delayMs, retrier: d.retrier, retrierAttempt: d.attempt, error: err });
      await sleep(clock, d.delayMs, signal);
    }
  }

  async function runAttempt(n: number, left: number | undefined): Promise<T> {
    // Creating an AbortSignal costs microseconds on the hot path; reuse the caller's when it suffices.
    if (signal && (!enforceDeadline || left === undefined)) return attempt(n, signal, { timeLeftMs: left });
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      left === undefined
        ? undefined
        : clock.setTimeout(() => ctrl.abort(guardError('timeout.total', `deadline reached during attempt ${n}`, { deadline, attempt: n })), left);
    try {
      return await attempt(n, ctrl.signal, { timeLeftMs: left });
    } finally {
      if (timer !== undefined) clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
