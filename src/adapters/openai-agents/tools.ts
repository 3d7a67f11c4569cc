import { defineToolInputGuardrail, ToolGuardrailFunctionOutputFactory, type FunctionTool, type Tool, type ToolInputGuardrailDefinition } from '@openai/agents';
import type { ChatToolCall, Run } from '../../index.ts';
import { describeStop, findGuardError } from '../shared/guard-errors.ts';
import { limitsOf } from '../shared/run-limits.ts';
import { chatFunctionName, toolResource, type ToolNaming } from '../shared/tool-naming.ts';
import { toAgentsError } from './errors.ts';

/**
 * A tool input guardrail from fmguard's policy and loop detectors: before a tool runs, its call (name
 * and arguments) is checked against the agent's policy and against the calls this guardrail already let
 * through (the repeated-call detector). A refusal the model can adapt to (a denied tool, an approval
 * needed) is returned to the model as the tool's output, `code: message`, with the details in the
 * guardrail result's `outputInfo.fmguard`; a stop of the run (a loop, a kill) throws `GuardStopError`,
 * which the SDK raises as its `ToolCallError` (`error.error` is the GuardStopError).
 */
export function guardToolInput(run: Run, naming: ToolNaming = {}): ToolInputGuardrailDefinition {
  const passed: ChatToolCall[] = [];
  return defineToolInputGuardrail({
    name: 'fmguard',
    async run({ toolCall }) {
      const stopped = run.stopError;
      if (stopped) throw toAgentsError(stopped);
      const call: ChatToolCall = {
        id: toolCall.callId,
        type: 'function',
        function: { name: chatFunctionName(toolCall.name, naming), arguments: toolCall.arguments },
      };
      const conversation = passed.length > 0 ? [{ role: 'assistant' as const, content: null, tool_calls: [...passed] }] : [];
      const violation = run.checkToolCalls([call], conversation)[0];
      if (!violation) {
        passed.push(call);
        return ToolGuardrailFunctionOutputFactory.allow();
      }
      const error = await run.refuse(violation.error, toolResource(toolCall.name, naming));
      if (error.terminal) throw toAgentsError(error);
      return ToolGuardrailFunctionOutputFactory.rejectContent(describeStop(error), { fmguard: error.toJSON() });
    },
  });
}

export interface GuardAgentToolsOptions extends ToolNaming {
  /** Overrides the agent's tool timeout for these tools. */
  timeoutMs?: number;
}

/**
 * The same tools, each function tool invoked through `run.callTool` (policy with the arguments, the
 * tool server's breaker, call limits, the approval gate, a timeout that aborts the tool's signal,
 * retries, consecutive-failure detection) and given the fmguard input guardrail. A refusal the model can
 * adapt to becomes the tool's output; a stop of the run is thrown as `GuardStopError`.
 */
export function guardAgentTools<T extends Tool[]>(tools: T, run: Run, options: GuardAgentToolsOptions = {}): T {
  const guardrail = guardToolInput(run, options);
  return tools.map((tool) => {
    if (tool.type !== 'function') return tool;
    const fn = tool as FunctionTool;
    const resource = toolResource(fn.name, options);
    const guarded: FunctionTool = {
      ...fn,
      inputGuardrails: [...(fn.inputGuardrails ?? []), guardrail],
      invoke: async (context, input, details) => {
        let args: unknown;
        try {
          args = input ? JSON.parse(input) : {};
        } catch {
          args = input;
        }
        try {
          const { result } = await run.callTool({
            tool: resource,
            args,
            signal: details?.signal,
            timeoutMs: options.timeoutMs,
            execute: (_args, { signal }) => fn.invoke(context, input, { ...details, signal }),
          });
          return result;
        } catch (error) {
          const guard = findGuardError(error);
          if (!guard) throw error;
          if (guard.terminal || run.stopError) throw toAgentsError(guard);
          return describeStop(guard);
        }
      },
    };
    return guarded;
  }) as T;
}

/**
 * `maxTurns` for the SDK's `run()` from the run's step limit: the steps the run has left (each turn is
 * one model call, one fmguard step) plus one, so the SDK's default (10) never ends a run that fmguard
 * allows more, and the call that ends it is fmguard's refusal, with its code; the SDK's own limit
 * stays behind it as a backstop.
 */
export async function maxTurnsFor(run: Run): Promise<number> {
  const limits = limitsOf(run);
  const usage = await run.usage();
  return Math.max(0, limits.maxSteps - usage.steps) + 1;
}
