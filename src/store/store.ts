import type { StopCode } from '../core/codes.ts';

import type { AlarmStateStore } from './alarms.ts';
import type { ApiKeyStore } from './api-keys.ts';
import type { ApprovalStore } from './approvals.ts';
import type { AuditSinkFactory } from './audit-sink.ts';
import type { BreakerStore } from './breakers.ts';
import type { MetricStore } from './metrics.ts';

/**
 * The one contract for state that must be atomic, shared or persistent. Every backend (memory,
 * SQLite, Redis) implements all of it and passes the one contract suite in test/store/; the runtime
 * and the domain modules see only these interfaces, never a backend.
 *
 * All amounts are integers (money in nano-USD, see core/money.ts). All times are epoch ms and are
 * passed in by the caller, so stores never read a clock of their own.
 */
export interface Store {
  /** `memory`, `sqlite`, `redis`: for messages only (nothing branches on it). */
  readonly kind: string;
  readonly ledger: LedgerStore;
  readonly rates: RateStore;
  readonly kills: KillStore;
  readonly runs: RunStore;
  readonly approvals: ApprovalStore;
  readonly breakers: BreakerStore;
  readonly metrics: MetricStore;
  readonly alarms: AlarmStateStore;
  /** API keys minted at run time (hashes only), shared like everything else here. */
  readonly apiKeys: ApiKeyStore;
  /** The audit sink that lives beside this state, when the backend keeps one (SQLite: tables in its file). */
  readonly audit?: AuditSinkFactory;
  /**
   * Optional: operations made of the ones above, done as one (one transaction, one round trip) with
   * exactly the results of their parts called in order. A store without them has the parts called
   * one by one (runtime/local-ledger.ts), which decides the same.
   */
  readonly compound?: CompoundOps;
  /** Close every part (and the connection or file they share). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Ledger: counters with limits, reserved before a call and settled after it.

/**
 * One line of a reservation: `amount` of dimension `dim` on account `key`. With a `limit`, the
 * reservation succeeds only if used + reserved + amount <= limit. Without one the amount is only
 * tracked. `code` is the stop code to report when this line is what does not fit.
 */
export interface Charge {
  key: string;
  dim: string;
  amount: number;
  limit?: number;
  code: StopCode;
}

export interface ReserveRequest {
  /** Caller-chosen unique id, used to settle or release. */
  id: string;
  charges: Charge[];
  /** After this time the reservation is released by the store itself (a crashed caller). */
  expiresAt: number;
  now: number;
}

export interface ChargeRefusal {
  key: string;
  dim: string;
  code: StopCode;
  limit: number;
  used: number;
  reserved: number;
  requested: number;
}

export type ReserveResult = { ok: true } | { ok: false; refusal: ChargeRefusal };

/** Settled amount of each charge line, by index into the reservation's `charges`. */
export interface SettleRequest {
  id: string;
  actual: number[];
  now: number;
}

/** What each line's `used` was before and after settlement (alert thresholds are judged on it). */
export interface SettledLine {
  key: string;
  dim: string;
  before: number;
  after: number;
  limit?: number;
}

export type SettleResult = { ok: true; lines: SettledLine[] } | { ok: false; reason: 'unknown' | 'expired' };

export interface Balance {
  used: number;
  reserved: number;
}

export interface LedgerStore {
  /** All or nothing: either every charge is reserved, or none is and the first that does not fit is named. */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /**
   * Turn a reservation into actual usage and release the rest. If the reservation already expired
   * its hold is gone; the actual usage is still recorded (spend that happened is never lost).
   */
  settle(req: SettleRequest): Promise<SettleResult>;
  /** Drop a reservation without recording usage (the call never happened). */
  release(id: string): Promise<void>;
  /** Used and reserved amounts, after releasing expired reservations as of `now`. */
  balances(lines: Array<{ key: string; dim: string }>, now: number): Promise<Balance[]>;
  /**
   * Consecutive-repeat tracker: records `fingerprint` under `key` and returns how many times in a
   * row it has now been recorded (1 when it differs from the previous one).
   */
  trackRepeat(key: string, fingerprint: string): Promise<number>;
  /**
   * An operator's correction (`fmguard budgets adjust|reset`): add `delta` (a safe integer, negative
   * to credit) to the `used` amount of one account, atomically, never below 0. Holds are untouched.
   * Returns `used` before and after.
   */
  adjust(key: string, dim: string, delta: number): Promise<{ before: number; after: number }>;
}

// ---------------------------------------------------------------------------------------------
// Rate limits: token buckets.

/** A token bucket: holds up to `capacity`, refills `capacity` every `windowMs`. */
export interface BucketSpec {
  key: string;
  capacity: number;
  windowMs: number;
  amount: number;
  /** Stop code and scope to report when this bucket is empty. */
  scope: string;
}

export type RateResult = { ok: true } | { ok: false; scope: string; key: string; retryAfterMs: number };

export interface RateStore {
  /** Take `amount` from every bucket, all or nothing. */
  take(buckets: BucketSpec[], now: number): Promise<RateResult>;
  /** Give back unused tokens (estimate minus actual), never above capacity. */
  credit(buckets: BucketSpec[], now: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Compound operations (optional): a call's store work before its upstream and after it.

/** `rate` as `rates.take` answered; `reserve` as `ledger.reserve` did, absent when the rate refused. */
export interface TakeAndReserveResult {
  rate: RateResult;
  reserve?: ReserveResult;
}

export interface CompoundOps {
  /** `rates.take(buckets, req.now)`; if taken, `ledger.reserve(req)`; if that refuses, `rates.credit(buckets, req.now)`. */
  takeAndReserve(buckets: BucketSpec[], req: ReserveRequest): Promise<TakeAndReserveResult>;
  /** `ledger.settle(req)`, then `rates.credit(credit, req.now)` (skipped when `credit` is empty). */
  settleAndCredit(req: SettleRequest, credit: BucketSpec[]): Promise<SettleResult>;
}

// ---------------------------------------------------------------------------------------------
// Kill switches.

/** `global`, `tenant:<id>`, `agent:<id>`, `run:<id>` (and later `provider:<id>`, `tool:<id>`). */
export type KillScope = string;

export interface KillInfo {
  reason: string;
  by: string;
  at: number;
}

export type KillListener = (scope: KillScope, info: KillInfo | null) => void;

export interface KillStore {
  set(scope: KillScope, info: KillInfo): Promise<void>;
  clear(scope: KillScope): Promise<void>;
  list(): Promise<Map<KillScope, KillInfo>>;
  /** Called on every change, including changes made by another process sharing the store. */
  subscribe(listener: KillListener): () => void;
}

// ---------------------------------------------------------------------------------------------
// Runs.

export type RunStatus = 'running' | 'stopped' | 'completed';

export interface RunRecord {
  id: string;
  agent: string;
  tenant: string;
  parentId?: string;
  /** Ids of every ancestor, nearest first; a sub-run's usage counts against each. */
  ancestors: string[];
  depth: number;
  startedAt: number;
  /** Absolute wall-time deadline (startedAt + maxDurationMs). */
  deadline: number;
  status: RunStatus;
  stopCode?: StopCode;
  stopReason?: string;
  endedAt?: number;
}

export interface RunFilter {
  agent?: string;
  tenant?: string;
  status?: RunStatus;
  limit?: number;
}

export interface RunStore {
  /** Insert if absent; returns the stored record and whether this call created it. */
  create(run: RunRecord): Promise<{ created: boolean; run: RunRecord }>;
  get(id: string): Promise<RunRecord | undefined>;
  /** Mark a run ended. Only a running run changes; the first stop wins. */
  end(id: string, status: Exclude<RunStatus, 'running'>, at: number, code?: StopCode, reason?: string): Promise<RunRecord | undefined>;
  list(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * Retention, in one atomic step per batch. Every ended run whose end is before `rollBefore` has its
   * ledger detail (its `run:<id>` account, every dimension, and its `run:<id>:*` repeat trackers)
   * deleted; a root run (depth 0) first adds its `dims` and a run count to the period totals of its
   * tenant, agent and UTC day of start, so `totals` never changes. A sub-run's usage is already in its
   * root's account: it is dropped without adding. Then every ended run whose end is before
   * `deleteBefore` (and whose detail is rolled: `deleteBefore` implies `rollBefore`) is deleted.
   * Running runs are never touched. At most `limit` runs are rolled and `limit` deleted per call.
   */
  prune(req: RunPruneRequest): Promise<RunPruneResult>;
  /**
   * Totals over every root run ever recorded: what the period totals hold plus what the not yet
   * rolled root runs' accounts hold, for `dims`. Exactly the same before and after any `prune`.
   */
  totals(dims: readonly string[], filter?: RunTotalsFilter): Promise<RunTotals>;
}

export interface RunPruneRequest {
  /** Roll and drop the ledger detail of runs ended before this (epoch ms). */
  rollBefore?: number;
  /** Delete the records of runs ended before this (their detail is rolled first). */
  deleteBefore?: number;
  /** The dimensions kept in the period totals (others, e.g. call fingerprints, are only dropped). */
  dims: readonly string[];
  /** Per call, at most this many runs rolled and this many deleted (default 1000). */
  limit?: number;
}

export interface RunPruneResult {
  /** Runs whose ledger detail was rolled into period totals and dropped. */
  rolled: number;
  /** Run records deleted. */
  deleted: number;
}

export interface RunTotalsFilter {
  tenant?: string;
  agent?: string;
}

export interface RunTotals {
  /** Root runs counted. */
  runs: number;
  /** Used amount per dimension (0 for a dimension nobody used). */
  used: Record<string, number>;
}

/** The UTC day a run's totals fall in: days since the epoch of its start. */
export const runDay = (startedAt: number): number => Math.floor(startedAt / 86_400_000);

/** Ledger account and dimension names, shared by the runtime and every store. */
export const accounts = {
  run: (id: string) => `run:${id}`,
  budget: (scope: string, period: string, window: string) => `budget:${scope}:${period}:${window}`,
} as const;
