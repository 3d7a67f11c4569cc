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
  const limit = handle.agent.limits.maxIdenticalToolCalls;
  const seen = new Map<string, number>();
  for (const message of conversation) {
    if (message.role !== 'assistant' || !message.tool_calls) continue;
    for (const call of message.tool_calls) {
      const key = chatToolCallKey(call);
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  for (const call of calls) {
    const name = call.function?.name ?? '';
    const resource = toolResourceName(name);
    const args = parseArguments(call.function?.arguments);
    if (ctx.authorizer) {
      const decision = ctx.authorizer.authorize({
        agent: handle.agent.name,
        tenant: handle.record.tenant,
        action: 'callTool',
        resource,
        context: {
          input: args,
          runSteps: handle.localSteps,
          runCostNanoUsd: handle.localCostNano,
          runDepth: handle.record.depth,
          hourUtc: new Date(ctx.clock.now()).getUTCHours(),
        },
      });
      if (decision.effect === 'deny') {
        violations.push({
          call,
          error: guardError('policy.denied', `the model proposed ${resource}, which ${handle.agent.name} may not call`, {
            policies: decision.policies,
            resource,
            tool: resource,
          }),
        });
        continue;
      }
    }
    const key = chatToolCallKey(call);
    const count = (seen.get(key) ?? 0) + 1;
    seen.set(key, count);
    if (count > limit) {
      violations.push({
        call,
        error: guardError('loop.repeated_tool_call', `the model proposed ${resource} with the same arguments for the ${count}th time`, {
          limit,
          used: count,
          tool: resource,
          runId: handle.id,
        }),
      });
    }
  }
  return violations;
}
