import { APICallError } from 'ai';
import { ProviderError, type GuardError, type StopCode } from '../../index.ts';
import { clientShouldRetry, describeStop, findGuardError } from '../shared/guard-errors.ts';
import { retryAfterMs } from '../shared/provider-errors.ts';

/**
 * A refusal or stop as the AI SDK's own API error: the SDK's retry logic reads `isRetryable` (true only
 * when the code says a retry can help and fmguard has not already spent its retries), `statusCode` is
 * the code's HTTP status, `retry-after-ms` is set when the wait is known, and `code` / `data` carry the
 * fmguard stop code and its details.
 */
export class GuardAPICallError extends APICallError {
  readonly code: StopCode;
  readonly guardError: GuardError;

  constructor(error: GuardError, model: string) {
    const waitMs = error.details.retryAfterMs;
    super({
      message: describeStop(error),
      url: `fmguard:model/${model}`,
      requestBodyValues: { model },
      statusCode: error.status,
      responseHeaders: { 'x-fmguard-code': error.code, ...(typeof waitMs === 'number' ? { 'retry-after-ms': String(waitMs) } : {}) },
      isRetryable: clientShouldRetry(error),
      data: error.toJSON(),
      cause: error,
    });
    this.code = error.code;
    this.guardError = error;
  }
}

/** What the AI SDK sees for an error out of the runtime: its API error for a refusal or stop, else the error. */
export function toSdkError(error: unknown, model: string): unknown {
  const guard = findGuardError(error);
  return guard ? new GuardAPICallError(guard, model) : error;
}

/**
 * What the runtime sees for an error out of the wrapped model: a provider error with the upstream's
 * status and retry-after, so fmguard's retry policy and breakers judge it as they judge any upstream.
 */
export function toProviderError(error: unknown): unknown {
  if (findGuardError(error) || (error instanceof Error && error.name === 'AbortError')) return error;
  if (APICallError.isInstance(error)) {
    const providerError = new ProviderError(error.message, { status: error.statusCode ?? 502, retryAfterMs: retryAfterMs(error.responseHeaders) });
    return Object.assign(providerError, { cause: error });
  }
  return error;
}
