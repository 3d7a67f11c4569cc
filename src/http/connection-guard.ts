import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { StopCode } from '../core/codes.ts';
import { guardError } from '../core/errors.ts';
import { errorHeaders, errorJson } from './error-response.ts';

/** A whole HTTP/1.1 error response as raw text (for a socket no ServerResponse exists for), closing the connection. */
export function rawErrorResponse(status: number, reason: string, code: StopCode, message: string, extra: Record<string, string> = {}): string {
  const error = guardError(code, message);
  const body = errorJson(error);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...errorHeaders(error),
    ...extra,
    connection: 'close',
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  return `HTTP/1.1 ${status} ${reason}\r\n${head}\r\n\r\n${body}`;
}

/** What a client error from the HTTP parser or its timers is answered with: status, reason phrase, message. */
function describe(error: NodeJS.ErrnoException): [number, string, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large', 'the request headers exceed the server limit'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'the request (headers or body) did not arrive within the server timeout'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
    case 'HPE_INVALID_CHUNK_SIZE':
      return [400, 'Bad Request', 'the chunked request body is malformed'];
    default:
      return [400, 'Bad Request', 'the request is not valid HTTP'];
  }
}

export interface ConnectionGuardOptions {
  /** Open connections at most; one more is answered 503 `rate.limited` and closed. */
  maxConnections: number;
}

/**
 * Fair shares at the connection level: a connection cap answered with a catalogue error (not a silent
 * drop), and parser errors and timeouts (slow headers, slow body, oversized headers, malformed HTTP)
 * answered in the catalogue's shape before the connection closes.
 */
export function guardConnections(server: Server, { maxConnections }: ConnectionGuardOptions): void {
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    if (open > maxConnections) {
      socket.on('error', () => {});
      socket.end(
        rawErrorResponse(503, 'Service Unavailable', 'rate.limited', `this gateway holds its maximum of ${maxConnections} connections; retry later`, {
          'retry-after': '1',
        }),
      );
      // Nothing of this connection is parsed or served.
      socket.pause();
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Only an answer cut in the middle stops us: after a complete one (bytes pipelined behind a request,
    // e.g. a body sent with no Content-Length, parsed once that request was answered), the 400 is the
    // next response on the wire, and its `connection: close` tells the client not to reuse the socket.
    const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean; writableEnded?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || (response?.headersSent && !response.writableEnded)) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = describe(error);
    socket.end(rawErrorResponse(status, reason, 'request.invalid', message));
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
