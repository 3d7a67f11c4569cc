import { setMaxListeners } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { ToolCallCounter } from '../core/loop-detect.ts';
import { GuardError, guardError } from '../core/errors.ts';
import type { ResolvedAgent } from '../config/resolve.ts';
import type { LedgerStore, RunRecord } from '../store/store.ts';
import type { BudgetLine, ChainLink } from './charges.ts';
import type { KeyGrant } from './principal.ts';

/**
 * The in-process side of a run: its abort controller (fired when the run is stopped, killed or runs
 * out of time) and what every call needs to know about it. One handle per run id per guard, shared
 * by every concurrent call of that run.
 */
export class RunHandle {
  readonly record: RunRecord;
  readonly agent: ResolvedAgent;
  readonly keyId: string | undefined;
  /** The key the run was opened with: its own budgets and rate limits (`key:<id>`). */
  readonly key: KeyGrant | undefined;
  /** This run and its ancestors, nearest first, each with its own agent's limits. */
  readonly chain: readonly ChainLink[];
  /** Kill-switch scopes that stop this run. */
  readonly killScopes: readonly string[];
  private readonly controller = new AbortController();
  private deadlineTimer: unknown;
  private stopError: GuardError | undefined;
  /** The ledger this run's calls reserve on: the store's, or for a run of its own a SplitLedger. */
  readonly ledger: LedgerStore;
  /**
   * A run of its own kept in this process (runtime/local-ledger.ts): its record reaches the store
   * only if it is stopped; ending it normally writes nothing.
   */
  readonly local: boolean;
  private calls = 0;
  /** When a call of this run last started or finished here (the idle sweeper ends a run quiet for `runIdleTtlMs`). */
  lastActiveAt: number;
  /** The guard's clock, for `lastActiveAt`. */
  clock: Clock | undefined;

  /** Calls in flight, so `end()` can wait and kills can be reported. */
  get active(): number {
    return this.calls;
  }

  set active(n: number) {
    this.calls = n;
    if (this.clock) this.lastActiveAt = this.clock.now();
  }
  /** Steps and cost this process has seen settle (context for policies; the ledger is the truth). */
  localSteps = 0;
  localCostNano = 0;
  /** The conversation's tool calls counted so far (loop detection, model-admission.ts). */
  toolCalls: ToolCallCounter | undefined;
  /** The budget lines of the current window (see Guard.budgetsFor). */
  budgetCache: { from: number; to: number; lines: BudgetLine[] } | undefined;

  constructor(record: RunRecord, agent: ResolvedAgent, key: KeyGrant | undefined, chain: readonly ChainLink[], ledger: LedgerStore, local = false) {
    this.record = record;
    this.ledger = ledger;
    this.local = local;
    this.agent = agent;
    this.key = key;
    this.keyId = key?.id;
    this.chain = chain;
    this.lastActiveAt = record.startedAt;
    // Every concurrent call of the run listens to this signal; hundreds at once is normal.
    setMaxListeners(0, this.controller.signal);
    this.killScopes = ['global', `tenant:${record.tenant}`, `agent:${record.agent}`, `run:${record.id}`, ...record.ancestors.map((id) => `run:${id}`)];
    if (record.status === 'stopped') {
      this.markStopped(guardError(record.stopCode ?? 'kill.switch', record.stopReason ?? 'the run was stopped', { runId: record.id }));
    } else if (record.status === 'completed') {
      this.markStopped(guardError('request.invalid', 'the run has ended', { runId: record.id }));
    }
  }

  get id(): string {
    return this.record.id;
  }

  /** Fires when the run is stopped or killed; every guarded call aborts its work through it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopped(): GuardError | undefined {
    return this.stopError;
  }

  /** Arm the wall-time limit: at the deadline the run stops with `limit.duration`. */
  armDeadline(clock: Clock, onDeadline: () => void): void {
    const left = this.record.deadline - clock.now();
    this.deadlineTimer = clock.setTimeout(onDeadline, Math.max(0, left));
    // A run's deadline alone must not keep the process alive.
    (this.deadlineTimer as { unref?: () => void } | undefined)?.unref?.();
  }

  disarm(clock: Clock): void {
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  /** Its calls were cut by a shutdown (`Guard.interruptCalls`): the run itself did not stop, and may still end normally. */
  interrupted = false;
  /** An interrupted run was ended (it ends once). */
  ended = false;

  /** Record the stop and abort in-flight work. The first stop wins. */
  markStopped(error: GuardError): boolean {
    if (this.stopError) return false;
    this.stopError = error;
    this.controller.abort(error);
    return true;
  }

  /** Throw if the run can take no more calls. */
  assertRunning(now: number): void {
    if (this.stopError) throw this.stopError;
    if (now >= this.record.deadline) {
      throw guardError('limit.duration', `run ${this.id} reached its wall-time limit`, {
        runId: this.id,
        limit: this.agent.limits.maxDurationMs,
        used: now - this.record.startedAt,
      });
    }
  }
}

export { GuardError };
