import { createDemoToolServer } from '../demo/tools/server.ts';
import { createDemoWorld, type DemoWorld } from '../demo/tools/world.ts';
import { createGatewayServer, type Gateway, type GatewayOptions } from '../gateway/index.ts';
import { openAccessLog } from './access-log.ts';
import { createMcpHandler as createMcpHandlerWith, type McpHandler, type McpHandlerOptions } from '../mcp/index.ts';

/**
 * `fmguard/gateway`: the gateway with the defaults a config implies. Lives in wiring because a
 * `builtin` tool server is the demo tool server, which only wiring may name.
 */
export * from '../gateway/index.ts';

export interface DemoToolsOption {
  /** The world of `builtin` (demo) tool servers; default a fresh one per server. */
  demoWorld?: DemoWorld;
}

/** One demo tool server per connection; each `builtin` server name keeps its own world unless one is given. */
export function demoToolServers(world?: DemoWorld): (name: string) => ReturnType<typeof createDemoToolServer> {
  const worlds = new Map<string, DemoWorld>();
  return (name) => {
    let w = world ?? worlds.get(name);
    if (!w) worlds.set(name, (w = createDemoWorld()));
    return createDemoToolServer({ world: w });
  };
}

/**
 * fmguard's data plane on plain node:http: the OpenAI-compatible API, MCP on `/mcp/{server}` and the
 * admin API (see gateway/gateway.ts). `builtin` tool servers run the demo tools.
 */
export function createGateway({ demoWorld, ...options }: GatewayOptions & DemoToolsOption): Gateway {
  // The access log the config names (`server.accessLog`), unless the caller brings its own sink.
  const log = options.accessLog ? undefined : openAccessLog(options.guard.config.server.accessLog);
  const gateway = createGatewayServer({ ...options, accessLog: options.accessLog ?? log?.sink, builtin: options.builtin ?? demoToolServers(demoWorld) });
  if (!log) return gateway;
  return {
    server: gateway.server,
    listen: (port, host) => gateway.listen(port, host),
    async close(graceMs) {
      await gateway.close(graceMs);
      await log.close();
    },
  };
}

/** The MCP gateway on its own (mount it on any node:http server); `builtin` tool servers run the demo tools. */
export function createMcpHandler({ demoWorld, ...options }: McpHandlerOptions & DemoToolsOption): McpHandler {
  return createMcpHandlerWith({ ...options, builtin: options.builtin ?? demoToolServers(demoWorld) });
}
