import type { StopCondition } from 'ai';
import type { Run, StopCode } from '../../index.ts';
import { exhaustedLimit, limitsOf } from '../shared/run-limits.ts';

// `any`, as the SDK's own `stepCountIs`: a condition that reads no step fits every tool set.
// biome-ignore lint/suspicious/noExplicitAny: the AI SDK's own StopCondition<any> (see above)
export interface GuardStopCondition extends StopCondition<any> {
  /** Why the condition stopped the loop, once it has. */
  readonly reason: { code: StopCode; message: string } | undefined;
}

/**
 * A `stopWhen` condition from the run's limits: the loop ends, and `generateText` returns the steps so
 * far, as soon as the run cannot take another model call — it was stopped or killed, or its steps,
 * cost or tokens are used up. Without it the next call is refused and the SDK throws the refusal.
 * Combine it with the SDK's own: `stopWhen: [guardStopWhen(run), stepCountIs(50)]`.
 */
export function guardStopWhen(run: Run): GuardStopCondition {
  let reason: GuardStopCondition['reason'];
  const condition = async () => {
    const stopped = run.stopError;
    if (stopped) reason = { code: stopped.code, message: stopped.message };
    else reason = exhaustedLimit(limitsOf(run), await run.usage());
    return reason !== undefined;
  };
  return Object.defineProperty(condition, 'reason', { get: () => reason, enumerable: true }) as unknown as GuardStopCondition;
}
