import type { IncomingMessage } from 'node:http';
import { httpFailure } from '../http/error-response.ts';
import { parseJsonBody } from '../http/json-body.ts';
import { readBody } from '../http/read-body.ts';

/** Admin bodies are small commands; anything bigger is a mistake. */
const MAX_ADMIN_BODY = 64 * 1024;

export function invalid(message: string, param?: string) {
  const failure = httpFailure(400, 'request.invalid', message);
  if (param) failure.error.details.param = param;
  return failure;
}

export function notFound(message: string) {
  return httpFailure(404, 'request.invalid', message);
}

/** The JSON object body of a command; an empty body is `{}`. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req, MAX_ADMIN_BODY);
  if (raw.length === 0) return {};
  const value = parseJsonBody(raw);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** An optional string field of a body. */
export function optionalString(body: Record<string, unknown>, name: string, maxLength = 1000): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) throw invalid(`${name}: expected a string of at most ${maxLength} characters`, name);
  return value;
}

/** Query parameters of a URL (the path was routed already). */
export function queryOf(url: string | undefined): URLSearchParams {
  const q = (url ?? '').indexOf('?');
  return new URLSearchParams(q < 0 ? '' : (url ?? '').slice(q + 1));
}

/** A query parameter out of a fixed set, or undefined when absent. */
export function oneOf<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(`${name}: expected one of ${allowed.join(', ')}, got "${value}"`, name);
  return value as T;
}

/** A positive integer query parameter up to `max`, or the default. */
export function limitOf(query: URLSearchParams, fallback: number, max: number): number {
  const text = query.get('limit');
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw invalid(`limit: expected an integer from 1 to ${max}, got "${text}"`, 'limit');
  return n;
}

/** A time query parameter: epoch ms or an ISO date. */
export function timeOf(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw invalid(`${name}: expected epoch milliseconds or an ISO date, got "${text}"`, name);
  return ms;
}

/** A string query parameter, or undefined when absent or empty. */
export function textOf(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}
