import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { StopCode } from '../core/codes.ts';
import { GuardError } from '../core/errors.ts';
import { toGuardError } from '../runtime/upstream.ts';

/** The JSON-RPC error code of every fmguard stop; `error.data.code` says which one. */
export const FMGUARD_JSONRPC_ERROR = -32010;

/**
 * Stops the model can adapt to, returned as tool results with `isError: true`: a refused tool
 * (policy, approval), a failed one (timeout, upstream, breaker, rate limit) or bad arguments.
 * Everything else — limits, budgets, kill switches, loops, auth, store — ends the run or the
 * request and is a JSON-RPC error, so the client stops.
 */
const TOOL_RESULT_CODES: ReadonlySet<StopCode> = new Set<StopCode>([
  'policy.denied',
  'approval.required',
  'approval.denied',
  'approval.expired',
  'request.invalid',
  'rate.limited',
  'upstream.error',
  'breaker.open',
  'timeout.tool',
  'timeout.total',
  'timeout.first_token',
  'timeout.idle',
]);

export function isToolResultCode(code: StopCode): boolean {
  return TOOL_RESULT_CODES.has(code);
}

/** `{ code, message, retryable, ...details }`, JSON-safe (a detail that does not serialise is dropped). */
export function stopData(error: GuardError): Record<string, unknown> {
  const data: Record<string, unknown> = { code: error.code, message: error.message, retryable: error.retryable };
  for (const [key, value] of Object.entries(error.details)) {
    if (value === undefined || key in data) continue;
    try {
      JSON.stringify(value);
      data[key] = value;
    } catch {
      // A bigint or a cycle: leave it out rather than fail the response.
    }
  }
  return data;
}

/**
 * A refusal as a tool result. The code is in the text (what the model reads) and in
 * `structuredContent.fmguard` (what a program reads) — except for a tool that declares an
 * `outputSchema`, whose structured content must match it: there it is in `_meta.fmguard` only.
 */
export function refusalResult(error: GuardError, toolHasOutputSchema = false): CallToolResult {
  const fmguard = stopData(error);
  const result: CallToolResult = { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}` }] };
  if (toolHasOutputSchema) result._meta = { fmguard };
  else result.structuredContent = { fmguard };
  return result;
}

/** A JSON-RPC error the SDK sends as is (`code`, `message`, `data`). */
export class JsonRpcFailure extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'JsonRpcFailure';
    this.code = code;
    this.data = data;
  }
}

export function stopFailure(error: GuardError): JsonRpcFailure {
  return new JsonRpcFailure(FMGUARD_JSONRPC_ERROR, `${error.code}: ${error.message}`, stopData(error));
}

/** What a failed tools/call answers: a tool result the model can read, or a thrown JSON-RPC error. */
export function answerFailure(error: unknown, tool: string, toolHasOutputSchema: boolean): CallToolResult {
  const guard = GuardError.isInstance(error) ? error : toGuardError(error, tool);
  if (isToolResultCode(guard.code)) return refusalResult(guard, toolHasOutputSchema);
  throw stopFailure(guard);
}
