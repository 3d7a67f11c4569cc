import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ChatRequest, toUsage, type Usage } from '../../core/chat.ts';
import type { EmbeddingsRequest } from '../../core/wire/embeddings.ts';
import { ResponsesEncoder } from '../../core/wire/responses-events.ts';
import { chatToResponse, type ResponseEnvelope } from '../../core/wire/responses-output.ts';
import { parseResponsesRequest } from '../../core/wire/responses-request.ts';
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

export interface SimServerEvents {
  'client-closed': [ClientClosedEvent];
  request: [{ path: string; body: Record<string, unknown> }];
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
  /** 'client-closed' when a client disconnects mid-request (the generation is aborted with it); 'request' for every JSON body read. */
  events: EventEmitter<SimServerEvents>;
  /** Aborts requests in flight, closes every connection, stops listening. */
  close(): Promise<void>;
}

/** Header equivalent of the request field `sim`. */
export const SCENARIO_HEADER = 'x-sim-scenario';

/**
 * The simulated model as an OpenAI-compatible HTTP server on plain node:http: `POST /v1/chat/completions`
 * (JSON or SSE), `POST /v1/responses` (JSON or SSE), `POST /v1/embeddings` and `GET /v1/models`. A client that disconnects aborts the generation, which the model
 * records, so a gateway's tests can see that their upstream really saw the socket close.
 */
export async function startSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  const { port = 0, host = '127.0.0.1', model, maxBodyBytes = 16 * 1024 * 1024 } = options;
  const sim = options.sim ?? createSimModel(model);
  const stats: SimServerStats = { requests: 0, clientClosed: 0 };
  const events = new EventEmitter<SimServerEvents>();
  const inFlight = new Set<AbortController>();
  let closing = false;
  let responseSequence = 0;

  /** What every POST shares: an abort when the client leaves (reported), and the JSON body. */
  async function begin(req: IncomingMessage, res: ServerResponse, path: string) {
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
    if (body.ok) {
      const header = req.headers[SCENARIO_HEADER];
      if (body.value.sim === undefined && typeof header === 'string') body.value.sim = header;
      seen.stream = body.value.stream === true;
      events.emit('request', { path, body: body.value });
    }
    return { signal, seen, body };
  }

  /** The request id of a non-streamed call: complete() emits 'call' synchronously as it starts. */
  function grabId<T>(seen: ClientClosedEvent, run: () => Promise<T>): Promise<T> {
    const grab = (info: { requestId: string }) => (seen.requestId ??= info.requestId);
    sim.events.on('call', grab);
    try {
      return run();
    } finally {
      sim.events.off('call', grab);
    }
  }

  /** A streamed call once the simulator has accepted it; undefined when it refused (its error sent, unless the client left). */
  async function openAccepted(
    res: ServerResponse,
    signal: AbortSignal,
    seen: ClientClosedEvent,
    request: ChatRequest,
  ): Promise<ReturnType<SimModel['open']> | undefined> {
    const call = sim.open(request, { signal });
    seen.requestId = call.id;
    try {
      await call.accepted;
    } catch (err) {
      if (!signal.aborted) sendError(res, err);
      return undefined;
    }
    return call;
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { signal, seen, body } = await begin(req, res, '/v1/chat/completions');
    if (signal.aborted) return;
    if (!body.ok) return sendJson(res, body.status, errorBody(body.status, body.message));
    const request = body.value as ChatRequest;

    if (!seen.stream) {
      const pending = grabId(seen, () => sim.complete(request, { signal }));
      try {
        sendJson(res, 200, await pending);
      } catch (err) {
        if (!signal.aborted) sendError(res, err);
      }
      return;
    }

    const call = await openAccepted(res, signal, seen, request);
    if (!call) return;
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

  /**
   * `POST /v1/responses`: the OpenAI Responses API, served through fmguard's own translation (the
   * request as Chat Completions for the model, the result as a response object or semantic events).
   * It stands in for an upstream that serves the Responses API, so a gateway's pass-through can be tested.
   */
  async function responses(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { signal, seen, body } = await begin(req, res, '/v1/responses');
    if (signal.aborted) return;
    if (!body.ok) return sendJson(res, body.status, errorBody(body.status, body.message));
    let parsed: ReturnType<typeof parseResponsesRequest>;
    try {
      parsed = parseResponsesRequest(body.value, () => true);
    } catch (err) {
      return sendJson(res, 400, errorBody(400, err instanceof Error ? err.message : String(err)));
    }
    const chat: ChatRequest = { ...parsed.chat, ...(body.value.sim !== undefined ? { sim: body.value.sim } : {}) };
    const envelope = responseEnvelope(parsed.body, chat.model, ++responseSequence);
    if (!seen.stream) {
      try {
        const result = await grabId(seen, () => sim.complete(chat, { signal }));
        sendJson(res, 200, chatToResponse(envelope, result, toUsage(result.usage!)));
      } catch (err) {
        if (!signal.aborted) sendError(res, err);
      }
      return;
    }
    const call = await openAccepted(res, signal, seen, chat);
    if (!call) return;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const encoder = new ResponsesEncoder(envelope);
    const send = async (events: Array<{ type: string }>) => {
      for (const event of events) if (!res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)) await drained(res, signal);
    };
    let usage: Usage | undefined;
    try {
      await send(encoder.start());
      for await (const chunk of call.chunks) {
        if (chunk.usage) usage = toUsage(chunk.usage);
        await send(encoder.chunk(chunk));
      }
      await send(encoder.end(usage));
      res.end();
    } catch (err) {
      if (signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      await send(encoder.fail({ code: 'server_error', message, param: null, error: { type: 'server_error', code: 'server_error', message } })).catch(() => {});
      res.end();
    }
  }

  /** `POST /v1/embeddings`: deterministic vectors (see embeddings.ts). */
  async function embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { signal, seen, body } = await begin(req, res, '/v1/embeddings');
    if (signal.aborted) return;
    if (!body.ok) return sendJson(res, body.status, errorBody(body.status, body.message));
    try {
      sendJson(res, 200, await grabId(seen, () => sim.embed(body.value as EmbeddingsRequest, { signal })));
    } catch (err) {
      if (!signal.aborted) sendError(res, err);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const post = POSTS[path];
    if (post) {
      if (req.method === 'POST') return post(req, res);
      return sendJson(res, 405, errorBody(405, `${req.method} not allowed on ${path}`), { allow: 'POST' });
    }
    if (path === '/v1/models' && req.method === 'GET') {
      const data = sim.modelIds.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fmguard-sim' }));
      return sendJson(res, 200, { object: 'list', data });
    }
    sendJson(res, 404, errorBody(404, `no route for ${req.method} ${path}`));
  }

  const POSTS: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/v1/chat/completions': chat,
    '/v1/responses': responses,
    '/v1/embeddings': embeddings,
  };
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

/** Ids of one simulated response, numbered per server so they are stable in tests. */
function responseEnvelope(request: Record<string, unknown>, model: string, n: number): ResponseEnvelope {
  let item = 0;
  return {
    ids: { response: `resp_sim_${n}`, item: (prefix) => `${prefix}_sim_${n}_${++item}` },
    createdAt: 0,
    model,
    request,
  };
}
