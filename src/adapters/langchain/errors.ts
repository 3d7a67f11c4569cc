import type { GuardError, GuardErrorDetails, StopCode } from '../../index.ts';
import { clientShouldRetry, describeStop, findGuardError } from '../shared/guard-errors.ts';

/**
 * A refusal or stop of the run inside a LangChain agent: `code: message`, with the code, its details
 * and whether a retry can help; the GuardError is its `cause`. LangChain wraps errors thrown by
 * middleware in its `MiddlewareError` (keeping this error's name, message and this error as `cause`);
 * `findGuardError(error)` reaches the GuardError through either.
 */
export class GuardStopError extends Error {
  readonly code: StopCode;
  readonly details: GuardErrorDetails;
  readonly retryable: boolean;

  constructor(error: GuardError) {
    super(describeStop(error), { cause: error });
    this.name = 'GuardStopError';
    this.code = error.code;
    this.details = error.details;
    this.retryable = clientShouldRetry(error);
  }
}

export function toLangChainError(error: unknown): unknown {
  const guard = findGuardError(error);
  return guard ? new GuardStopError(guard) : error;
}
