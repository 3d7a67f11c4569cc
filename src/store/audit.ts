import type { StopCode } from '../core/codes.ts';

/** The environment variable holding the key that signs chain heads and checkpoints, when the config names none. */
export const AUDIT_KEY_ENV = 'FMGUARD_AUDIT_KEY';
/** Shorter keys are refused: an HMAC key should carry at least 128 bits (32 hex characters). */
export const MIN_AUDIT_KEY_LENGTH = 32;

/**
 * What an audit event records. One event per decision; the type says which kind of decision,
 * `code` says why when something was refused or stopped.
 */
export const AUDIT_EVENT_TYPES = [
  'call.allowed', // a model or tool call went through; usage and cost are the settled actuals
  'call.refused', // refused before it started (policy, limit, budget, rate, breaker, approval, ...)
  'call.failed', // started but did not succeed (upstream error or timeout after retries)
  'run.started',
  'run.stopped', // ended by a stop code
  'run.completed',
  'run.refused', // a known agent's run could not be started or resumed (a foreign run or parent, a bad id, depth)
  'kill', // a kill switch was set on a scope
  'kill.cleared',
  'approval.requested',
  'approval.decided', // approved or denied by a human (details.status, details.by)
  'approval.consumed', // an approval was used by the identical call
  'approval.expired',
  'breaker.changed', // details.from / details.to
  'alarm.changed',
  'budget.threshold', // an alert threshold of a periodic budget was crossed
  'policy.shadow', // a shadow-mode policy decision that did not take effect
  'admin.action', // an operator changed state: action budget.adjust|budget.reset|config.reload, resource its scope
  'key.created', // an API key was minted (resource its id, details.by, its limits and hint; never the secret)
  'key.revoked', // a minted API key was revoked (resource its id, details.by)
  'audit.gap', // events a writer numbered but could not keep (details.writer, details.ranges, details.reason)
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditUsage {
  inputTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  totalTokens?: number;
}

/** One decision, as handed to the log. Values must be plain JSON (the log normalizes them). */
export interface AuditEvent {
  type: AuditEventType;
  /** Epoch ms of the decision. */
  time: number;
  run?: string;
  agent?: string;
  tenant?: string;
  code?: StopCode;
  /** `invokeModel`, `callTool`, or an operator action such as `kill`. */
  action?: string;
  /** Model id, `server.tool`, or the scope an operator action applies to. */
  resource?: string;
  usage?: AuditUsage;
  costUsd?: number;
  /** Everything else: tool arguments under `args`, policy ids, limits, the message of a refusal. */
  details?: Record<string, unknown>;
  /**
   * The audit log that recorded the event (a process, or a spool that outlives restarts) and its own
   * number for it, 1, 2, 3, ... assigned when recorded, before anything can be lost. The chain's
   * `seq` is given when stored, so a lost event leaves no hole there; a hole in `wseq` shows it.
   */
  writer?: string;
  wseq?: number;
}

/** An event as stored: numbered and chained to the one before it. */
export interface StoredEvent extends AuditEvent {
  /** 1, 2, 3, ... with no gaps. */
  seq: number;
  /** `hash` of the event with seq - 1, or GENESIS_HASH for seq 1. */
  prevHash: string;
  /** sha256 hex of the canonical JSON of this event without `hash` (so it covers seq and prevHash). */
  hash: string;
}

export interface AuditFilter {
  run?: string;
  agent?: string;
  tenant?: string;
  code?: StopCode;
  type?: AuditEventType | AuditEventType[];
  /** Inclusive lower bound on `time` (epoch ms). */
  from?: number;
  /** Exclusive upper bound on `time` (epoch ms). */
  to?: number;
  limit?: number;
  /** By seq; default 'desc' (newest first). */
  order?: 'asc' | 'desc';
}

/** The last event of a chain; keep one elsewhere to detect later truncation (`verify({ anchor })`). */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * - changed: the event's content no longer matches its hash, or it no longer links to its neighbour
 *   (rewritten with a recomputed hash).
 * - removed: the event with this seq is missing (gap in seq, or the tail was cut off).
 * - reordered: the event with this seq exists but not in its place.
 * - inserted: an event that was never appended (a duplicate seq, or beyond the recorded head).
 * - gap: a writer's own numbering skips events and no `audit.gap` event declares them dropped.
 * - unsigned: a checkpoint or anchor whose signature does not match the key.
 */
export type TamperProblem = 'changed' | 'removed' | 'reordered' | 'inserted' | 'gap' | 'unsigned';

/** Events of one writer that never reached the log: `from..to` of its own numbering. */
export interface WriterGap {
  writer: string;
  from: number;
  to: number;
  /** An `audit.gap` event declares these events dropped (its seq); absent when nothing says so. */
  declaredBy?: number;
}

/**
 * A signed record of the chain head at a cut: events up to `seq` were pruned, `hash` is the hash of
 * event `seq`, `writers` the last pruned number of each writer whose events go on after the cut.
 */
export interface AuditCheckpoint extends ChainHead {
  /** The chain it belongs to (a Postgres replica; '' for a single-chain sink). */
  chain: string;
  /** Epoch ms of the cut. */
  time: number;
  writers: Record<string, number>;
  /** HMAC-SHA256 (hex) over the canonical JSON of the rest (see audit/anchor.ts). */
  sig: string;
}

export type VerifyResult = (
  | { ok: true; count: number; head?: ChainHead }
  | {
      ok: false;
      /** The seq of the first event found to be changed, missing, out of place or inserted. */
      seq: number;
      problem: TamperProblem;
      message: string;
      /** 1-based place in storage order (line number for JSONL, row for SQLite) where it was found. */
      position: number;
      /** Events that verified before the problem. */
      checked: number;
    }
) & {
  /** Holes in the writers' own numbering (declared ones do not fail verify; undeclared ones do). */
  gaps?: WriterGap[];
  /** The checkpoint the walk started from, when older events were pruned. */
  checkpoint?: ChainHead;
};

export interface VerifyOptions {
  /** A head recorded earlier; the log must still contain exactly this event. */
  anchor?: ChainHead;
  /**
   * Checks a checkpoint's signature (audit/anchor.ts); without it a checkpoint is taken as stored.
   * Returns false for a checkpoint that was not signed with the key.
   */
  checkSignature?: (checkpoint: AuditCheckpoint) => boolean;
}
