import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createDemoToolServer } from './server.ts';
import { createDemoWorld, type DemoWorld } from './world.ts';

export interface DemoHttpServerOptions {
  world?: DemoWorld;
  port?: number;
  host?: string;
}

export interface DemoHttpServer {
  /** The MCP endpoint, e.g. http://127.0.0.1:41234/mcp */
  url: string;
  world: DemoWorld;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/**
 * The demo tool server over MCP Streamable HTTP (session-based, one MCP server per session) at
 * `/mcp`: an upstream for fmguard's `http` tool servers, the tests and the benchmark.
 */
export async function serveDemoToolsHttp(options: DemoHttpServerOptions = {}): Promise<DemoHttpServer> {
  const world = options.world ?? createDemoWorld();
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!req.url?.startsWith('/mcp')) return reply(res, 404, 'Not found');
    const id = req.headers['mcp-session-id'];
    const existing = typeof id === 'string' ? sessions.get(id) : undefined;
    if (existing) return existing.handleRequest(req, res);
    if (id !== undefined) return reply(res, 404, 'Session not found');
    if (req.method !== 'POST') return reply(res, 405, 'Method not allowed');
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      onsessioninitialized: (sid) => void sessions.set(sid, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await createDemoToolServer({ world }).connect(transport);
    await transport.handleRequest(req, res);
  }

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'Internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/mcp`,
    world,
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
