import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Run } from '../../index.ts';
import { FMGUARD_JSONRPC_ERROR, isToolResultCode, refusalResult, stopData } from '../../mcp/refusals.ts';
import { describeStop, findGuardError } from '../shared/guard-errors.ts';
import { chatFunctionName } from '../shared/tool-naming.ts';

export interface GuardMcpClientOptions {
  /** The tool server's name in policies: its tools are `server.tool` (e.g. `demo` for `demo.search`). */
  server: string;
  /** Overrides the agent's tool timeout for this server's tools. */
  timeoutMs?: number;
}

/** The MCP SDK's own request timeout is off: fmguard's tool timeout decides (and cancels the request). */
const NO_SDK_TIMEOUT = 2_147_483_647;

type CallTool = Client['callTool'];
type ListTools = Client['listTools'];

/**
 * Whether the agent may call `tool` at all: the policy probed with empty arguments, as the MCP gateway
 * lists tools (a tool that needs particular arguments to be allowed is hidden; each call is still
 * judged on its real arguments).
 */
function visible(run: Run, server: string, tool: Tool): boolean {
  const probe = { id: 'list', type: 'function' as const, function: { name: chatFunctionName(`${server}.${tool.name}`), arguments: '{}' } };
  try {
    return !run.checkToolCalls([probe]).some((v) => v.error.code === 'policy.denied');
  } catch {
    return false; // A policy layer that cannot decide shows nothing.
  }
}

/**
 * An MCP SDK `Client` whose tools are governed by the run, with no gateway in between:
 * - `listTools` shows only the tools the agent's policy lets it call;
 * - `callTool` goes through `run.callTool`: kill switches, the policy with the call's arguments, call
 *   limits, repeated identical calls, the approval gate, the tool server's breaker, a timeout that
 *   cancels the request on the server (MCP `notifications/cancelled`), retries and consecutive-failure
 *   detection.
 * Refusals the model can adapt to (a denied or unapproved tool, a timeout, a failure) come back as
 * `isError` tool results, `code: message` in the text and the details in `structuredContent.fmguard`,
 * exactly as the MCP gateway answers them; a stop of the run (a limit, a loop, a kill) is thrown as the
 * SDK's `McpError` with code -32010 and the details in `data`. Everything else is the client itself.
 */
export function guardMcpClient<C extends Client>(client: C, run: Run, options: GuardMcpClientOptions): C {
  const { server } = options;

  const listTools: ListTools = async (params, requestOptions) => {
    const listed = await client.listTools(params, requestOptions);
    return { ...listed, tools: listed.tools.filter((tool) => visible(run, server, tool)) };
  };

  const callTool = (async (params, resultSchema, requestOptions) => {
    const resource = `${server}.${params.name}`;
    try {
      const { result } = await run.callTool({
        tool: resource,
        args: params.arguments ?? {},
        signal: requestOptions?.signal,
        timeoutMs: options.timeoutMs,
        execute: (args, { signal }) =>
          client.callTool({ ...params, arguments: args as Record<string, unknown> }, resultSchema, { timeout: NO_SDK_TIMEOUT, ...requestOptions, signal }),
      });
      return result;
    } catch (error) {
      const guard = findGuardError(error);
      if (!guard) throw error;
      if (isToolResultCode(guard.code) && !run.stopError) return refusalResult(guard) as CallToolResult;
      throw new McpError(FMGUARD_JSONRPC_ERROR, describeStop(guard), stopData(guard));
    }
  }) as CallTool;

  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'listTools') return listTools;
      if (property === 'callTool') return callTool;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
