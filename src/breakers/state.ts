import type { BreakerState } from '../store/breakers.ts';
import type { BreakerPolicy } from './policy.ts';

export type { BreakerState, Probe } from '../store/breakers.ts';

export type BreakerKind = BreakerState['kind'];

/** Handed out by admit and given back with the result. */
export interface BreakerToken {
  epoch: number;
  probe?: string;
}

export type Admission = { ok: true; probe: boolean; token: BreakerToken } | { ok: false; retryAfterMs: number | null };

export function initialBreakerState(now = 0): BreakerState {
  return { kind: 'closed', epoch: 0, since: now, failures: 0 };
}

/** Longest a refused caller is told to wait while probes are in flight. */
const PROBE_BUSY_RETRY_MS = 1_000;

/**
 * Decide one call. Returns the next state (the same object when nothing changed, so callers can
 * skip the write) and the admission. An open breaker whose cooldown has passed turns half-open
 * here; `probeId` names the probe slot if one is taken.
 */
export function admitCall(state: BreakerState, now: number, policy: BreakerPolicy, probeId: string): { state: BreakerState; admission: Admission } {
  if (state.kind === 'closed') return { state, admission: { ok: true, probe: false, token: { epoch: state.epoch } } };
  let current = state;
  if (current.kind === 'open') {
    if (current.until === null) return { state, admission: { ok: false, retryAfterMs: null } };
    if (now < current.until) return { state, admission: { ok: false, retryAfterMs: current.until - now } };
    current = {
      kind: 'halfOpen',
      epoch: current.epoch + 1,
      since: current.until,
      cooldownMs: current.cooldownMs,
      probes: current.probes,
      successes: 0,
      pending: [],
      by: current.by,
      reason: current.reason,
    };
  }
  const live = current.pending.filter((p) => p.expiresAt > now);
  if (current.successes + live.length < current.probes) {
    const next: BreakerState = { ...current, pending: [...live, { id: probeId, expiresAt: now + policy.probeLeaseMs }] };
    return { state: next, admission: { ok: true, probe: true, token: { epoch: current.epoch, probe: probeId } } };
  }
  const soonest = Math.min(...live.map((p) => p.expiresAt));
  const next = live.length === current.pending.length ? current : { ...current, pending: live };
  return { state: next, admission: { ok: false, retryAfterMs: Math.max(1, Math.min(PROBE_BUSY_RETRY_MS, soonest - now)) } };
}

/**
 * Apply a call's result. Closed: failures in a row open the breaker at the policy's threshold.
 * Half-open: a probe failure reopens with the cooldown times the backoff factor (capped); once
 * every probe has succeeded the breaker closes. Results from an earlier epoch change nothing.
 */
export function recordResult(state: BreakerState, token: BreakerToken, success: boolean, now: number, policy: BreakerPolicy): BreakerState {
  if (token.epoch !== state.epoch) return state;
  if (state.kind === 'closed') {
    if (success) return state.failures === 0 ? state : { ...state, failures: 0 };
    const failures = state.failures + 1;
    if (policy.failureThreshold > 0 && failures >= policy.failureThreshold) {
      return {
        kind: 'open',
        epoch: state.epoch + 1,
        since: now,
        until: now + policy.cooldownMs,
        cooldownMs: policy.cooldownMs,
        probes: policy.halfOpenProbes,
        by: 'auto',
        reason: `${failures} consecutive failures`,
      };
    }
    return { ...state, failures };
  }
  if (state.kind === 'open') return state;
  const wasPending = token.probe !== undefined && state.pending.some((p) => p.id === token.probe);
  if (!success) {
    const cooldownMs = Math.min(state.cooldownMs * policy.backoffFactor, Math.max(policy.maxCooldownMs, state.cooldownMs));
    return {
      kind: 'open',
      epoch: state.epoch + 1,
      since: now,
      until: now + cooldownMs,
      cooldownMs,
      probes: state.probes,
      by: state.by,
      reason: `probe failed (${state.reason})`,
    };
  }
  if (!wasPending) return state;
  const successes = state.successes + 1;
  if (successes >= state.probes) return { kind: 'closed', epoch: state.epoch + 1, since: now, failures: 0 };
  return { ...state, successes, pending: state.pending.filter((p) => p.id !== token.probe) };
}

/** Give back a probe slot whose call never happened (e.g. another check refused it first). */
export function releaseProbe(state: BreakerState, token: BreakerToken): BreakerState {
  if (state.kind !== 'halfOpen' || token.epoch !== state.epoch || token.probe === undefined) return state;
  const pending = state.pending.filter((p) => p.id !== token.probe);
  return pending.length === state.pending.length ? state : { ...state, pending };
}

export interface OpenOptions {
  /** null: stays open until closed by an operator. */
  cooldownMs: number | null;
  probes: number;
  by: string;
  reason: string;
}

/** Open now (operator or alarm), whatever the current phase. */
export function forceOpen(state: BreakerState, now: number, { cooldownMs, probes, by, reason }: OpenOptions): BreakerState {
  return {
    kind: 'open',
    epoch: state.epoch + 1,
    since: now,
    until: cooldownMs === null ? null : now + cooldownMs,
    cooldownMs: cooldownMs ?? 0,
    probes,
    by,
    reason,
  };
}

/** Close now (operator, or the alarm that opened it going back to OK). */
export function forceClose(state: BreakerState, now: number): BreakerState {
  return { kind: 'closed', epoch: state.epoch + 1, since: now, failures: 0 };
}

/** The phase a caller would see at `now` (an open breaker past its cooldown is half-open). */
export function effectiveKind(state: BreakerState, now: number): BreakerKind {
  if (state.kind === 'open' && state.until !== null && now >= state.until) return 'halfOpen';
  return state.kind;
}
