/**
 * How a breaker behaves. The defaults give every provider and tool server a breaker that opens
 * after 5 consecutive failures for 30 s, then admits 3 probe calls.
 */
export interface BreakerPolicy {
  /** Consecutive failures that open a closed breaker; 0 disables the automatic breaker. */
  failureThreshold: number;
  /** First cooldown after opening. */
  cooldownMs: number;
  /** Probe calls admitted while half-open; all must succeed to close. */
  halfOpenProbes: number;
  /** Each reopening from half-open multiplies the cooldown by this... */
  backoffFactor: number;
  /** ...up to this cap. */
  maxCooldownMs: number;
  /** A probe whose result never comes back frees its slot after this long. */
  probeLeaseMs: number;
}

export const DEFAULT_BREAKER_POLICY: Readonly<BreakerPolicy> = Object.freeze({
  failureThreshold: 5,
  cooldownMs: 30_000,
  halfOpenProbes: 3,
  backoffFactor: 2,
  maxCooldownMs: 300_000,
  probeLeaseMs: 60_000,
});

/** Throws a TypeError naming the first bad field (options are validated eagerly). */
export function checkPolicy(policy: BreakerPolicy, where = 'breaker policy'): BreakerPolicy {
  const bad = (field: keyof BreakerPolicy, need: string) => {
    throw new TypeError(`${where}.${field} must be ${need}, got ${policy[field]}`);
  };
  if (!Number.isInteger(policy.failureThreshold) || policy.failureThreshold < 0) bad('failureThreshold', 'an integer >= 0');
  if (!(policy.cooldownMs > 0)) bad('cooldownMs', '> 0');
  if (!Number.isInteger(policy.halfOpenProbes) || policy.halfOpenProbes < 1) bad('halfOpenProbes', 'an integer >= 1');
  if (!(policy.backoffFactor >= 1)) bad('backoffFactor', '>= 1');
  if (!(policy.maxCooldownMs >= policy.cooldownMs)) bad('maxCooldownMs', '>= cooldownMs');
  if (!(policy.probeLeaseMs > 0)) bad('probeLeaseMs', '> 0');
  return policy;
}

/**
 * The policy for one scope: the defaults, then a `<kind>:*` override, then an exact-scope
 * override (`provider:*`, `provider:openai`).
 */
export function policyFor(scope: string, defaults: BreakerPolicy, overrides: Readonly<Record<string, Partial<BreakerPolicy>>>): BreakerPolicy {
  const colon = scope.indexOf(':');
  const kindOverride = colon > 0 ? overrides[`${scope.slice(0, colon)}:*`] : undefined;
  const exact = overrides[scope];
  if (!kindOverride && !exact) return defaults;
  return { ...defaults, ...kindOverride, ...exact };
}
