/**
 * A human approval for one exact tool call. A request is single-use and has one expiry, fixed when
 * it is created, that bounds both the decision and the use: an approval not used by then expires
 * like a pending request would (approving does not extend it).
 *
 *   pending ──approve──► approved ──identical call──► consumed
 *      │  └───deny────► denied
 *      └──(expiresAt passes while pending or approved)──► expired
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'consumed';

/** What identifies "the identical call": same run, same tool, same canonical arguments. */
export interface ApprovalKey {
  run: string;
  tool: string;
  /** `fingerprint(args)` from core/canonical-json.ts. */
  fingerprint: string;
}

export interface ApprovalRequest extends ApprovalKey {
  id: string;
  agent: string;
  tenant?: string;
  /** The arguments, so the approver sees what they approve. */
  args: unknown;
  createdAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decidedAt?: number;
  decidedBy?: string;
  /** Why it was denied (or a note with an approval). */
  reason?: string;
  consumedAt?: number;
}

export interface CheckInput extends ApprovalKey {
  agent: string;
  tenant?: string;
  args: unknown;
  now: number;
  ttlMs: number;
  /** Id for the request created if one is needed. */
  newId: string;
}

/** What a call finds when it asks for its approval; decided atomically with any change it makes. */
export type CheckOutcome =
  /** An approved request was used up by this call: let it through. */
  | { outcome: 'consumed'; request: ApprovalRequest }
  /** Waiting for a human; `created` when this call filed the request. */
  | { outcome: 'pending'; request: ApprovalRequest; created: boolean }
  /** The latest request for this exact call was denied; it stays denied for the run. */
  | { outcome: 'denied'; request: ApprovalRequest }
  /** The latest request expired (pending or approved-unused); `next` is the new pending request filed for it. */
  | { outcome: 'expired'; request: ApprovalRequest; next: ApprovalRequest };

export interface DecideInput {
  id: string;
  status: 'approved' | 'denied';
  by: string;
  reason?: string;
  now: number;
}

/** Only a pending, unexpired request can be decided; otherwise `request` shows its current state. */
export type DecideResult =
  | { ok: true; request: ApprovalRequest }
  | { ok: false; reason: 'unknown' }
  | { ok: false; reason: 'not-pending'; request: ApprovalRequest };

export interface ApprovalFilter {
  status?: ApprovalStatus | ApprovalStatus[];
  run?: string;
  agent?: string;
  tool?: string;
  /** Newest first; at most this many. */
  limit?: number;
}

export type ApprovalListener = (request: ApprovalRequest) => void;

/**
 * Approval state with atomic transitions. Reads report the effective status as of `now` (a request
 * past its expiry reads as expired even before a write records it).
 */
export interface ApprovalStore {
  readonly kind: string;
  /** Look at the latest request for the key and consume, report, or create, all in one atomic step. */
  check(input: CheckInput): Promise<CheckOutcome>;
  get(id: string, now: number): Promise<ApprovalRequest | undefined>;
  decide(input: DecideInput): Promise<DecideResult>;
  list(filter: ApprovalFilter, now: number): Promise<ApprovalRequest[]>;
  /**
   * Called after each change made through this store instance. Changes made by another process are
   * not announced; waiters poll for those.
   */
  subscribe(listener: ApprovalListener): () => void;
  close(): Promise<void>;
}
