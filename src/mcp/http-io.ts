import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StopCode } from '../core/codes.ts';
import { isHttpFailure } from '../http/error-response.ts';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../http/json-body.ts';
import { readBody } from '../http/read-body.ts';
import { FMGUARD_JSONRPC_ERROR } from './refusals.ts';

/** An HTTP-level refusal in JSON-RPC form (MCP clients parse it), with the stop code in `x-fmguard-code` too. */
export function sendHttpError(
  res: ServerResponse,
  status: number,
  code: StopCode,
  message: string,
  options: { rpcCode?: number; headers?: Record<string, string> } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: options.rpcCode ?? FMGUARD_JSONRPC_ERROR, message, data: { code } }, id: null });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-fmguard-code': code,
    ...options.headers,
  });
  res.end(body);
}

const NOT_PARSED = Symbol('not parsed');

/**
 * The POST body as JSON, or NOT_PARSED after answering the error itself: 413 past the limit, and
 * for text that is not JSON the same -32700 parse error the MCP SDK's transport sends.
 */
export async function readJson(req: IncomingMessage, res: ServerResponse, limit: number): Promise<unknown> {
  let raw: Buffer;
  try {
    raw = await readBody(req, limit);
  } catch (error) {
    if (isHttpFailure(error) && error.status === 413) {
      sendHttpError(res, 413, 'request.invalid', error.error.message, { headers: error.headers });
    } else res.destroy();
    return NOT_PARSED;
  }
  if (jsonDepthExceeds(raw)) {
    sendHttpError(res, 400, 'request.invalid', `Invalid Request: the body nests deeper than ${MAX_JSON_DEPTH} levels`, { rpcCode: -32600 });
    return NOT_PARSED;
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    sendHttpError(res, 400, 'request.invalid', 'Parse error: Invalid JSON', { rpcCode: -32700 });
    return NOT_PARSED;
  }
}

export function parsed(body: unknown): boolean {
  return body !== NOT_PARSED;
}

/** Whether a JSON-RPC body (one message or a batch) opens a session. */
export function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => typeof m === 'object' && m !== null && (m as { method?: unknown }).method === 'initialize');
}
