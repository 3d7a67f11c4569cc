/**
 * Catch (Step Functions semantics, core/catch.ts) around a guarded call: when the call failed after its
 * retriers were exhausted (or no retrier matched) with a catchable code, the first matching catcher's
 * `next` model or tool is called instead, through the full admission again (policy with the real
 * context, limits, budgets, breakers), so each call is audited on its own: the caught one as
 * `call.failed`, the fallback as its own call. fmguard's own refusals are never caught (an admission
 * refusal only when it is `breaker.open`), a stopped run or a caller's abort is never caught, and each
 * model or tool is called at most once per chain.
 */
import { type FmguardConfig, modelCatchers } from '../config/resolve.ts';
import { findCatcher, type Catcher } from '../core/catch.ts';
import type { ChatRequest } from '../core/chat.ts';
import { GuardError } from '../core/errors.ts';

const REFUSED = new WeakSet<object>();

/** Mark an error as an admission refusal (decision steps 2–8): fmguard's own, not the upstream's. */
export function markRefused<E>(error: E): E {
  if (typeof error === 'object' && error !== null) REFUSED.add(error);
  return error;
}

/** One link of a catch chain, as reported with the result and on the error. */
export interface CaughtFailure {
  /** The model or tool that failed. */
  from: string;
  code: string;
  /** The index of the catcher that matched. */
  catcher: number;
  next: string;
}

export interface CatchChainOptions<T> {
  /** The model or tool asked for. */
  first: string;
  catchersOf: (name: string) => readonly Catcher[];
  /** One guarded call of `name` (admission, retries, settlement). */
  call: (name: string) => Promise<T>;
  /** Signals whose abort means nothing may be caught (the run's stop, the caller's cancel). */
  signals?: ReadonlyArray<AbortSignal | undefined>;
}

/** Run `call(first)`, and on a catchable failure the catchers' `next`s, each name at most once. */
export async function withCatchers<T>(options: CatchChainOptions<T>): Promise<Caught<T>> {
  const { first, catchersOf, call, signals = [] } = options;
  const tried = new Set<string>();
  const caught: CaughtFailure[] = [];
  let current = first;
  for (;;) {
    tried.add(current);
    try {
      return { value: await call(current), servedBy: current, caught };
    } catch (error) {
      const catchers = catchersOf(current);
      if (catchers.length === 0 || !GuardError.isInstance(error) || signals.some((s) => s?.aborted)) throw withCaught(error, caught);
      if (REFUSED.has(error) && error.code !== 'breaker.open') throw withCaught(error, caught);
      const found = findCatcher(catchers, error.code);
      if (!found || tried.has(found.catcher.next)) throw withCaught(error, caught);
      caught.push({ from: current, code: error.code, catcher: found.index, next: found.catcher.next });
      current = found.catcher.next;
    }
  }
}

/** What a call under catchers gives back: its value, the model or tool that served it, the failures caught on the way. */
export interface Caught<T> {
  value: T;
  servedBy: string;
  caught: CaughtFailure[];
}

const NONE: CaughtFailure[] = [];

/**
 * A model call, plain or streamed, under the model's catchers: each fallback gets the same request with
 * the catcher's `next` as its model. A model without catchers (the common case) is called directly.
 */
export async function withModelCatchers<T>(
  config: Pick<FmguardConfig, 'models'>,
  request: ChatRequest,
  signals: ReadonlyArray<AbortSignal | undefined>,
  call: (request: ChatRequest) => Promise<T>,
): Promise<Caught<T>> {
  const first = request?.model;
  if (typeof first !== 'string' || modelCatchers(config, first).length === 0) return { value: await call(request), servedBy: first, caught: NONE };
  return withCatchers({
    first,
    catchersOf: (name) => modelCatchers(config, name),
    call: (name) => call(name === first ? request : { ...request, model: name }),
    signals,
  });
}

function withCaught(error: unknown, caught: CaughtFailure[]): unknown {
  if (caught.length > 0 && GuardError.isInstance(error) && error.details.caught === undefined) error.details.caught = caught;
  return error;
}
