import type { CaughtFailure } from './catch-chain.ts';
import type { ChatChunk, ChatRequest, ChatResponse, Usage } from '../core/chat.ts';
import type { Price } from '../core/pricing.ts';
import type { ResolvedModel } from '../config/resolve.ts';
import type { BucketSpec, Charge } from '../store/store.ts';
import type { BudgetLine } from './charges.ts';
import type { BreakerTokens } from './model-breakers.ts';

/**
 * A request that arrived in another API's shape (a gateway's `/v1/responses`): decided on the chat
 * view, sent as `body` to a provider that speaks that API itself (runtime/passthrough.ts).
 */
export interface Passthrough {
  api: 'responses';
  body: Record<string, unknown>;
}

export interface ModelCallOptions {
  /** The caller's own cancellation; the run's signal always applies too. */
  signal?: AbortSignal;
  /** An exact input token count, when the caller has one; otherwise a safe upper bound is estimated. */
  inputTokens?: number;
  /** The request as it arrived in another API, for a provider that speaks it (see `Passthrough`). */
  passthrough?: Passthrough;
}

/** A guarded model call's outcome. */
export interface ModelCallResult {
  response: ChatResponse;
  usage: Usage;
  costUsd: number;
  /** The output cap sent upstream after clamping. */
  maxTokens: number;
  attempts: number;
  /** The model asked for. */
  model: string;
  /** The model that served the call when it is not the one asked for: a breaker fallback or a catcher's `next`. */
  servedBy?: string;
  /** The failures a catcher caught on the way (`models.<name>.catch`), in order. */
  caught?: CaughtFailure[];
}

export interface ModelStreamResult extends Omit<ModelCallResult, 'response'> {
  content: string;
}

/** A stream whose first chunk has arrived; iterate it once. `result` settles when it ends. */
export interface GuardedStream extends AsyncIterable<ChatChunk> {
  /** The upstream served the call's `passthrough` API itself: every chunk carries its event as `native`. */
  readonly passedThrough?: boolean;
  readonly maxTokens: number;
  readonly model: string;
  readonly servedBy?: string;
  readonly result: Promise<ModelStreamResult>;
  /**
   * Stop reading: the upstream is aborted and what flowed is settled, whether or not iteration
   * started (breaking out of a `for await` does the same). Resolves once the call is settled.
   */
  close(): Promise<void>;
}

/** A model call that passed decision steps 2–8: what serves it, and what was reserved for it. */
export interface Prepared extends Reserved {
  request: ChatRequest;
}

/** What settling a call needs (an embeddings call has no chat request). */
export interface Reserved {
  /** The model that serves the call (a fallback when the requested one's breaker is open). */
  model: ResolvedModel;
  /** What the agent asked for. */
  requested: ResolvedModel;
  breakerTokens: BreakerTokens;
  price: Price;
  inputTokens: number;
  maxTokens: number;
  reservationId: string;
  charges: Charge[];
  budgets: BudgetLine[];
  buckets: BucketSpec[];
  reservedTokens: number;
  startedAt: number;
  /** The upstream's id for the latest attempt, when the provider reports one (for the audit). */
  upstreamRequestId?: string;
}
