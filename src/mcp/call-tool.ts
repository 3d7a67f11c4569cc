import { ErrorCode, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { guardError } from '../core/errors.ts';
import { toGuardError } from '../runtime/upstream.ts';
import type { Guard } from '../runtime/guard.ts';
import type { ArgumentChecker } from './arg-check.ts';
import type { Identity } from './identity.ts';
import { answerFailure, JsonRpcFailure, stopFailure } from './refusals.ts';
import { bindRun, type BoundRun, type SessionRun } from './run-binding.ts';
import { truncateResult } from './truncate.ts';
import type { Upstream } from './upstreams/upstream.ts';

/** What the MCP request handlers of one connection (a session, or one stateless request) share. */
export interface ProxyContext {
  guard: Guard;
  server: string;
  upstream: Upstream;
  checker: ArgumentChecker;
  maxResultBytes: number;
  session?: SessionRun;
}

function unknownTool(server: string, name: string): JsonRpcFailure {
  return new JsonRpcFailure(ErrorCode.InvalidParams, `unknown tool "${name}" on MCP server "${server}"`, {
    code: 'request.invalid',
    tool: `${server}.${name}`,
  });
}

/**
 * One `tools/call`, through the runtime's full decision order (`run.callTool`): kill switches,
 * policy on the real arguments, limits, loop detection, approval gate, then — inside the guarded
 * call, so it is timed, retried and counted — the argument check and the upstream call, whose
 * abort signal becomes an MCP cancellation upstream. Refusals the model can adapt to come back as
 * `isError` results; run stops are thrown as JSON-RPC errors.
 */
export async function proxyToolCall(
  ctx: ProxyContext,
  identity: Identity,
  name: string,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<CallToolResult> {
  const resource = `${ctx.server}.${name}`;
  // A server that is down and was never listed cannot tell us; the call then fails upstream, counted.
  const tools = await ctx.upstream.tools().catch(() => undefined);
  if (tools && !tools.has(name)) throw unknownTool(ctx.server, name);
  const known: Tool | undefined = tools?.get(name);
  const typed = known?.outputSchema !== undefined;

  let bound: BoundRun;
  try {
    bound = await bindRun(ctx.guard, identity, ctx.session);
  } catch (error) {
    throw stopFailure(toGuardError(error, resource));
  }
  try {
    const { result } = await bound.run.callTool<Record<string, unknown>, CallToolResult>({
      tool: resource,
      args,
      signal,
      // The config's per-tool timeout, else the agent's tool timeout.
      timeoutMs: ctx.guard.config.toolServers[ctx.server]?.tools?.[name]?.timeoutMs,
      execute: async (input, { signal: callSignal }) => {
        const tool = known ?? (await ctx.upstream.tools()).get(name);
        if (!tool) throw guardError('request.invalid', `unknown tool "${name}" on MCP server "${ctx.server}"`, { tool: resource });
        const invalid = ctx.checker.check(resource, tool, input);
        if (invalid) throw invalid;
        return ctx.upstream.call(name, input, callSignal);
      },
    });
    return truncateResult(result, ctx.maxResultBytes, typed);
  } catch (error) {
    return answerFailure(error, resource, typed);
  } finally {
    if (bound.own) await bound.run.end().catch(() => {});
  }
}
