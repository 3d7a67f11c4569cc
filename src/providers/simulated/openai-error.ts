import type { ServerResponse } from 'node:http';
import { ProviderError } from '../provider.ts';

/** OpenAI's error shape and the headers clients read from it (retry-after on 429). */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: null };
}

const BY_STATUS: Record<number, [type: string, code: string]> = {
  400: ['invalid_request_error', 'invalid_request'],
  404: ['invalid_request_error', 'not_found'],
  405: ['invalid_request_error', 'method_not_allowed'],
  413: ['invalid_request_error', 'request_too_large'],
  429: ['rate_limit_error', 'rate_limit_exceeded'],
  500: ['server_error', 'internal_error'],
  503: ['server_error', 'service_unavailable'],
};

export function errorBody(status: number, message: string): OpenAIErrorBody {
  const [type, code] = BY_STATUS[status] ?? (status >= 500 ? ['server_error', 'upstream_error'] : ['invalid_request_error', 'invalid_request']);
  return { error: { message, type, code, param: null } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A ProviderError keeps its status (and retry-after); anything else is a 500. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof ProviderError ? err.status : 500;
  const message = err instanceof Error ? err.message : String(err);
  const headers: Record<string, string> = {};
  if (err instanceof ProviderError && err.retryAfterMs !== undefined) {
    headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
    // Read by the official OpenAI SDKs in preference to retry-after.
    headers['retry-after-ms'] = String(err.retryAfterMs);
  }
  sendJson(res, status, errorBody(status, message), headers);
}
