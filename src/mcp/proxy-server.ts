import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { guardError } from '../core/errors.ts';
import { proxyToolCall, type ProxyContext } from './call-tool.ts';
import { fromAuthInfo, type Identity } from './identity.ts';
import { visibleTools } from './list-tools.ts';
import { stopFailure } from './refusals.ts';
import { upstreamFailure } from './upstreams/failures.ts';

function identityOf(auth: Parameters<typeof fromAuthInfo>[0]): Identity {
  const identity = fromAuthInfo(auth);
  // The HTTP layer authenticates every request before the SDK sees it; this is a wiring error.
  if (!identity) throw stopFailure(guardError('auth.invalid', 'the request carries no fmguard identity'));
  return identity;
}

/**
 * The MCP server an agent talks to on `/mcp/{server}`: the upstream's tools, filtered to what the
 * agent may call, and every call guarded. One per session, or per request when stateless.
 */
export function createProxyServer(ctx: ProxyContext): Server {
  const server = new Server({ name: `fmguard/${ctx.server}`, version: '0.1.0' }, { capabilities: { tools: {} } });

  server.setRequestHandler(ListToolsRequestSchema, async (_request, extra): Promise<ListToolsResult> => {
    const identity = identityOf(extra.authInfo);
    // biome-ignore lint/suspicious/noImplicitAnyLet: typed by control flow from its one assignment below
    let tools;
    try {
      tools = await ctx.upstream.tools();
    } catch (error) {
      throw stopFailure(upstreamFailure(ctx.server, error));
    }
    return { tools: visibleTools(ctx.guard.ctx.authorizer, identity, ctx.server, tools.values(), ctx.guard.clock.now()) };
  });

  server.setRequestHandler(CallToolRequestSchema, (request, extra): Promise<CallToolResult> => {
    const identity = identityOf(extra.authInfo);
    return proxyToolCall(ctx, identity, request.params.name, request.params.arguments ?? {}, extra.signal);
  });

  return server;
}
