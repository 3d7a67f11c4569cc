/**
 * Money is counted in integer nano-dollars inside fmguard, so sums are exact and comparisons against
 * limits never drift (a float sum of 200 calls can land a hair over a limit). $1 = 1e9; a Number
 * holds up to ~$9,000,000 exactly.
 */
export const NANO_PER_USD = 1_000_000_000;

export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}

export function nanoToUsd(nano: number): number {
  return nano / NANO_PER_USD;
}
