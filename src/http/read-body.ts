import type { IncomingMessage } from 'node:http';
import { httpFailure, type HttpFailure } from './error-response.ts';

/**
 * After a 413, the rest of a body is read and thrown away up to this many bytes, so the client is
 * still sending into an open connection when the answer reaches it (closing on an unread body makes
 * the kernel reset the connection, and the client sees EPIPE or a reset instead of the 413). A body
 * that goes on past it is cut.
 */
export const DRAIN_CAP_BYTES = 128 * 1024 * 1024;

function tooLarge(limit: number, close: boolean): HttpFailure {
  // Drained bodies leave the connection reusable; one declared beyond the drain cap cannot be read to its end.
  return httpFailure(413, 'request.invalid', `request body exceeds the limit of ${limit} bytes`, close ? { connection: 'close' } : undefined);
}

/**
 * Discard the rest of a refused body (the answer goes out at once): up to `cap` more bytes are read
 * and dropped; past that the connection is destroyed.
 */
function discardRest(req: IncomingMessage, cap: number): void {
  let seen = 0;
  const onData = (part: Buffer) => {
    seen += part.length;
    if (seen > cap) {
      req.off('data', onData);
      req.socket?.destroy();
    }
  };
  req.on('data', onData);
  req.on('error', () => {});
  req.resume();
}

/** Whether Node closes the connection right after the answer (`connection: close`, or HTTP/1.0 without keep-alive). */
function closesAfterAnswer(req: IncomingMessage): boolean {
  const connection = String(req.headers.connection ?? '').toLowerCase();
  if (/(^|,)\s*close\s*(,|$)/.test(connection)) return true;
  return req.httpVersion === '1.0' && !/(^|,)\s*keep-alive\s*(,|$)/.test(connection);
}

/** Settles once the request's body has been read to its end (or the request is gone). */
function bodyDone(req: IncomingMessage): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      req.off('end', done);
      req.off('close', done);
      req.off('aborted', done);
      resolve();
    };
    req.on('end', done);
    req.on('close', done);
    req.on('aborted', done);
  });
}

/**
 * Refuse a body: drain the rest, and answer at once, unless Node would close the connection right
 * after the answer (`connection: close`): closing with the upload still arriving makes the kernel
 * reset the connection, and a client that reads only after sending (curl, requests) loses the 413.
 * Then the answer waits until the body is drained (at most the drain cap; past it the connection is cut).
 */
function refuse(req: IncomingMessage, limit: number, drainCap: number, beyondCap: boolean): Promise<never> {
  discardRest(req, drainCap);
  const failure = tooLarge(limit, beyondCap);
  if (beyondCap || !closesAfterAnswer(req)) return Promise.reject(failure);
  return bodyDone(req).then(() => Promise.reject(failure));
}

/**
 * Read the whole request body, up to `limit` bytes. A declared length over the limit is refused
 * before a byte is kept; a chunked body as soon as it passes the limit. Either way the rest of the
 * body is drained (up to DRAIN_CAP_BYTES) while the 413 goes out, so every client reads its 413.
 * Rejects with a 413 HttpFailure (the caller answers) or a 400 when the client aborts mid-body.
 */
export function readBody(req: IncomingMessage, limit: number, drainCap: number = DRAIN_CAP_BYTES): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return refuse(req, limit, drainCap, Number(declared) > drainCap);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
    };
    const onData = (part: Buffer) => {
      size += part.length;
      if (size > limit) {
        cleanup();
        parts.length = 0;
        refuse(req, limit, drainCap, false).catch(reject);
        return;
      }
      parts.push(part);
    };
    const onEnd = () => {
      cleanup();
      resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
    };
    const onError = () => {
      cleanup();
      reject(httpFailure(400, 'request.invalid', 'the request body could not be read'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}
