import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { codeInfo } from '../core/codes.ts';
import { GuardError } from '../core/errors.ts';
import type { Guard } from '../runtime/guard.ts';
import { ArgumentChecker } from './arg-check.ts';
import type { ProxyContext } from './call-tool.ts';
import { isInitialize, parsed, readJson, sendHttpError } from './http-io.ts';
import { JsonHttpTransport } from './json-transport.ts';
import { identify, toAuthInfo, type Identity } from './identity.ts';
import { createProxyServer } from './proxy-server.ts';
import { SessionRun } from './run-binding.ts';
import { SessionTable, type Session } from './sessions.ts';
import type { BackoffOptions } from './upstreams/backoff.ts';
import { upstreamsFromConfig } from './upstreams/from-config.ts';
import type { Upstream, UpstreamStatus } from './upstreams/upstream.ts';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { pathOf } from '../http/path.ts';

/**
 * How clients get sessions:
 * - `auto` (default): an `initialize` opens a session (the `mcp-session-id` protocol), unless it
 *   carries `x-fmguard-mcp-mode: stateless`; any request without a session id is served
 *   statelessly (the client may skip `initialize`).
 * - `session`: every client must initialize and use its session id.
 * - `stateless`: no sessions are issued; every request stands alone.
 */
export type McpMode = 'auto' | 'session' | 'stateless';

export interface McpHandlerOptions {
  guard: Guard;
  /** Path prefix; tool servers are at `${basePath}/{server}`. Default `/mcp`. */
  basePath?: string;
  mode?: McpMode;
  /** Tool results larger than this (content bytes) are truncated with a note. Default 64 KiB. */
  maxResultBytes?: number;
  /** Default: the config's `server.maxBodyBytes`, else 4 MiB. */
  maxBodyBytes?: number;
  /** A session without requests for this long is closed (and its run ended). Default: `server.mcpSessionIdleMs`, else 30 min. */
  sessionIdleMs?: number;
  /** New sessions beyond this are refused with 503. Default 1000. */
  maxSessions?: number;
  /** One agent's sessions beyond this are refused with 429 `rate.limited`. Default: `server.mcpSessionsPerAgent`, else 100. */
  maxSessionsPerAgent?: number;
  /** Upstreams by server name, instead of (or beside) the ones the config's `toolServers` describe. */
  upstreams?: Record<string, Upstream>;
  /** The in-process server of a `builtin` tool server, one per connection (wiring/gateway.ts passes the demo tools). */
  builtin?: (name: string) => Server;
  /** Reconnect backoff for upstreams built from the config. */
  backoff?: BackoffOptions;
  /** Unexpected errors (answered as a 500 without details). The library never logs. */
  onError?: (error: unknown, where: { method: string; path: string }) => void;
}

export interface McpHandler {
  /** Serve the request if its path is under `basePath`; false (nothing written) otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Every upstream's connection state (stdio pids, restarts, stderr tail). */
  status(): UpstreamStatus[];
  readonly sessionCount: number;
  /** Close every session (ending their runs) and every upstream (stopping stdio servers). */
  close(): Promise<void>;
}

export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;
export const DEFAULT_SESSIONS_PER_AGENT = 100;
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const MODE_HEADER = 'x-fmguard-mcp-mode';

type AuthedRequest = IncomingMessage & { auth?: ReturnType<typeof toAuthInfo> };

/** GET would open a server-initiated event stream; this gateway offers none (the spec allows 405). */
function noStream(res: ServerResponse, method: string, allow: string): void {
  sendHttpError(res, 405, 'request.invalid', `${method} is not supported here: this MCP endpoint answers POSTs with JSON and opens no event stream`, {
    rpcCode: -32000,
    headers: { allow },
  });
}

