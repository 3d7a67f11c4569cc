import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatRequest } from '../../core/chat.ts';
import { errorBody, sendError, sendJson } from './openai-error.ts';
import { createSimModel, type SimModel, type SimModelOptions } from './sim-model.ts';

export interface SimServerOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Options for the model the server creates. */
  model?: SimModelOptions;
  /** Serve an existing model instead (then `model` is ignored). */
  sim?: SimModel;
  /** Larger bodies get a 413. Default 16 MiB. */
  maxBodyBytes?: number;
}

export interface ClientClosedEvent {
  /** The sim's request id (undefined if the client left before the request was read). */
  requestId?: string;
  stream: boolean;
}

export interface SimServerStats {
  requests: number;
  /** Requests whose client went away before the response was complete. */
  clientClosed: number;
}

export interface SimServer {
  /** e.g. http://127.0.0.1:41234 (the OpenAI base URL is `${url}/v1`). */
  url: string;
  port: number;
  sim: SimModel;
  stats: SimServerStats;
  /** 'client-closed' when a client disconnects mid-request; the generation is aborted with it. */
  events: EventEmitter<{ 'client-closed': [ClientClosedEvent] }>;
  /** Aborts requests in flight, closes every connection, stops listening. */
  close(): Promise<void>;
}

/** Header equivalent of the request field `sim`. */
export const SCENARIO_HEADER = 'x-sim-scenario';

/**
 * The simulated model as an OpenAI-compatible HTTP server on plain node:http: `POST /v1/chat/completions`
 * (JSON or SSE) and `GET /v1/models`. A client that disconnects aborts the generation, which the model
 * records, so a gateway's tests can see that their upstream really saw the socket close.
 */
export async function startSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const { port = 0, host = '127.0.0.1', model, maxBodyBytes = 16 * 1024 * 1024 } = options;
  const sim = options.sim ?? createSimModel(model);
  const stats: SimServerStats = { requests: 0, clientClosed: 0 };
  const events = new EventEmitter<{ 'client-closed': [ClientClosedEvent] }>();
  const inFlight = new Set<AbortController>();
  let closing = false;

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    const signal = controller.signal;
    const seen: ClientClosedEvent = { stream: false };
    inFlight.add(controller);
    res.on('close', () => {
      inFlight.delete(controller);
      if (res.writableFinished || closing) return;
      stats.clientClosed++;
      events.emit('client-closed', { ...seen });
      controller.abort(Object.assign(new Error('client closed the connection'), { name: 'AbortError' }));
    });

    const body = await readJson(req, maxBodyBytes);
    if (signal.aborted) return;
    if (!body.ok) return sendJson(res, body.status, errorBody(body.status, body.message));
    const request = body.value as ChatRequest;
    const header = req.headers[SCENARIO_HEADER];
    if (request.sim === undefined && typeof header === 'string') request.sim = header;
    seen.stream = request.stream === true;

    if (!seen.stream) {
      // complete() emits 'call' synchronously as it starts; that is how the request id is learned here.
      const grab = (info: { requestId: string }) => (seen.requestId ??= info.requestId);
      sim.events.on('call', grab);
      const pending = sim.complete(request, { signal });
      sim.events.off('call', grab);
      try {
        sendJson(res, 200, await pending);
      } catch (err) {
        if (!signal.aborted) sendError(res, err);
      }
      return;
    }

    const call = sim.open(request, { signal });
    seen.requestId = call.id;
    try {
      await call.accepted;
    } catch (err) {
      if (!signal.aborted) sendError(res, err);
      return;
    }
    // Headers go out now, before the first token, as a real upstream's do.
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const includeUsage = request.stream_options?.include_usage === true;
    try {
      for await (const chunk of call.chunks) {
        if (chunk.choices.length === 0 && !includeUsage) continue;
        if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drained(res, signal);
      }
      res.end('data: [DONE]\n\n');
    } catch (err) {
      if (signal.aborted) return;
      res.end(`data: ${JSON.stringify(errorBody(500, err instanceof Error ? err.message : String(err)))}\n\n`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    if (path === '/v1/chat/completions') {
      if (req.method === 'POST') return chat(req, res);
      return sendJson(res, 405, errorBody(405, `${req.method} not allowed on ${path}`), { allow: 'POST' });
    }
    if (path === '/v1/models' && req.method === 'GET') {
      const data = sim.modelIds.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fmguard-sim' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    sendJson(res, 404, errorBody(404, `no route for ${req.method} ${path}`));
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    sim,
    stats,
    events,
    async close() {
      closing = true;
      for (const controller of inFlight) controller.abort(new Error('sim server closing'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; status: number; message: string };

async function readJson(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of req as AsyncIterable<Buffer>) {
      size += part.length;
      if (size <= limit) parts.push(part);
    }
  } catch {
    return { ok: false, status: 400, message: 'request body could not be read' };
  }
  if (size > limit) return { ok: false, status: 413, message: `request body exceeds ${limit} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    return { ok: false, status: 400, message: 'request body is not valid JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, status: 400, message: 'request body must be a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Wait for the socket to take more data, or for the abort. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    };
    res.on('drain', done);
    signal.addEventListener('abort', done);
  });
}
