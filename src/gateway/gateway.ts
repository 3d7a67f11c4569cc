import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** The request's headers must arrive within this. Default 30 s. */
  headersTimeoutMs?: number;
  /** The whole request (not the response: streams run longer) must arrive within this. Default 60 s. */
  requestTimeoutMs?: number;
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
   * Stop accepting; requests in flight get `graceMs` (default 5000) to finish, then their
   * connections are closed: a run of its own is stopped (its upstream aborted), a named run's
   * stream stops at its next chunk. Does not close the guard (the caller owns it).
   */
  close(graceMs?: number): Promise<void>;
}

const noAccessLog: AccessLogSink = () => {};

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

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
      return handleMetrics(ctx, res);
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
    headersTimeoutMs = 30_000,
    requestTimeoutMs = 60_000,
  } = options;
  const models = guard.config.models;
  const ctx: GatewayContext = {
    guard,
    maxBodyBytes,
    toolCallViolation,
    readyTimeoutMs,
    hasModel: (name) => Object.hasOwn(models, name),
    report(error, where) {
      try {
        onError?.(error, where);
      } catch {
        // The hook's own failure must not take a response down.
      }
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
  const server = createServer({ keepAlive: true, noDelay: true, headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs }, (req, res) => {
    const path = pathOf(req.url ?? '/');
    // An incoming W3C traceparent is continued when OpenTelemetry is set up (src/telemetry/); `x-request-id` is echoed.
    withAccessEntry(req, res, path, accessLog, () => withIncomingTrace(req.headers, () => route(ctx, req, res, path, mounts))).catch((error: unknown) => {
      const failure = toFailure(error);
      if (failure.internal) ctx.report(error, { method: req.method ?? 'GET', path });
      // The Anthropic route answers in Anthropic's shape everywhere, its 405 included.
      (path === '/v1/messages' ? sendAnthropicFailure : sendFailure)(res, failure);
    });
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;

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
    async close(graceMs = 5000) {
      unlisten?.();
      await mcp.close();
      ui.close();
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      });
      await Promise.race([closed, grace]);
      clearTimeout(timer);
      // Whatever is left (a long stream) is cut; its handler then stops reading and the runtime aborts upstream.
      server.closeAllConnections();
      await closed;
    },
  };
}
