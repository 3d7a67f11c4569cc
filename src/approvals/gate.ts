import { randomBytes } from 'node:crypto';
import type { AuditLog, AuditRecord } from '../audit/audit-log.ts';
import { fingerprint } from '../core/canonical-json.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { GuardError } from '../core/errors.ts';
import type { ApprovalFilter, ApprovalRequest, ApprovalStatus, ApprovalStore, CheckOutcome, DecideResult } from '../store/approvals.ts';

/** Anything that takes audit events (an AuditLog); optional everywhere. */
export type AuditRecorder = Pick<AuditLog, 'record'>;

export function newApprovalId(): string {
  return `apr_${randomBytes(10).toString('hex')}`;
}

export interface CheckApprovalOptions {
  store: ApprovalStore;
  run: string;
  agent: string;
  tenant?: string;
  /** `server.tool`. */
  tool: string;
  /** The exact arguments; their fingerprint decides what "the identical call" is. */
  args: unknown;
  now: number;
  /** Lifetime of a new request, covering both the decision and the use. */
  ttlMs: number;
  audit?: AuditRecorder;
}

/** `request` is the one the error's `approvalId` names (the new one after an expiry). */
export type ApprovalCheck = { ok: true; request: ApprovalRequest } | { ok: false; error: GuardError; request: ApprovalRequest };

/**
 * The approval gate for one tool call, atomic in the store: an approved, unused, unexpired request
 * for this run, tool and exact arguments is consumed and the call allowed; otherwise the call is
 * refused with `approval.required` (pending: existing or newly filed), `approval.denied` (the latest
 * request for it was denied) or `approval.expired` (it expired; a new request is filed). Store
 * failures propagate so the caller can fail closed.
 */
export async function checkApproval({ store, run, agent, tenant, tool, args, now, ttlMs, audit }: CheckApprovalOptions): Promise<ApprovalCheck> {
  if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) throw new TypeError(`ttlMs must be a positive number of ms, got ${ttlMs}`);
  const outcome = await store.check({ run, agent, tenant, tool, fingerprint: fingerprint(args), args, now, ttlMs, newId: newApprovalId() });
  if (audit) recordCheck(audit, outcome, now);
  return toCheck(outcome);
}

function toCheck(result: CheckOutcome): ApprovalCheck {
  const { request } = result;
  const base = { approvalId: request.id, runId: request.run, tool: request.tool, fingerprint: request.fingerprint };
  switch (result.outcome) {
    case 'consumed':
      return { ok: true, request };
    case 'pending':
      return {
        ok: false,
        request,
        error: new GuardError('approval.required', `${request.tool} needs approval: request ${request.id} is pending until ${iso(request.expiresAt)}`, {
          ...base,
          expiresAt: request.expiresAt,
        }),
      };
    case 'denied': {
      const why = request.reason ? `: ${request.reason}` : '';
      return {
        ok: false,
        request,
        error: new GuardError('approval.denied', `${request.tool} was denied by ${request.decidedBy ?? 'an approver'} (request ${request.id})${why}`, {
          ...base,
          deniedBy: request.decidedBy,
          reason: request.reason,
        }),
      };
    }
    case 'expired': {
      const { next } = result;
      const was = request.decidedAt !== undefined ? 'approval' : 'request';
      return {
        ok: false,
        request: next,
        error: new GuardError(
          'approval.expired',
          `${request.tool}: ${was} ${request.id} expired at ${iso(request.expiresAt)}; new request ${next.id} is pending`,
          {
            ...base,
            approvalId: next.id,
            expiredApprovalId: request.id,
            expiresAt: next.expiresAt,
          },
        ),
      };
    }
  }
}

function recordCheck(audit: AuditRecorder, result: CheckOutcome, now: number): void {
  const requested = (r: ApprovalRequest) =>
    audit.record(eventFor(r, now, 'approval.requested', { fingerprint: r.fingerprint, args: r.args, expiresAt: r.expiresAt }));
  switch (result.outcome) {
    case 'consumed':
      audit.record(eventFor(result.request, now, 'approval.consumed', {}));
      return;
    case 'pending':
      if (result.created) requested(result.request);
      return;
    case 'expired':
      audit.record(eventFor(result.request, now, 'approval.expired', { nextApprovalId: result.next.id }));
      requested(result.next);
      return;
    case 'denied':
      return; // the refusal itself is the runtime's call.refused event
  }
}