/** The server name in `/mcp/{server}`; undefined for a missing, nested or badly encoded one. */
function serverName(rest: string): string | undefined {
  if (rest === '' || rest.includes('/')) return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

/**
 * fmguard's MCP gateway: `/mcp/{server}` for every configured tool server, over MCP Streamable
 * HTTP. Agents authenticate with their key; the tools they see and the calls they make go through
 * the guard runtime. Mount it on any node:http server: `if (await mcp.handle(req, res)) return;`.
 */
export function createMcpHandler(options: McpHandlerOptions): McpHandler {
  const { guard, basePath = '/mcp', mode = 'auto', onError } = options;
  const maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const maxBodyBytes = options.maxBodyBytes ?? guard.config.server.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const sessionIdleMs = options.sessionIdleMs ?? guard.config.server.mcpSessionIdleMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 1000;
  const maxSessionsPerAgent = options.maxSessionsPerAgent ?? guard.config.server.mcpSessionsPerAgent ?? DEFAULT_SESSIONS_PER_AGENT;
  const upstreams = upstreamsFromConfig(guard.config, { builtin: options.builtin, backoff: options.backoff });
  for (const [name, upstream] of Object.entries(options.upstreams ?? {})) upstreams.set(name, upstream);

  const checker = new ArgumentChecker();
  const contexts = new Map<string, ProxyContext>();
  for (const [name, upstream] of upstreams) contexts.set(name, { guard, server: name, upstream, checker, maxResultBytes });

  const sessions = new SessionTable();
  const stateless = new Map<string, JsonHttpTransport>();
  let closed = false;
  const sweeper = setInterval(() => sessions.sweep(Date.now(), sessionIdleMs), Math.min(60_000, Math.max(1000, sessionIdleMs / 4)));
  sweeper.unref();

  function report(error: unknown, req: IncomingMessage, path: string): void {
    try {
      onError?.(error, { method: req.method ?? 'GET', path });
    } catch {
      // The hook's own failure must not take a response down.
    }
  }

  function openSession(ctx: ProxyContext, identity: Identity, req: AuthedRequest, res: ServerResponse, body: unknown): void {
    // Fair shares: one agent cannot take every session of the gateway.
    const agent = identity.agent.name;
    if (sessions.countFor(agent) >= maxSessionsPerAgent) sessions.sweep(Date.now(), sessionIdleMs);
    if (sessions.countFor(agent) >= maxSessionsPerAgent) {
      const retryAfter = String(Math.max(1, Math.ceil(sessionIdleMs / 1000)));
      return sendHttpError(
        res,
        429,
        'rate.limited',
        `agent "${agent}" holds its maximum of ${maxSessionsPerAgent} MCP sessions; close one (DELETE), wait for one to expire, or use the stateless mode`,
        { headers: { 'retry-after': retryAfter } },
      );
    }
    if (sessions.size >= maxSessions && sessions.sweep(Date.now(), sessionIdleMs) === 0) {
      return sendHttpError(res, 503, 'rate.limited', `this gateway holds its maximum of ${maxSessions} MCP sessions; retry later or use the stateless mode`);
    }
    const run = new SessionRun(guard);
    const mcp = createProxyServer({ ...ctx, session: run });
    const transport = new JsonHttpTransport({ sessionId: randomUUID() });
    const session: Session = {
      id: transport.sessionId!,
      server: ctx.server,
      agent: identity.agent.name,
      keyId: identity.keyId,
      transport,
      mcp,
      lastSeen: Date.now(),
      active: 0,
    };
    mcp.onclose = () => {
      sessions.delete(session.id);
      void run.end().catch((error: unknown) => report(error, req, ctx.server));
    };
    sessions.add(session);
    // A failed initialize leaves no session behind.
    res.once('finish', () => {
      if (res.statusCode !== 200) void mcp.close();
    });
    void mcp.connect(transport);
    transport.handlePost(req.headers, body, res, req.auth);
  }

  /** One MCP server per tool server serves every stateless request (ids rewritten per request). */
  function statelessTransport(ctx: ProxyContext): JsonHttpTransport {
    let transport = stateless.get(ctx.server);
    if (!transport) {
      transport = new JsonHttpTransport({ shared: true });
      stateless.set(ctx.server, transport);
      void createProxyServer(ctx).connect(transport);
    }
    return transport;
  }

  async function serve(req: AuthedRequest, res: ServerResponse, path: string): Promise<void> {
    const name = serverName(path.slice(basePath.length + 1));
    const ctx = name === undefined ? undefined : contexts.get(name);
    if (!ctx) {
      const what = name === undefined ? 'a tool server name is missing from the path' : `no MCP tool server named "${name}" on this gateway`;
      return sendHttpError(res, 404, 'request.invalid', `${what} (use ${basePath}/{server})`);
    }
    let identity: Identity;
    try {
      identity = await identify(guard, req);
    } catch (error) {
      // A minted key's lookup that could not read the store is not a bad key: answer its own code (fail closed).
      if (GuardError.isInstance(error) && error.code !== 'auth.invalid') return sendHttpError(res, codeInfo(error.code).http, error.code, error.message);
      const message = GuardError.isInstance(error) ? error.message : 'invalid credentials';
      return sendHttpError(res, 401, 'auth.invalid', message, { headers: { 'www-authenticate': 'Bearer realm="fmguard"' } });
    }
    req.auth = toAuthInfo(identity);
    if (identity.runId !== undefined) res.setHeader('x-fmguard-run', identity.runId);
    const method = req.method ?? 'GET';

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string' && mode !== 'stateless') {
      const session = sessions.find(sessionId, ctx.server, identity);
      if (!session) return sendHttpError(res, 404, 'request.invalid', 'Session not found', { rpcCode: -32001 });
      session.lastSeen = Date.now();
      if (method === 'DELETE') {
        await session.mcp.close();
        res.writeHead(200).end();
        return;
      }
      if (method !== 'POST') return noStream(res, method, 'POST, DELETE');
      const body = await readJson(req, res, maxBodyBytes);
      if (!parsed(body)) return;
      session.active++;
      res.once('close', () => {
        session.active--;
        session.lastSeen = Date.now();
      });
      return session.transport.handlePost(req.headers, body, res, req.auth);
    }

    if (method !== 'POST') {
      if (mode === 'session') return sendHttpError(res, 400, 'request.invalid', 'Bad Request: Mcp-Session-Id header is required', { rpcCode: -32000 });
      return noStream(res, method, 'POST');
    }
    const body = await readJson(req, res, maxBodyBytes);
    if (!parsed(body)) return;
    const initialize = isInitialize(body);
    if (mode === 'session' && !initialize)
      return sendHttpError(res, 400, 'request.invalid', 'Bad Request: Mcp-Session-Id header is required', { rpcCode: -32000 });
    if (initialize && mode !== 'stateless' && req.headers[MODE_HEADER] !== 'stateless') return openSession(ctx, identity, req, res, body);
    return statelessTransport(ctx).handlePost(req.headers, body, res, req.auth);
  }

  return {
    async handle(req, res) {
      const path = pathOf(req.url ?? '/');
      if (path !== basePath && !path.startsWith(`${basePath}/`)) return false;
      if (closed) {
        sendHttpError(res, 503, 'upstream.error', 'the MCP gateway is shutting down');
        return true;
      }
      try {
        await serve(req, res, path);
      } catch (error) {
        report(error, req, path);
        if (!res.headersSent) sendHttpError(res, 500, 'upstream.error', 'internal error in the fmguard MCP gateway', { rpcCode: -32603 });
        else res.destroy();
      }
      return true;
    },
    status() {
      return [...upstreams.values()].map((u) => u.status());
    },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      closed = true;
      clearInterval(sweeper);
      await sessions.closeAll();
      await Promise.all([...stateless.values()].map((t) => t.close()));
      stateless.clear();
      await Promise.all([...upstreams.values()].map((u) => u.close()));
    },
  };
}
