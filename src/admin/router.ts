import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Guard } from '../runtime/guard.ts';
import { httpFailure } from '../http/error-response.ts';
import { invalid } from './request.ts';

/** What a handler gets: the guard, the request, the decoded path parameters and the query. */
export interface AdminRequest {
  guard: Guard;
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
}

/** A handler's answer: a JSON body, 200 unless it says otherwise; or `stream`, which takes the response over (SSE). */
export interface AdminReply {
  status?: number;
  body?: unknown;
  stream?: (res: ServerResponse) => void;
}

export type AdminHandlerFn = (request: AdminRequest) => Promise<AdminReply>;

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** Segments after `/admin/`; `:name` captures one segment. */
  pattern: string;
  handler: AdminHandlerFn;
}

export type Match = { handler: AdminHandlerFn; params: Record<string, string> };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalid(`"${segment}" in the path is not valid percent-encoding`);
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = decode(segments[i]!);
    else if (p !== segments[i]) return undefined;
  }
  return params;
}

/** A tiny table router: admin traffic is rare, so clarity beats speed here. */
export function createRouter(routes: readonly Route[]) {
  const compiled = routes.map((route) => ({ ...route, parts: route.pattern.split('/') }));
  return (method: string, path: string): Match => {
    const segments = path
      .replace(/^\/admin\/?/, '')
      .replace(/\/$/, '')
      .split('/');
    const allowed: string[] = [];
    for (const route of compiled) {
      const params = matchSegments(route.parts, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) throw httpFailure(405, 'request.invalid', `${method} is not allowed on ${path}`, { allow: allowed.join(', ') });
    throw httpFailure(404, 'request.invalid', `no admin route for ${method} ${path}`);
  };
}
