import type { ChatRequest } from '../core/chat.ts';
import { countersAfter, type RouteCall, sendResult } from './model-route.ts';
import { checkResponseToolCalls, hasToolCalls, toolCallCheck } from './tool-calls.ts';

/**
 * A non-streaming completion: the guarded call, the tool-call check, then the upstream's JSON as
 * it came. A run of its own (no `x-fmguard-run`) reports its counters from the call's result; a
 * named run reads them from the ledger (sub-runs and other replicas included).
 */
export async function completeChat(call: RouteCall<unknown>, request: ChatRequest): Promise<void> {
  const result = await call.run.callModel(request);
  if (call.client.gone) return;
  const response = result.response;
  if (hasToolCalls(response)) {
    const check = toolCallCheck(call.run, request.messages);
    if (check) await checkResponseToolCalls(response, check, call.ctx.toolCallViolation, result.costUsd);
  }
  sendResult(call.res, response, call.run.id, await countersAfter(call, result.costUsd), result.servedBy);
}
