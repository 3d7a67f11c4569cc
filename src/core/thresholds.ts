/**
 * Alert thresholds crossed by one settlement: those t with before < t*limit <= after. Settlements are
 * atomic in the store, so each threshold is crossed by exactly one settlement per window.
 */
export function crossedThresholds(thresholds: readonly number[], before: number, after: number, limit: number): number[] {
  if (limit <= 0) return [];
  return thresholds.filter((t) => before < t * limit && t * limit <= after);
}
