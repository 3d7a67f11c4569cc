import { ProviderError } from './provider.ts';
import { readCapped, type Upstream, type UpstreamResponse } from './http.ts';

type Headers = UpstreamResponse['headers'];

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The delay an upstream asked for: `retry-after-ms` (OpenAI's, more precise) first, then
 * `retry-after` as seconds or as an HTTP date (relative to `now`). Undefined when absent or garbled.
 */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const ms = header(headers, 'retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const after = header(headers, 'retry-after')?.trim();
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000);
  const at = Date.parse(after);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** HTTP-ish status for an error that arrives inside a 200 stream, from its type or code. */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  api_error: 500,
  server_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export function statusForType(type: string | undefined, fallback = 502): number {
  return (type && STATUS_BY_TYPE[type]) || fallback;
}

export interface UpstreamErrorInfo {
  message?: string;
  /** OpenAI `code` (e.g. insufficient_quota). */
  code?: string;
  /** OpenAI `type` or Anthropic `error.type` (e.g. overloaded_error). */
  type?: string;
  status?: number;
}

/**
 * The message and type from the error bodies in the wild: OpenAI and Anthropic
 * (`{error: {message, type, code}}`), Ollama (`{error: "…"}`), others (`{message}`, `{detail}`).
 */
export function errorInfo(payload: unknown): UpstreamErrorInfo {
  if (!payload || typeof payload !== 'object') return {};
  const p = payload as Record<string, unknown>;
  const inner = p.error;
  if (typeof inner === 'string') return { message: inner };
  if (inner && typeof inner === 'object') {
    const e = inner as Record<string, unknown>;
    const code = typeof e.code === 'string' ? e.code : undefined;
    const type = typeof e.type === 'string' ? e.type : undefined;
    const status = typeof e.status === 'number' ? e.status : undefined;
    return { message: typeof e.message === 'string' ? e.message : undefined, code, type, status };
  }
  if (typeof p.message === 'string') return { message: p.message };
  if (typeof p.detail === 'string') return { message: p.detail };
  return {};
}

/** "message (type)", the type kept because it tells e.g. a quota error from a rate limit, both 429. */
export function formatMessage(info: UpstreamErrorInfo, fallback: string): string {
  const message = info.message?.trim() || fallback;
  const label = info.code ?? info.type;
  return label && !message.includes(label) ? `${message} (${label})` : message;
}

/** A non-2xx response as a ProviderError; consumes (a bounded part of) the body. */
export async function errorFromResponse(upstream: Upstream, res: UpstreamResponse, now: number): Promise<ProviderError> {
  const text = await readCapped(res.body, 16 * 1024);
  let info: UpstreamErrorInfo = {};
  try {
    info = errorInfo(JSON.parse(text));
  } catch {
    const plain = text.trim().slice(0, 300);
    if (plain) info = { message: plain };
  }
  const message = upstream.redact(formatMessage(info, `HTTP ${res.status}`));
  return new ProviderError(message, { status: res.status, retryAfterMs: retryAfterMs(res.headers, now) });
}

/** An `{"error": …}` event in the middle of a stream. */
export function errorFromEvent(upstream: Upstream, payload: unknown): ProviderError {
  const info = errorInfo(payload);
  const message = upstream.redact(formatMessage(info, 'the upstream reported an error mid-stream'));
  const status = info.status ?? statusForType(info.code, statusForType(info.type));
  return new ProviderError(message, { status });
}

/** JSON from an upstream; garbage is the upstream's failure (502), not ours. */
export function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError(`${name}: the upstream sent invalid JSON`, { status: 502 });
  }
}
