import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { withTraceHeaders } from '../../telemetry/trace-context.ts';

// Statuses whose Response must have no body.
const NULL_BODY = new Set([101, 204, 205, 304]);

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return { ...(headers as Record<string, string>) };
}

function responseHeaders(res: IncomingMessage): Headers {
  const out = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  return out;
}

function bodyOf(init: RequestInit | undefined): string | Uint8Array | undefined {
  const body = init?.body;
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw new TypeError('this fetch sends string or byte bodies only');
}

/**
 * A `fetch` for the gateway's upstream MCP clients on node:http with a keep-alive agent. Measured
 * here at a fraction of undici fetch's per-request cost on the proxied hop, and it adds no abort
 * listener that outlives its request (undici leaves one on the transport's long-lived signal until
 * GC). JSON responses are buffered; event streams stay streams. Redirects are never followed
 * (the SDK decides about them).
 */
export function createNodeFetch(): { fetch: FetchLike; close(): void } {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const fetch: FetchLike = (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = typeof input === 'string' ? new URL(input) : input;
      const secure = url.protocol === 'https:';
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) return reject(signal.reason);
      const req = (secure ? httpsRequest : httpRequest)(url, {
        method: init?.method ?? 'GET',
        headers: withTraceHeaders(headerRecord(init?.headers)),
        agent: secure ? agents.https : agents.http,
      });
      const onAbort = () => {
        req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason)));
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const unlink = () => signal?.removeEventListener('abort', onAbort);
      req.on('error', (error) => {
        unlink();
        reject(error);
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 502;
        const headers = responseHeaders(res);
        res.once('close', unlink);
        if (NULL_BODY.has(status)) {
          res.resume();
          return resolve(new Response(null, { status, headers }));
        }
        if (headers.get('content-type')?.includes('text/event-stream')) {
          return resolve(new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers }));
        }
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('error', reject);
        res.on('end', () => {
          const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
          resolve(new Response(new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), { status, headers }));
        });
      });
      req.end(bodyOf(init));
    });
  return {
    fetch,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
