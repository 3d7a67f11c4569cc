import { canonicalJson } from '../core/canonical-json.ts';
import type { ApprovalFilter, ApprovalRequest, ApprovalStatus, CheckInput, CheckOutcome, DecideInput, DecideResult } from '../store/approvals.ts';

/**
 * The approval state machine as pure functions. Each store runs them inside its own atomic section
 * (a synchronous block in memory, a BEGIN IMMEDIATE transaction in SQLite), so both behave the same.
 */

export function isDue(request: ApprovalRequest, now: number): boolean {
  return (request.status === 'pending' || request.status === 'approved') && now >= request.expiresAt;
}

/** The request as it stands at `now`: pending or approved past its expiry reads as expired. */
export function effective(request: ApprovalRequest, now: number): ApprovalRequest {
  return isDue(request, now) ? { ...request, status: 'expired' } : request;
}

export function newRequest(input: CheckInput): ApprovalRequest {
  return {
    id: input.newId,
    run: input.run,
    agent: input.agent,
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    tool: input.tool,
    fingerprint: input.fingerprint,
    // Plain JSON, so every store keeps and returns the same value.
    args: JSON.parse(canonicalJson(input.args)) as unknown,
    createdAt: input.now,
    expiresAt: input.now + input.ttlMs,
    status: 'pending',
  };
}

export interface Plan<T> {
  result: T;
  /** Requests to insert or overwrite, by id. */
  writes: ApprovalRequest[];
}

/** Decide a check from the latest request for the key (undefined when there is none). */
export function planCheck(latest: ApprovalRequest | undefined, input: CheckInput): Plan<CheckOutcome> {
  if (!latest) {
    const request = newRequest(input);
    return { result: { outcome: 'pending', request, created: true }, writes: [request] };
  }
  const current = effective(latest, input.now);
  switch (current.status) {
    case 'approved': {
      const request: ApprovalRequest = { ...current, status: 'consumed', consumedAt: input.now };
      return { result: { outcome: 'consumed', request }, writes: [request] };
    }
    case 'pending':
      return { result: { outcome: 'pending', request: current, created: false }, writes: [] };
    case 'denied':
      return { result: { outcome: 'denied', request: current }, writes: [] };
    case 'expired': {
      // Report the expiry and file a fresh request, so the agent can repeat the call once approved.
      const next = newRequest(input);
      return { result: { outcome: 'expired', request: current, next }, writes: [current, next] };
    }
    case 'consumed': {
      // Single use: the identical call needs a new approval.
      const request = newRequest(input);
      return { result: { outcome: 'pending', request, created: true }, writes: [request] };
    }
  }
}

export function planDecide(stored: ApprovalRequest | undefined, input: DecideInput): Plan<DecideResult> {
  if (!stored) return { result: { ok: false, reason: 'unknown' }, writes: [] };
  const current = effective(stored, input.now);
  if (current.status !== 'pending') {
    // Record an expiry we just noticed; nothing else changes.
    return { result: { ok: false, reason: 'not-pending', request: current }, writes: current === stored ? [] : [current] };
  }
  const request: ApprovalRequest = {
    ...current,
    status: input.status,
    decidedAt: input.now,
    decidedBy: input.by,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
  };
  return { result: { ok: true, request }, writes: [request] };
}

export function statusList(status: ApprovalFilter['status']): ApprovalStatus[] | undefined {
  if (status === undefined) return undefined;
  return Array.isArray(status) ? status : [status];
}

/** Whether a request (already effective as of now) passes a filter. */
export function matchesApprovalFilter(request: ApprovalRequest, filter: ApprovalFilter): boolean {
  const statuses = statusList(filter.status);
  if (statuses && !statuses.includes(request.status)) return false;
  if (filter.run !== undefined && request.run !== filter.run) return false;
  if (filter.agent !== undefined && request.agent !== filter.agent) return false;
  if (filter.tool !== undefined && request.tool !== filter.tool) return false;
  return true;
}
