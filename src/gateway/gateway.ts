import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer } from 'node:net';
import type { Guard } from '../runtime/guard.ts';
import { createAdminHandler, type AdminHandler } from '../admin/index.ts';
import { createConsoleHandler, type ConsoleOptions } from '../console/index.ts';
import { createMcpHandler, type McpHandlerOptions } from '../mcp/index.ts';
import { withIncomingTrace } from '../telemetry/trace-context.ts';
import { sendAnthropicFailure } from './anthropic-errors.ts';
import { handleChatCompletions } from './chat-completions.ts';
import { handleEmbeddings } from './embeddings.ts';
import { handleMessages } from './messages.ts';
import { handleResponses } from './responses.ts';
import type { GatewayContext, GatewayErrorContext } from './context.ts';
import { httpFailure, sendFailure, toFailure } from '../http/error-response.ts';
import { handleModels } from './models.ts';
import { handleHealthz, handleMetrics, handleReadyz } from './probes.ts';
import type { ToolCallViolation } from './tool-calls.ts';
import { pathOf } from '../http/path.ts';
import { guardConnections } from '../http/connection-guard.ts';
import { type AccessLogSink, recordAccess, withAccessEntry } from './access-log.ts';

export interface GatewayOptions {
  guard: Guard;
  /** The in-process server of a `builtin` tool server on /mcp (wiring/gateway.ts passes the demo tools). */
  builtin?: McpHandlerOptions['builtin'];
  /** Larger request bodies get a 413. Default: the config's `server.maxBodyBytes`, else 4 MiB. */
  maxBodyBytes?: number;
  /** A proposed tool call that fails the check: refuse the response with its code, or strip the call and add a note. */
  toolCallViolation?: ToolCallViolation;
  /** Unexpected errors (answered as a 500 without details). The library never logs. */
  onError?: (error: unknown, where: GatewayErrorContext) => void;
  /** `/readyz` fails when the store takes longer than this. Default 1000. */
  readyTimeoutMs?: number;
  /** Idle keep-alive connections close after this. Default 65 s (above common load-balancer idle timeouts). */
  keepAliveTimeoutMs?: number;
  /** The request's headers must arrive within this (checked every second). Default: `server.headersTimeoutMs`, else 10 s. */
  headersTimeoutMs?: number;
  /** The whole request (not the response: streams run longer) must arrive within this. Default: `server.requestTimeoutMs`, else 60 s. */
  requestTimeoutMs?: number;
  /** `close()` without an argument gives requests in flight this long. Default: `server.shutdownGraceMs`, else 5000. */
  shutdownGraceMs?: number;
  /** Open connections at most; one more is answered 503 `rate.limited`. Default: `server.maxConnections`, else 10,000. */
  maxConnections?: number;
  /** The console on `/console` (on whenever `server.adminToken` is set): session length, where its built files are. */
  console?: Pick<ConsoleOptions, 'sessionTtlMs' | 'assetsDir' | 'signInLimit'>;
  /** One entry per request (wiring/access-log.ts writes them as JSON lines with pino). Default: none. */
  accessLog?: AccessLogSink;
}

export interface GatewayAddress {
  /** e.g. http://127.0.0.1:8787 (the OpenAI base URL is `${url}/v1`). */
  url: string;
  host: string;
  port: number;
}

export interface Gateway {
  readonly server: Server;
  listen(port?: number, host?: string): Promise<GatewayAddress>;
  /**
   * Stop accepting (a request on a kept-alive connection is answered 503 `gateway.shutting_down`);
   * requests in flight get `graceMs` (default `shutdownGraceMs`) to finish. Then their calls are cut
   * with `gateway.shutting_down`: a plain request is answered 503 with it, a stream gets one error
   * event and ends; their reservations are released and their events recorded. Resolves once every
   * answer is out and every run of its own has ended, so the guard (the caller's) can then close and
   * flush the audit log with nothing lost.
   */
  close(graceMs?: number): Promise<void>;
}

const noAccessLog: AccessLogSink = () => {};

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
/** After the grace, cut calls get this long to write their answers before their connections are closed. */
const CUT_ANSWER_MS = 5000;

function shuttingDown(message = 'the gateway is shutting down; retry on another replica or after it restarts') {
  return httpFailure(503, 'gateway.shutting_down', message, { connection: 'close', 'retry-after': '1' });
}

