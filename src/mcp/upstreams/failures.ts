import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { GuardError, guardError } from '../../core/errors.ts';

/**
 * Whether the tool server itself answered with this error (a JSON-RPC error response), as opposed
 * to the connection failing (closed, HTTP error, process gone).
 */
export function isServerAnswer(error: unknown): boolean {
  return error instanceof McpError && error.code !== ErrorCode.ConnectionClosed && error.code !== ErrorCode.RequestTimeout;
}

/**
 * An upstream failure as the runtime's error: the server rejecting the arguments or the tool name
 * is `request.invalid` (retrying cannot help); anything else is `upstream.error`, which the retry
 * policy and the tool's breaker see.
 */
export function upstreamFailure(server: string, error: unknown): GuardError {
  if (GuardError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof McpError && (error.code === ErrorCode.InvalidParams || error.code === ErrorCode.MethodNotFound)) {
    return guardError('request.invalid', `tool server "${server}" rejected the call: ${message}`, { server, upstreamCode: error.code });
  }
  const upstreamCode = error instanceof McpError ? error.code : undefined;
  return guardError('upstream.error', `tool server "${server}" failed: ${message}`, { server, upstreamCode }, error);
}
