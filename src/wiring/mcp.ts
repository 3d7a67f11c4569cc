/** `fmguard/mcp`: the MCP tool gateway; `createMcpHandler` runs the demo tools for `builtin` tool servers. */
export * from '../mcp/index.ts';
export { createMcpHandler, demoToolServers, type DemoToolsOption } from './gateway.ts';