function eventFor(r: ApprovalRequest, now: number, type: AuditRecord['type'], details: Record<string, unknown>): AuditRecord {
  return {
    type,
    time: now,
    run: r.run,
    agent: r.agent,
    ...(r.tenant !== undefined ? { tenant: r.tenant } : {}),
    action: 'callTool',
    resource: r.tool,
    details: { approvalId: r.id, ...details },
  };
}

export interface DecideOptions {
  store: ApprovalStore;
  id: string;
  /** Who decided (operator name, admin key label). */
  by: string;
  reason?: string;
  /** Defaults to clock.now(). */
  now?: number;
  clock?: Clock;
  audit?: AuditRecorder;
}

/** Approve a pending request; only a pending, unexpired request changes. */
export function approve(options: DecideOptions): Promise<DecideResult> {
  return decide(options, 'approved');
}

/** Deny a pending request; the identical call in that run stays denied. */
export function deny(options: DecideOptions): Promise<DecideResult> {
  return decide(options, 'denied');
}

async function decide({ store, id, by, reason, now, clock = systemClock, audit }: DecideOptions, status: 'approved' | 'denied'): Promise<DecideResult> {
  const at = now ?? clock.now();
  const result = await store.decide({ id, status, by, reason, now: at });
  if (audit && result.ok) {
    audit.record(eventFor(result.request, at, 'approval.decided', { status, by, ...(reason !== undefined ? { reason } : {}) }));
  }
  return result;
}

export interface ListApprovalsOptions extends ApprovalFilter {
  store: ApprovalStore;
  now?: number;
  clock?: Clock;
}

/** Requests newest first, with the status each has now. */
export function listApprovals({ store, now, clock = systemClock, ...filter }: ListApprovalsOptions): Promise<ApprovalRequest[]> {
  return store.list(filter, now ?? clock.now());
}

export interface WaitForDecisionOptions {
  store: ApprovalStore;
  id: string;
  timeoutMs: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** How often to look for decisions made by another process. */
  pollMs?: number;
}

export type WaitResult = { status: Exclude<ApprovalStatus, 'pending'>; request: ApprovalRequest } | { status: 'timeout'; request: ApprovalRequest };

/**
 * Wait until a request is no longer pending (approved, denied, expired or already consumed), or
 * `timeoutMs` passes (`timeout`). Wakes at once on changes made through the same store instance and
 * polls for the rest; never waits past the request's expiry. Rejects with the signal's reason on abort.
 */
export async function waitForDecision({ store, id, timeoutMs, signal, clock = systemClock, pollMs = 500 }: WaitForDecisionOptions): Promise<WaitResult> {
  const deadline = clock.now() + Math.max(0, timeoutMs);
  let changed = false;
  let wake: (() => void) | undefined;
  const unsubscribe = store.subscribe((request) => {
    if (request.id !== id) return;
    changed = true;
    wake?.();
  });
  try {
    for (;;) {
      signal?.throwIfAborted();
      changed = false;
      const now = clock.now();
      const request = await store.get(id, now);
      if (!request) throw new Error(`unknown approval request ${id}`);
      if (request.status !== 'pending') return { status: request.status, request };
      if (now >= deadline) return { status: 'timeout', request };
      if (changed) continue; // a change landed while we were reading
      const waitMs = Math.max(1, Math.min(pollMs, deadline - now, request.expiresAt - now));
      await new Promise<void>((resolve, reject) => {
        const finish = () => {
          clock.clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          wake = undefined;
        };
        const onAbort = () => {
          finish();
          reject(signal!.reason);
        };
        const timer = clock.setTimeout(() => {
          finish();
          resolve();
        }, waitMs);
        wake = () => {
          finish();
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    unsubscribe();
  }
}

export interface RequireApprovalOptions extends Omit<CheckApprovalOptions, 'now'> {
  clock?: Clock;
  /** How long a call may wait for the decision; 0 (default) refuses at once with the request id. */
  waitMs?: number;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * The gate as the runtime uses it: resolves with the consumed approval, or throws the GuardError
 * (`approval.required` / `.denied` / `.expired`). With `waitMs`, waits for a pending request to be
 * decided and then checks again (so the approval is consumed atomically, once).
 */
export async function requireApproval({ clock = systemClock, waitMs = 0, signal, pollMs, ...check }: RequireApprovalOptions): Promise<ApprovalRequest> {
  const first = await checkApproval({ ...check, now: clock.now() });
  if (first.ok) return first.request;
  if (waitMs <= 0 || first.request.status !== 'pending') throw first.error;
  await waitForDecision({ store: check.store, id: first.request.id, timeoutMs: waitMs, signal, clock, pollMs });
  const second = await checkApproval({ ...check, now: clock.now() });
  if (second.ok) return second.request;
  throw second.error;
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
