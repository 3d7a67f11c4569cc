import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeServer {
  url: string;
  port: number;
  /** Sockets accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections: number;
  /** Sockets that have closed. */
  socketsClosed: number;
  /** Responses whose client went away before they were finished. */
  clientClosed: number;
  requests: SeenRequest[];
  /** Resolves at the next client close of an unfinished response. */
  nextClientClose(): Promise<void>;
  close(): Promise<void>;
}

export type FakeHandler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

/** A loopback node:http server that records what it saw; the handler writes the response. */
export async function startFakeServer(handler: FakeHandler): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const server = createServer({ keepAlive: true }, async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req as AsyncIterable<Buffer>) parts.push(part);
    const text = Buffer.concat(parts).toString('utf8');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the raw text
    }
    const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
    fake.requests.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) {
        fake.clientClosed++;
        server.emit('client-closed');
      }
    });
    try {
      await handler(seen, res);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (socket: Socket) => {
    fake.connections++;
    sockets.add(socket);
    socket.on('close', () => {
      fake.socketsClosed++;
      sockets.delete(socket);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const fake: FakeServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    socketsClosed: 0,
    clientClosed: 0,
    requests: [],
    nextClientClose: () => once(server, 'client-closed').then(() => undefined),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

/** Write an SSE event. */
export function sse(res: ServerResponse, data: unknown, event?: string): void {
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

export function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

export const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Collect an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

export function signal(): AbortSignal {
  return new AbortController().signal;
}
