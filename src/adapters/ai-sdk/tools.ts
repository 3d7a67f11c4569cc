import type { ToolSet } from 'ai';
import type { Run } from '../../index.ts';
import { describeStop, findGuardError } from '../shared/guard-errors.ts';
import { toolResource, type ToolNaming } from '../shared/tool-naming.ts';

export interface GuardToolsOptions extends ToolNaming {
  /** Overrides the agent's tool timeout for these tools. */
  timeoutMs?: number;
}

type Execute = NonNullable<ToolSet[string]['execute']>;
type ExecutionOptions = Parameters<Execute>[1];

/** A tool that streams preliminary results is run to its last one (the guarded call has one result). */
async function lastValue(value: unknown): Promise<unknown> {
  if (value === null || typeof value !== 'object' || !(Symbol.asyncIterator in value)) return value;
  let last: unknown;
  for await (const item of value as AsyncIterable<unknown>) last = item;
  return last;
}

/**
 * A refusal the AI SDK hands back to the model as the tool's error result: `code: message`, so the
 * model (and whoever reads the steps) sees why. The GuardError is its `cause`.
 */
export class GuardToolError extends Error {
  readonly code: string;

  constructor(cause: NonNullable<ReturnType<typeof findGuardError>>) {
    super(describeStop(cause), { cause });
    this.name = 'GuardToolError';
    this.code = cause.code;
  }
}

/**
 * The same tools, each `execute` run through `run.callTool`: the policy with the call's arguments
 * (tools are named `toolServer.name` in policies), the tool server's breaker, call limits, repeated
 * identical calls, the approval gate, a timeout that aborts the tool's `abortSignal`, retries and
 * consecutive-failure detection. Tools without `execute` (run by the client) are returned as they are.
 */
export function guardTools<T extends ToolSet>(tools: T, run: Run, options: GuardToolsOptions = {}): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, tool] of Object.entries(tools)) {
    const execute = tool.execute as Execute | undefined;
    if (!execute) {
      guarded[name] = tool;
      continue;
    }
    const resource = toolResource(name, options);
    guarded[name] = {
      ...tool,
      execute: async (input: unknown, execution: ExecutionOptions) => {
        try {
          const { result } = await run.callTool({
            tool: resource,
            args: input,
            signal: execution.abortSignal,
            timeoutMs: options.timeoutMs,
            execute: (args, { signal }) => lastValue(execute(args as never, { ...execution, abortSignal: signal })),
          });
          return result;
        } catch (error) {
          const guard = findGuardError(error);
          throw guard ? new GuardToolError(guard) : error;
        }
      },
    };
  }
  return guarded as T;
}
