import type { ChatMessage, ChatToolCall, GuardError, Run } from '../../index.ts';

/**
 * What a model wrapper does with the tool calls a model proposed: `refuse` (the default, as the
 * gateway) checks them against the agent's policy and the repeated-call detector before the framework
 * sees them, and refuses the response for the first violation; `allow` leaves every call to the
 * guarded tool wrappers, so the model is told why a call was refused and can adapt.
 */
export type ProposedToolCalls = 'refuse' | 'allow';

/**
 * Check proposed calls; the first violation is reported (`run.refuse`: an event, and the run stopped
 * when the code is terminal, such as a loop) and returned for the caller to throw.
 */
export async function refusalFor(run: Run, calls: readonly ChatToolCall[], conversation: readonly ChatMessage[]): Promise<GuardError | undefined> {
  if (calls.length === 0) return undefined;
  const violations = run.checkToolCalls(calls, conversation);
  if (violations.length === 0) return undefined;
  const first = violations[0]!;
  return run.refuse(first.error, first.call.function.name);
}
