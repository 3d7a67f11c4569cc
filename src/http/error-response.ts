import type { ServerResponse } from 'node:http';
import { shouldRetry, type StopCode } from '../core/codes.ts';
import { GuardError, guardError } from '../core/errors.ts';

/** The OpenAI error shape, with fmguard's stop code and the numbers behind it. */
export interface GatewayErrorBody {
  error: {
    message: string;
    type: 'fmguard_error';
    code: StopCode;
    param: string | null;
    fmguard: Record<string, unknown>;
  };
}

/** An error the gateway reports with a status other than its code's (404, 405, 413, 500). */
export interface HttpFailure {
  error: GuardError;
  status: number;
  headers?: Record<string, string>;
}

/** Wrap an error with an explicit HTTP status (the body still carries a catalogue code). */
export function httpFailure(status: number, code: StopCode, message: string, headers?: Record<string, string>): HttpFailure {
  return { error: guardError(code, message), status, headers };
}

export function isHttpFailure(value: unknown): value is HttpFailure {
  return (
    typeof value === 'object' && value !== null && GuardError.isInstance((value as HttpFailure).error) && typeof (value as HttpFailure).status === 'number'
  );
}

export function errorBody(error: GuardError): GatewayErrorBody {
  const param = typeof error.details.param === 'string' ? error.details.param : null;
  return { error: { message: error.message, type: 'fmguard_error', code: error.code, param, fmguard: { ...error.details } } };
}

/** JSON text of the body; details that do not serialise (a bigint, a cycle) are dropped, never thrown. */
export function errorJson(error: GuardError): string {
  try {
    return JSON.stringify(errorBody(error));
  } catch {
    return JSON.stringify({ error: { message: error.message, type: 'fmguard_error', code: error.code, param: null, fmguard: {} } });
  }
}

/** `x-fmguard-code`, `x-should-retry` (the official SDKs obey it) and `retry-after` when known. */
export function errorHeaders(error: GuardError): Record<string, string> {
  const headers: Record<string, string> = {
    'x-fmguard-code': error.code,
    // Retryable codes stay retryable unless fmguard already spent its own retries on this call.
    // `retryable: false`: a retry cannot help this time (a reserved concurrency of 0).
    'x-should-retry': shouldRetry(error.code) && error.details.retriesSpent !== true && error.details.retryable !== false ? 'true' : 'false',
  };
  // The retry budget capped this call's retries: say so rather than capping silently.
  if (error.details.retryDenied === 'budget') headers['x-fmguard-retry-denied'] = 'budget';
  const after = error.details.retryAfterMs;
  if (typeof after === 'number' && Number.isFinite(after) && after >= 0) {
    headers['retry-after'] = String(Math.ceil(after / 1000));
    // The OpenAI SDKs read this one first: sub-second precision for short waits.
    headers['retry-after-ms'] = String(Math.ceil(after));
  }
  return headers;
}

/** What any thrown value becomes on the wire: a GuardError keeps its code; anything else is a 500. */
export function toFailure(error: unknown): HttpFailure & { internal: boolean } {
  if (isHttpFailure(error)) return { ...error, internal: false };
  if (GuardError.isInstance(error)) return { error, status: error.status, internal: false };
  // Never the original message or stack: it can name files, hosts or secrets.
  return { error: guardError('upstream.error', 'internal error in the fmguard gateway'), status: 500, internal: true };
}

/** Send an error response; `extra` adds headers (the run id). Safe to call once headers are out: it only closes then. */
export function sendFailure(res: ServerResponse, failure: HttpFailure, extra?: Record<string, string>): void {
  sendFailureText(res, failure, () => errorJson(failure.error), extra);
}

/** `sendFailure` with another API's error body (`text`), the same status and headers. */
export function sendFailureText(res: ServerResponse, failure: HttpFailure, text: () => string, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = text();
  res.writeHead(failure.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...errorHeaders(failure.error),
    ...failure.headers,
    ...extra,
  });
  res.end(body);
}

/** Where a request failed, for an `onError` hook. */
export interface FailedRequest {
  method: string;
  path: string;
}

/**
 * Answer a request whose handler threw: its catalogue error, after reporting an internal failure (not
 * a GuardError) to `onError`, whose own failure must not take the response down.
 */
export function answerThrown(res: ServerResponse, error: unknown, where: FailedRequest, onError?: (error: unknown, where: FailedRequest) => void): void {
  const failure = toFailure(error);
  if (failure.internal) {
    try {
      onError?.(error, where);
    } catch {
      // The hook's own failure must not take a response down.
    }
  }
  sendFailure(res, failure);
}