/** Resolves when `done()` holds (checked on every change), or after `ms`. */
function until(done: () => boolean, changed: Set<() => void>, ms: number): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!done()) return;
      finish();
    };
    const timer = setTimeout(() => finish(), ms);
    const finish = () => {
      clearTimeout(timer);
      changed.delete(check);
      resolve();
    };
    changed.add(check);
  });
}

function methodNotAllowed(method: string, path: string, allow: string) {
  return httpFailure(405, 'request.invalid', `${method} is not allowed on ${path}`, { allow });
}

interface Mounts {
  admin?: AdminHandler;
  mcp?: { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> };
  console?: { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> };
}

async function route(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, path: string, { admin, mcp, console: ui }: Mounts = {}): Promise<void> {
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  switch (path) {
    case '/v1/chat/completions':
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
      return handleChatCompletions(ctx, req, res);
    case '/v1/responses':
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
      return handleResponses(ctx, req, res);
    case '/v1/messages':
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
      return handleMessages(ctx, req, res);
    case '/v1/embeddings':
      if (method !== 'POST') throw methodNotAllowed(method, path, 'POST');
      return handleEmbeddings(ctx, req, res);
    case '/v1/models':
      if (!get) throw methodNotAllowed(method, path, 'GET');
      return handleModels(ctx, req, res);
    case '/healthz':
      if (!get) throw methodNotAllowed(method, path, 'GET');
      return handleHealthz(res);
    case '/readyz':
      if (!get) throw methodNotAllowed(method, path, 'GET');
      return handleReadyz(ctx, res);
    case '/metrics':
      if (!get) throw methodNotAllowed(method, path, 'GET');
      return handleMetrics(ctx, req, res);
  }
  if (path.startsWith('/v1/models/')) {
    if (!get) throw methodNotAllowed(method, path, 'GET');
    let id: string;
    try {
      id = decodeURIComponent(path.slice('/v1/models/'.length));
    } catch {
      throw httpFailure(400, 'request.invalid', 'the model id in the path is not valid percent-encoding');
    }
    return handleModels(ctx, req, res, id);
  }
  if (mcp && (path === '/mcp' || path.startsWith('/mcp/')) && (await mcp.handle(req, res))) return;
  if (admin && path.startsWith('/admin') && (await admin.handle(req, res))) return;
  if (ui && path.startsWith('/console') && (await ui.handle(req, res))) return;
  throw httpFailure(404, 'request.invalid', `no route for ${method} ${path}`);
}

/**
 * fmguard's data plane: the OpenAI- and Anthropic-compatible HTTP gateway on plain node:http (the
 * hot path; a framework measured ~1.3× slower here). It translates; the guard runtime decides. Routes:
 * `POST /v1/chat/completions`, `POST /v1/responses`, `POST /v1/messages`, `POST /v1/embeddings`,
 * `GET /v1/models[/{id}]`, `/healthz`, `/readyz`, `/metrics`, MCP on `/mcp/{server}`, the admin API
 * on `/admin/*` and the console on `/console`.
 */
