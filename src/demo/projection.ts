/**
 * What an unguarded agent would have cost. The simulated model streams far faster than a real one,
 * so the projection uses the spend observed per output token and a real provider's pace.
 */
export const PACE_TOKENS_PER_SECOND = 50;
export const HORIZON_SECONDS = 3600;

export const PROJECTION_RULE =
  `unguarded = what the agent would have spent had nothing stopped it for ${HORIZON_SECONDS / 3600} h (the time before someone notices): ` +
  `the spend observed per output token × ${PACE_TOKENS_PER_SECOND} output tokens/s (a typical hosted model's pace) × ${HORIZON_SECONDS} s, per run. ` +
  'Scenarios that do not keep spending (a failing provider, a stall, a forbidden call) show what happens instead.';

/** Spend of `runs` agents that keep generating for the horizon at the real pace. */
export function projectUnguarded(costUsd: number, outputTokens: number, runs = 1): number {
  if (outputTokens <= 0 || costUsd <= 0) return costUsd;
  return (costUsd / outputTokens) * PACE_TOKENS_PER_SECOND * HORIZON_SECONDS * runs;
}
