import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createDemoWorld, type DemoWorld } from '../../src/demo/tools/world.ts';
import type { McpHandler, McpHandlerOptions } from '../../src/mcp/index.ts';
import { createMcpHandler, type DemoToolsOption } from '../../src/wiring/gateway.ts';
import type { Authorizer, AuthorizeDecision, AuthorizeRequest } from '../../src/runtime/context.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { createGuard } from '../../src/wiring/guard.ts';

export const KEY = 'sk-test-mcp-agent-1';
export const OTHER_KEY = 'sk-test-mcp-other-1';

const EVERYTHING = { models: ['sim-*'], tools: ['*'] };

/**
 * A config with the built-in demo server and two agents, each allowed every tool and the simulated
 * models unless the test overrides `allow` (policies are the Cedar engine compiled from the config).
 */
export function mcpConfig(agent: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    toolServers: { demo: { kind: 'builtin' } },
    tenants: { acme: {} },
    agents: {
      bot: { tenant: 'acme', keys: [KEY], allow: EVERYTHING, ...agent } as never,
      other: { tenant: 'acme', keys: [OTHER_KEY], allow: EVERYTHING },
    },
    defaults: { retry: [] },
    ...extra,
  } as ConfigInput;
}

export interface Rules {
  allow?: string[];
  deny?: string[];
  approve?: string[];
  /** Extra decision logic on the call's context; returning undefined falls through to the lists. */
  custom?: (request: AuthorizeRequest) => AuthorizeDecision | undefined;
}

function matches(patterns: readonly string[] | undefined, resource: string): boolean {
  return (patterns ?? []).some((p) => (p.endsWith('*') ? resource.startsWith(p.slice(0, -1)) : p === resource));
}

/** A small hand-written policy layer (createGuard's `authorizer`): default deny, deny wins, then approval, then allow. */
export function listAuthorizer(byAgent: Record<string, Rules>): Authorizer {
  return {
    authorize(request) {
      const rules = byAgent[request.agent];
      if (!rules) return { effect: 'deny', policies: [] };
      const custom = rules.custom?.(request);
      if (custom) return custom;
      if (matches(rules.deny, request.resource)) return { effect: 'deny', policies: ['test-deny'] };
      if (matches(rules.approve, request.resource)) return { effect: 'approval', policies: ['test-approve'] };
      if (matches(rules.allow, request.resource)) return { effect: 'allow', policies: ['test-allow'] };
      return { effect: 'deny', policies: [] };
    },
  };
}

export interface TestGateway {
  url: string;
  guard: Guard;
  handler: McpHandler;
  world: DemoWorld;
  http: HttpServer;
  close(): Promise<void>;
}

/** A real guard and the MCP handler on a plain node:http server on a free port. */
export async function startGateway(
  config: ConfigInput,
  options: { authorizer?: Authorizer } & Partial<Omit<McpHandlerOptions & DemoToolsOption, 'guard'>> = {},
): Promise<TestGateway> {
  const { authorizer, ...handlerOptions } = options;
  const guard = createGuard({ config, authorizer, audit: false });
  const world = handlerOptions.demoWorld ?? createDemoWorld();
  const handler = createMcpHandler({ guard, demoWorld: world, ...handlerOptions });
  const http = createServer((req, res) => {
    handler.handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end('not found');
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    guard,
    handler,
    world,
    http,
    async close() {
      await handler.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await guard.close();
    },
  };
}

export interface ConnectOptions {
  key?: string;
  server?: string;
  headers?: Record<string, string>;
}

/** The official MCP client on `/mcp/{server}` of the gateway. */
export async function connectClient(
  gateway: { url: string },
  options: ConnectOptions = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? KEY}`, ...options.headers };
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp/${options.server ?? 'demo'}`), { requestInit: { headers } });
  const client = new Client({ name: 'fmguard-test', version: '0.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** The text of a tool result's first block. */
export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

export function fmguardOf(result: unknown): Record<string, unknown> | undefined {
  return (result as { structuredContent?: { fmguard?: Record<string, unknown> } }).structuredContent?.fmguard;
}

/** Wait until `check` holds, polling. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
