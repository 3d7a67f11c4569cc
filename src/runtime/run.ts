import type { ChatRequest } from '../core/chat.ts';
import { guardError } from '../core/errors.ts';
import type { Limits } from '../config/resolve.ts';
import { nanoToUsd } from '../core/money.ts';
import { accounts, type Store } from '../store/store.ts';
import { DIM } from './charges.ts';
import type { GuardContext } from './context.ts';
import { callModel } from './call-model.ts';
import type { GuardedStream, ModelCallOptions, ModelCallResult } from './model-types.ts';
import { streamModel } from './stream-model.ts';
import type { RunHandle } from './run-handle.ts';
import { callTool, type ToolCallOptions, type ToolCallResult } from './call-tool.ts';
import { callEmbeddings, type EmbeddingsCallOptions, type EmbeddingsCallResult } from './call-embeddings.ts';
import type { EmbeddingsRequest } from '../core/wire/embeddings.ts';
import type { ChatMessage, ChatToolCall } from '../core/chat.ts';
import type { GuardError } from '../core/errors.ts';
import { afterRefusal } from './admission.ts';
import { runName } from './run-ids.ts';
import { checkProposedToolCalls, type ToolCallViolation } from './proposed-tools.ts';

export interface RunUsage {
  steps: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
  /** Held by calls in flight. */
  reservedCostUsd: number;
}

/** A guarded run, as the SDK hands it out: calls made through it are counted, limited and stoppable. */
export class Run {
  private readonly ctx: GuardContext;
  /** @internal */
  readonly handle: RunHandle;

  constructor(ctx: GuardContext, handle: RunHandle) {
    this.ctx = ctx;
    this.handle = handle;
  }

  /** The run's id: its name scoped to its agent (`name@agent`), as the store, kill switches and the audit log know it. */
  get id(): string {
    return this.handle.id;
  }

  /** The run's name as its client gave it (or as minted), without the agent (what `x-fmguard-run` shows). */
  get name(): string {
    return runName(this.handle.id);
  }

  get agent(): string {
    return this.handle.agent.name;
  }

  get tenant(): string {
    return this.handle.record.tenant;
  }

  get depth(): number {
    return this.handle.record.depth;
  }

  get parentId(): string | undefined {
    return this.handle.record.parentId;
  }

  /** The limits of the agent the run belongs to (what its steps, tokens, cost and time may reach). */
  get limits(): Readonly<Limits> {
    return this.handle.agent.limits;
  }

  /** Fires when the run is stopped or killed; pass it to anything the run starts. */
  get signal(): AbortSignal {
    return this.handle.signal;
  }

  /** Why the run stopped, if it has. */
  get stopError() {
    return this.handle.stopped;
  }

  /** A non-streaming model call through the configured provider. */
  callModel(request: ChatRequest, options?: ModelCallOptions): Promise<ModelCallResult> {
    return callModel(this.ctx, this.handle, request, options);
  }

  /** A streaming model call; resolves once the first chunk has arrived. */
  streamModel(request: ChatRequest, options?: ModelCallOptions): Promise<GuardedStream> {
    return streamModel(this.ctx, this.handle, request, options);
  }

  /** A guarded embeddings call: metered by input tokens, priced, budgeted and policy-checked like a model call. */
  callEmbeddings(request: EmbeddingsRequest, options?: EmbeddingsCallOptions): Promise<EmbeddingsCallResult> {
    return callEmbeddings(this.ctx, this.handle, request, options);
  }

  /** A guarded tool call. */
  callTool<A, R>(options: ToolCallOptions<A, R>): Promise<ToolCallResult<R>> {
    return callTool(this.ctx, this.handle, options);
  }

  /**
   * Check the tool calls a model proposed (policy and repeated calls) before they reach the agent.
   * Returns the offending calls; an empty list means all may pass.
   */
  checkToolCalls(calls: readonly ChatToolCall[], conversation: readonly ChatMessage[] = []): ToolCallViolation[] {
    return checkProposedToolCalls(this.ctx, this.handle, calls, conversation);
  }

  /** Refuse with `error` after the fact (a response withheld): reported, and the run stopped if terminal. */
  async refuse(error: GuardError, resource = ''): Promise<GuardError> {
    const final = await afterRefusal(this.ctx, this.handle, error);
    if (this.ctx.listening) {
      this.ctx.emit({
        type: 'call.refused',
        at: this.ctx.clock.now(),
        runId: this.id,
        agent: this.agent,
        tenant: this.tenant,
        keyId: this.handle.keyId,
        action: 'callTool',
        resource: String(error.details.tool ?? resource),
        code: final.code,
        message: final.message,
        details: final.details,
      });
    }
    return final;
  }

  /** Start a sub-run (depth + 1); its usage counts against this run and every ancestor too. */
  async subRun(options: { agent?: string; id?: string } = {}): Promise<Run> {
    return new Run(this.ctx, await this.ctx.startRun({ agent: options.agent ?? this.agent, id: options.id, parentId: this.id }));
  }

  /** Stop the run now: work in flight is aborted and later calls are refused with `kill.switch`. */
  async stop(reason = 'stopped by its owner'): Promise<void> {
    await this.ctx.stopRun(this.handle, guardError('kill.switch', reason, { scope: `run:${this.id}`, runId: this.id }));
  }

  /** End the run normally; later calls are refused. */
  end(): Promise<void> {
    return this.ctx.endRun(this.handle);
  }

  /** What the run has used so far, sub-runs included. */
  usage(): Promise<RunUsage> {
    return readRunUsage(this.ctx.store, this.id, this.ctx.clock.now());
  }
}

/** A run's usage straight from the ledger, by id (the admin API reads it without attaching to the run). */
export async function readRunUsage(store: Store, id: string, now: number): Promise<RunUsage> {
  const key = accounts.run(id);
  const dims = [DIM.steps, DIM.toolCalls, DIM.inputTokens, DIM.outputTokens, DIM.totalTokens, DIM.cost];
  const b = await store.ledger.balances(
    dims.map((dim) => ({ key, dim })),
    now,
  );
  return {
    steps: b[0]!.used,
    toolCalls: b[1]!.used,
    inputTokens: b[2]!.used,
    outputTokens: b[3]!.used,
    totalTokens: b[4]!.used,
    costUsd: nanoToUsd(b[5]!.used),
    reservedCostUsd: nanoToUsd(b[5]!.reserved),
  };
}
