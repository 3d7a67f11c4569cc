import type { ServerResponse } from 'node:http';
import type { ChatRequest } from '../core/chat.ts';
import type { Run } from '../runtime/run.ts';
import type { ClientLink } from './client-link.ts';
import type { GatewayContext } from './context.ts';
import { readCounters, runHeaders } from './run-headers.ts';
import { checkResponseToolCalls, hasToolCalls, toolCallCheck } from './tool-calls.ts';

/**
 * A non-streaming completion: the guarded call, the tool-call check, then the upstream's JSON as
 * it came. A run of its own (no `x-fmguard-run`) reports its counters from the call's result; a
 * named run reads them from the ledger (sub-runs and other replicas included).
 */
export async function completeChat(
  ctx: GatewayContext,
  res: ServerResponse,
  run: Run,
  request: ChatRequest,
  fresh: boolean,
  client: ClientLink,
): Promise<void> {
  const result = await run.callModel(request);
  if (client.gone) return;
  const response = result.response;
  if (hasToolCalls(response)) {
    const check = toolCallCheck(run, request.messages);
    if (check) await checkResponseToolCalls(response, check, ctx.toolCallViolation);
  }
  const counters = fresh ? { steps: 1, costUsd: result.costUsd } : await readCounters(run);
  const text = JSON.stringify(response);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...runHeaders(run.id, counters) });
  res.end(text);
}
