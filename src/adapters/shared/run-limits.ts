import type { Limits, Run, RunUsage } from '../../index.ts';

/** The limits of the agent a run belongs to. */
export function limitsOf(run: Run): Readonly<Limits> {
  return run.limits;
}

/** Why the run can take no further model call, judged from its own usage; undefined while it can. */
export function exhaustedLimit(limits: Limits, usage: RunUsage): { code: 'limit.steps' | 'limit.cost' | 'limit.tokens'; message: string } | undefined {
  if (usage.steps >= limits.maxSteps) return { code: 'limit.steps', message: `the run used ${usage.steps} of its ${limits.maxSteps} steps` };
  if (usage.costUsd + usage.reservedCostUsd >= limits.maxCostUsd) {
    return { code: 'limit.cost', message: `the run spent $${usage.costUsd.toFixed(6)} of its $${limits.maxCostUsd} limit` };
  }
  if (usage.totalTokens >= limits.maxTotalTokens) {
    return { code: 'limit.tokens', message: `the run used ${usage.totalTokens} of its ${limits.maxTotalTokens} tokens` };
  }
  return undefined;
}
