import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StopCode } from '../core/codes.ts';
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

export class BodyTooLarge extends Error {}

/** The whole request body, refused past `limit` bytes (declared or streamed). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        done();
        req.pause();
        reject(new BodyTooLarge());
      } else parts.push(part);
    };
    const onEnd = () => {
      done();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
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
    if (error instanceof BodyTooLarge) {
      sendHttpError(res, 413, 'request.invalid', `request body exceeds the limit of ${limit} bytes`, { headers: { connection: 'close' } });
    } else res.destroy();
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
