import type { ServerResponse } from 'node:http';
import type { StopCode } from '../core/codes.ts';
import type { GuardError } from '../core/errors.ts';
import { type HttpFailure, sendFailureText } from '../http/error-response.ts';

/** Anthropic's error shape, with fmguard's stop code (also as `details.error_code`, which the SDK surfaces as `errorCode`). */
export interface AnthropicErrorBody {
  type: 'error';
  error: {
    type: string;
    message: string;
    code: StopCode;
    details: { error_code: StopCode };
    fmguard: Record<string, unknown>;
  };
  request_id: null;
}

/** Anthropic's error type for an HTTP status (the status itself stays fmguard's, per stop code). */
const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
};

export function anthropicErrorType(status: number): string {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicErrorObject(error: GuardError, status = error.status): AnthropicErrorBody['error'] {
  let fmguard: Record<string, unknown>;
  try {
    // Details that do not serialise (a bigint, a cycle) are dropped, never thrown.
    fmguard = JSON.parse(JSON.stringify(error.details)) as Record<string, unknown>;
  } catch {
    fmguard = {};
  }
  return { type: anthropicErrorType(status), message: error.message, code: error.code, details: { error_code: error.code }, fmguard };
}

export function anthropicErrorBody(error: GuardError, status = error.status): AnthropicErrorBody {
  return { type: 'error', error: anthropicErrorObject(error, status), request_id: null };
}

/** An error response in Anthropic's shape, with fmguard's status and headers (`x-fmguard-code`, `x-should-retry`, `retry-after`). */
export function sendAnthropicFailure(res: ServerResponse, failure: HttpFailure, extra?: Record<string, string>): void {
  sendFailureText(res, failure, () => JSON.stringify(anthropicErrorBody(failure.error, failure.status)), extra);
}
