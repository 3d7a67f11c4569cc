import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { DEMO_TOOLS } from './tools.ts';
import { createDemoWorld, type DemoWorld } from './world.ts';

export interface DemoToolServerOptions {
  /** The world the tools act on; default a fresh one. Share one world between servers to share state. */
  world?: DemoWorld;
  name?: string;
}

const validators = new AjvJsonSchemaValidator();
const compiled = new Map<string, JsonSchemaValidator<unknown>>();

function validatorFor(name: string): JsonSchemaValidator<unknown> {
  let validate = compiled.get(name);
  if (!validate) {
    validate = validators.getValidator(DEMO_TOOLS.get(name)!.definition.inputSchema as JsonSchemaType);
    compiled.set(name, validate);
  }
  return validate;
}

/**
 * The built-in demo tool server (`search`, `read_file`, `write_file`, `delete_file`, `send_email`,
 * `http_get`, `sleep`) as an MCP server, not yet connected: connect it to an in-memory, stdio or
 * Streamable HTTP transport. One server per connection; many servers may share a world.
 */
export function createDemoToolServer(options: DemoToolServerOptions = {}): Server {
  const world = options.world ?? createDemoWorld();
  const server = new Server({ name: options.name ?? 'fmguard-demo-tools', version: '0.1.0' }, { capabilities: { tools: {} } });
  const tools = [...DEMO_TOOLS.values()].map((tool) => tool.definition);
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = DEMO_TOOLS.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
    const args = request.params.arguments ?? {};
    const checked = validatorFor(tool.definition.name)(args);
    // Argument errors are tool results, so the model can correct itself (MCP 2025-11-25).
    if (!checked.valid) return { isError: true, content: [{ type: 'text', text: `Input validation error: ${checked.errorMessage}` }] };
    world.calls.push(tool.definition.name);
    world.onEvent?.({ type: 'call', tool: tool.definition.name });
    return tool.run(world, args, { signal: extra.signal });
  });
  return server;
}
