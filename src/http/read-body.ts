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

/**
 * Read the whole request body, up to `limit` bytes. A declared length over the limit is refused
 * before a byte is kept; a chunked body as soon as it passes the limit. Either way the rest of the
 * body is drained (up to DRAIN_CAP_BYTES) while the 413 goes out, so every client reads its 413.
 * Rejects with a 413 HttpFailure (the caller answers) or a 400 when the client aborts mid-body.
 */
export function readBody(req: IncomingMessage, limit: number, drainCap: number = DRAIN_CAP_BYTES): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    discardRest(req, drainCap);
    return Promise.reject(tooLarge(limit, Number(declared) > drainCap));
  }
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
        discardRest(req, drainCap);
        reject(tooLarge(limit, false));
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
