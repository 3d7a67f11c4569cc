import type { ChatMessage, ChatToolCall } from '../core/chat.ts';
import { guardError, type GuardError } from '../core/errors.ts';
import { chatToolCallKey, parseArguments } from '../core/loop-detect.ts';
import { toolResourceName } from '../core/tool-names.ts';
import type { GuardContext } from './context.ts';
import type { RunHandle } from './run-handle.ts';

export interface ToolCallViolation {
  call: ChatToolCall;
  error: GuardError;
}

/**
 * Decision order step 11: check the tool calls a model proposed before they reach the agent — the
 * policy (may this agent call that tool at all, with these arguments?) and the repeated-call detector
 * over the conversation plus this response. Pure check: the caller decides to refuse or strip.
 */
export function checkProposedToolCalls(
  ctx: GuardContext,
  handle: RunHandle,
  calls: readonly ChatToolCall[],
  conversation: readonly ChatMessage[],
): ToolCallViolation[] {
  if (calls.length === 0) return [];
  const violations: ToolCallViolation[] = [];
  const seen = callCounts(conversation);
  for (const call of calls) {
    const error = deniedByPolicy(ctx, handle, call) ?? repeated(handle, call, seen);
    if (error) violations.push({ call, error });
  }
  return violations;
}

/** How often each (tool, arguments) was called in the conversation so far. */
function callCounts(conversation: readonly ChatMessage[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const message of conversation) {
    if (message.role !== 'assistant' || !message.tool_calls) continue;
    for (const call of message.tool_calls) {
      const key = chatToolCallKey(call);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  return seen;
}

/** `policy.denied` when this agent may not call the proposed tool with these arguments. */
function deniedByPolicy(ctx: GuardContext, handle: RunHandle, call: ChatToolCall): GuardError | undefined {
  if (!ctx.authorizer) return undefined;
  const resource = toolResourceName(call.function?.name ?? '');
  const context = {
    input: parseArguments(call.function?.arguments),
    runSteps: handle.localSteps,
    runCostNanoUsd: handle.localCostNano,
    runDepth: handle.record.depth,
    hourUtc: new Date(ctx.clock.now()).getUTCHours(),
  };
  const decision = ctx.authorizer.authorize({ agent: handle.agent.name, tenant: handle.record.tenant, action: 'callTool', resource, context });
  if (decision.effect !== 'deny') return undefined;
  return guardError('policy.denied', `the model proposed ${resource}, which ${handle.agent.name} may not call`, {
    policies: decision.policies,
    resource,
    tool: resource,
  });
}

/** `loop.repeated_tool_call` when this (tool, arguments) is proposed once more than the limit allows. */
function repeated(handle: RunHandle, call: ChatToolCall, seen: Map<string, number>): GuardError | undefined {
  const limit = handle.agent.limits.maxIdenticalToolCalls;
  const key = chatToolCallKey(call);
  const count = (seen.get(key) ?? 0) + 1;
  seen.set(key, count);
  if (count <= limit) return undefined;
  const resource = toolResourceName(call.function?.name ?? '');
  return guardError('loop.repeated_tool_call', `the model proposed ${resource} with the same arguments for the ${count}th time`, {
    limit,
    used: count,
    tool: resource,
    runId: handle.id,
  });
}
