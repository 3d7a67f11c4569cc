import type { StopCode } from '../../core/codes.ts';
import { ProviderError } from '../provider.ts';

/**
 * Bedrock Runtime exceptions (by their modeled name) to the stop-code catalogue. The status is the
 * one Bedrock documents for the exception; the code is what fmguard retries on and reports:
 * - throttles and quota refusals → `rate.limited` (429, retryable: the next window may have room);
 * - the request itself is wrong (validation, unknown model) → `request.invalid` (never retried);
 * - everything else (model not ready, model errors and timeouts, service failures, access denied,
 *   conflicts, unknown exceptions, network failures) → `upstream.error`.
 */
export const BEDROCK_ERRORS: Readonly<Record<string, { status: number; code: StopCode }>> = {
  ThrottlingException: { status: 429, code: 'rate.limited' },
  ServiceQuotaExceededException: { status: 429, code: 'rate.limited' },
  ValidationException: { status: 400, code: 'request.invalid' },
  ResourceNotFoundException: { status: 404, code: 'request.invalid' },
  AccessDeniedException: { status: 403, code: 'upstream.error' },
  ConflictException: { status: 409, code: 'upstream.error' },
  ModelNotReadyException: { status: 503, code: 'upstream.error' },
  ModelTimeoutException: { status: 504, code: 'upstream.error' },
  ModelErrorException: { status: 502, code: 'upstream.error' },
  ModelStreamErrorException: { status: 502, code: 'upstream.error' },
  InternalServerException: { status: 500, code: 'upstream.error' },
  ServiceUnavailableException: { status: 503, code: 'upstream.error' },
};

interface AwsErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $metadata?: { requestId?: string; httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** The AWS request id an SDK error carries, if any. */
export function requestIdOf(error: unknown): string | undefined {
  const id = (error as AwsErrorShape | null)?.$metadata?.requestId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function retryAfterOf(error: AwsErrorShape): number | undefined {
  const value = error.$response?.headers?.['retry-after']?.trim();
  return value && /^\d+(\.\d+)?$/.test(value) ? Math.ceil(Number(value) * 1000) : undefined;
}

/** An SDK (or network) error as a ProviderError with its catalogue code. */
export function toProviderError(error: unknown, providerName: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as AwsErrorShape;
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const known = BEDROCK_ERRORS[name];
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : name;
  const requestId = requestIdOf(error);
  const suffix = requestId ? ` (request id ${requestId})` : '';
  if (known) {
    return withCause(
      new ProviderError(`${providerName}: ${name}: ${message}${suffix}`, { status: known.status, code: known.code, retryAfterMs: retryAfterOf(e) }),
      error,
    );
  }
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 400) {
    // A modeled-less HTTP failure: the status decides, as for any HTTP upstream.
    return withCause(new ProviderError(`${providerName}: ${name}: ${message}${suffix}`, { status }), error);
  }
  const code = typeof e.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : '';
  return withCause(new ProviderError(`${providerName}: upstream unreachable or failed: ${message}${code}`, { status: 502 }), error);
}

function withCause(wrapped: ProviderError, cause: unknown): ProviderError {
  wrapped.cause = cause;
  return wrapped;
}
