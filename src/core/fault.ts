import { isUpstreamFailure } from './codes.ts';
import { GuardError } from './errors.ts';

/**
 * Whose fault a failed call is. THE rule (one place, used by breakers, metrics and so alarms, and
 * the error-streak detectors): only a failure of the upstream itself — it answered 5xx, could not be
 * reached, or was too slow — is `upstream`. A request the upstream rejected, a refusal, or a client
 * mistake is `request`; a failure inside fmguard while handling the call (a stack overflow on
 * hostile input, a bug) is `internal`. Neither may move a breaker or an alarm shared by every tenant.
 */
export type Fault = 'upstream' | 'request' | 'internal';

const INTERNAL = Symbol.for('fmguard.internalFault');

/** Mark an error as fmguard's own failure (never the upstream's), whatever its code. */
export function markInternal<E extends GuardError>(error: E): E {
  Object.defineProperty(error, INTERNAL, { value: true, enumerable: false });
  return error;
}

/**
 * Whether a thrown value is fmguard's own failure rather than the upstream's: the engine's resource
 * errors (`RangeError`: maximum call stack size, invalid string or array length) come from the
 * input's shape or size, never from an upstream's answer.
 */
export function isInternalThrow(error: unknown): boolean {
  return error instanceof RangeError || (GuardError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[INTERNAL] === true);
}

/** The fault of a failed call, from its error (or its code and whether it was marked internal, for events). */
export function faultOf(error: GuardError | { code: string; internal?: boolean }): Fault {
  const internal = GuardError.isInstance(error) ? (error as unknown as Record<symbol, unknown>)[INTERNAL] === true : error.internal === true;
  if (internal) return 'internal';
  return isUpstreamFailure(error.code) ? 'upstream' : 'request';
}

/** Whether a failure may count against the breakers, the error metrics (alarms) and shared error streaks. */
export function countsAgainstUpstream(error: GuardError | { code: string; internal?: boolean }): boolean {
  return faultOf(error) === 'upstream';
}