export function createGatewayServer(options: GatewayOptions): Gateway {
  const {
    guard,
    maxBodyBytes = guard.config.server.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    toolCallViolation = 'refuse',
    onError,
    readyTimeoutMs = 1000,
    keepAliveTimeoutMs = 65_000,
    headersTimeoutMs = guard.config.server.headersTimeoutMs ?? 10_000,
    requestTimeoutMs = guard.config.server.requestTimeoutMs ?? 60_000,
    maxConnections = guard.config.server.maxConnections ?? 10_000,
    shutdownGraceMs = guard.config.server.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
  } = options;
  // Requests doing work (not GET streams that only listen), and work that outlives its response.
  const inflight = new Set<ServerResponse>();
  const background = new Set<Promise<unknown>>();
  const changed = new Set<() => void>();
  const notify = () => {
    for (const check of [...changed]) check();
  };
  let closing: Promise<void> | undefined;
  const ctx: GatewayContext = {
    guard,
    maxBodyBytes,
    toolCallViolation,
    readyTimeoutMs,
    // The running config's models (a reload may add or remove some).
    hasModel: (name) => Object.hasOwn(guard.config.models, name),
    report(error, where) {
      try {
        onError?.(error, where);
      } catch {
        // The hook's own failure must not take a response down.
      }
    },
    track(work) {
      background.add(work);
      void work.finally(() => {
        background.delete(work);
        notify();
      });
    },
  };

  const admin = createAdminHandler({ guard, adminToken: guard.config.server.adminToken, onError: (error, where) => ctx.report(error, where) });
  // MCP tool servers on /mcp/{server}: the same runs, limits, policies and audit as model calls.
  const mcp = createMcpHandler({ guard, maxBodyBytes, builtin: options.builtin, onError: (error, where) => ctx.report(error, where) });
  // The web console (src/console): the admin API behind a signed-in session.
  const ui = createConsoleHandler({
    ...options.console,
    guard,
    adminToken: guard.config.server.adminToken,
    onError: (error, where) => ctx.report(error, where),
  });
  const mounts: Mounts = { admin, mcp, console: ui };
  const accessLog = options.accessLog ?? noAccessLog;
  // The runtime's events fill the request's access entry (who, which run, model or tool, cost, code).
  const unlisten = options.accessLog ? guard.on(recordAccess) : undefined;
  const server = createServer(
    {
      keepAlive: true,
      noDelay: true,
      headersTimeout: headersTimeoutMs,
      // Node's requestTimeout must not be below headersTimeout.
      requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
      // How often the timeouts are checked (Node's default, 30 s, let a slow client hold on for up to twice the timeout).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeoutMs / 4))),
    },
    (req, res) => {
      const path = pathOf(req.url ?? '/');
      const send = path === '/v1/messages' ? sendAnthropicFailure : sendFailure;
      if (closing) {
        // Stop accepting: a request on a connection kept alive from before gets the catalogue answer.
        send(res, shuttingDown());
        return;
      }
      const working = req.method !== 'GET' && req.method !== 'HEAD';
      if (working) {
        inflight.add(res);
        // Done when the answer is out (or the client left), not when the handler returns.
        res.once('close', () => {
          inflight.delete(res);
          notify();
        });
      }
      // An incoming W3C traceparent is continued when OpenTelemetry is set up (src/telemetry/); `x-request-id` is echoed.
      withAccessEntry(req, res, path, accessLog, () => withIncomingTrace(req.headers, () => route(ctx, req, res, path, mounts))).catch((error: unknown) => {
        const failure = toFailure(error);
        if (failure.internal) ctx.report(error, { method: req.method ?? 'GET', path });
        // The Anthropic route answers in Anthropic's shape everywhere, its 405 included.
        send(res, failure);
      });
    },
  );
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // A connection cap, and parser errors and timeouts answered with catalogue bodies (src/http/).
  guardConnections(server, { maxConnections });

  async function shutdown(graceMs: number): Promise<void> {
    // Stop accepting connections, but not through http's close(), which also drops the connections
    // that have no request yet: one whose request is still on its way would be reset, not answered.
    // A request that arrives from now on is answered 503 gateway.shutting_down (see the handler).
    const closed = server.listening ? new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve())) : Promise.resolve();
    await until(() => inflight.size === 0, changed, graceMs);
    if (inflight.size > 0) {
      // Past the grace: cut the calls still running. Each fails with gateway.shutting_down, releases
      // its reservation and is audited; its handler answers (503, or a stream's one error event).
      guard.interruptCalls(shuttingDown().error);
      await until(() => inflight.size === 0, changed, CUT_ANSWER_MS);
      // A request that was not in a guarded call (a body still arriving): answered here, or cut.
      for (const res of inflight) sendFailure(res, shuttingDown());
    }
    await until(() => background.size === 0, changed, CUT_ANSWER_MS);
    unlisten?.();
    await mcp.close();
    ui.close();
    server.closeAllConnections();
    // http's own close now: it stops its connection checks (the socket is already closed).
    server.close(() => {});
    await closed;
  }

  return {
    server,
    listen(port = guard.config.server.port ?? 8787, host = guard.config.server.host ?? '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
          resolve({ url: `http://${urlHost}:${address.port}`, host: address.address, port: address.port });
        });
      });
    },
    close(graceMs = shutdownGraceMs) {
      closing ??= shutdown(graceMs);
      return closing;
    },
  };
}
