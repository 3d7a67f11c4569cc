/**
 * fmguard for an MCP client in the agent's own process (`@modelcontextprotocol/sdk`): a guarded
 * `Client`, no gateway. See examples/mcp-client.ts.
 */
export { guardMcpClient, type GuardMcpClientOptions } from './client.ts';
export { findGuardError } from '../shared/guard-errors.ts';
