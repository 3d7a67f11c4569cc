import { ProviderError } from '../../index.ts';
import { findGuardError } from './guard-errors.ts';

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** The wait an upstream asked for, from `retry-after-ms` or `retry-after` (seconds). */
export function retryAfterMs(headers: unknown): number | undefined {
  const ms = Number(headerValue(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const seconds = Number(headerValue(headers, 'retry-after'));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * An error out of a framework's model, for the runtime: an HTTP error (the openai client's APIError,
 * and the like, carry `status` and `headers`) becomes a provider error with that status and retry-after,
 * so fmguard's retry policy and breakers judge it as any upstream failure. Stops and aborts pass as they are.
 */
export function toProviderError(error: unknown): unknown {
  if (findGuardError(error) || (error instanceof Error && error.name === 'AbortError')) return error;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number') return error;
  const message = error instanceof Error ? error.message : String(error);
  return Object.assign(new ProviderError(message, { status, retryAfterMs: retryAfterMs((error as { headers?: unknown }).headers) }), { cause: error });
}
