import type { IncomingMessage } from 'node:http';
import { httpFailure, type HttpFailure } from './error-response.ts';

function tooLarge(limit: number): HttpFailure {
  // `connection: close`: the rest of the body is not read, so the connection cannot be reused.
  return httpFailure(413, 'request.invalid', `request body exceeds the limit of ${limit} bytes`, { connection: 'close' });
}

/**
 * Read the whole request body, up to `limit` bytes. A declared length over the limit is refused
 * before a byte is read; a chunked body is cut as soon as it passes the limit. Rejects with a 413
 * HttpFailure (the caller answers and closes) or a 400 when the client aborts mid-body.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    return Promise.reject(tooLarge(limit));
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
        req.pause();
        reject(tooLarge(limit));
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
