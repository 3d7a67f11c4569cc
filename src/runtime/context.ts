import type { Clock } from '../core/clock.ts';
import type { StopCode } from '../core/codes.ts';
import type { GuardError } from '../core/errors.ts';
import type { RetryBudget } from '../core/retry-budget.ts';
import type { RetryPolicy } from '../core/retry.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { ModelProvider } from '../providers/provider.ts';
import type { Store } from '../store/store.ts';
import type { ApprovalStore } from '../approvals/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Breakers } from '../breakers/index.ts';
import type { BudgetLine } from './charges.ts';
import type { GuardAction, GuardEvent } from './events.ts';
import type { RunHandle } from './run-handle.ts';

/** What a policy decision needs to know about a call. */
export interface AuthorizeRequest {
  agent: string;
  tenant: string;
  action: GuardAction;
  resource: string;
  context: Record<string, unknown>;
}

export type AuthorizeDecision =
  | { effect: 'allow'; policies: string[] }
  | { effect: 'deny'; policies: string[]; reason?: string }
  | { effect: 'approval'; policies: string[] };

/** The policy layer, as the runtime sees it (the Cedar engine implements it). */
export interface Authorizer {
  authorize(request: AuthorizeRequest): AuthorizeDecision;
}

/**
 * The runtime's internals, shared by the model-call and tool-call flows. Built once by
 * `createGuard`; everything time-related goes through `clock`.
 */
export interface GuardContext {
  readonly config: FmguardConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly retryBudget: RetryBudget;
  readonly authorizer?: Authorizer;
  readonly breakers?: Breakers;
  readonly approvals: ApprovalStore;
  readonly audit?: AuditLog;
  provider(name: string): ModelProvider;
  /** How model calls are retried: the agent's `retry`. */
  retryPolicy(agent: string): RetryPolicy;
  /** How a tool is retried: never, unless its config gives it a `retry` and marks it `idempotent`. */
  toolRetryPolicy(tool: string): RetryPolicy;
  budgetsFor(handle: RunHandle, now: number): BudgetLine[];
  /** The kill switch that stops this run right now, if any. */
  killedBy(handle: RunHandle): { scope: string; reason: string } | undefined;
  /** Stop the run: record it, abort its work, emit the event. */
  stopRun(handle: RunHandle, error: GuardError): Promise<void>;
  emit(event: GuardEvent): void;
  /** Whether anyone listens (events are built only then). */
  readonly listening: boolean;
  newId(prefix: string): string;
  /** Start or resume a run (sub-runs are started through it). */
  startRun(options: { agent?: string; id?: string; parentId?: string }): Promise<RunHandle>;
  /** End a run normally. */
  endRun(handle: RunHandle): Promise<void>;
}

export type { StopCode };
