import { fingerprint } from '../core/canonical-json.ts';
import { GuardError, guardError } from '../core/errors.ts';
import { toolCallKey } from '../core/loop-detect.ts';
import { admitCall, afterRefusal } from './admission.ts';
import { toolCharges } from './charges.ts';
import type { GuardContext } from './context.ts';
import { codeOf, toGuardError } from './model-call.ts';
import { refusal } from './outcomes.ts';
import { withRetries } from './retry-loop.ts';
import type { RunHandle } from './run-handle.ts';
import { runToolInWorker } from './worker-tool.ts';
import { linkSignals } from './signals.ts';
import { requireApproval } from '../approvals/index.ts';
import { breakerOpenError } from '../breakers/index.ts';
import { isUpstreamFailure } from '../core/codes.ts';

export interface ToolCallOptions<A, R> {
  /** The tool's full name, e.g. `demo.search` (policies match on it). */
  tool: string;
  args: A;
  /** The tool itself; it must stop its work when `signal` aborts. */
  execute?: (args: A, context: { signal: AbortSignal }) => Promise<R> | R;
  /**
   * Or: run an exported function of an ES module in a worker thread that is terminated at the
   * timeout, for tools that ignore abort signals (as Lambda stops a function at its limit).
   */
  worker?: { module: string | URL; export?: string };
  /** Overrides the agent's tool timeout. */
  timeoutMs?: number;
  /** Overrides how long to wait for a human approval when the policy requires one. */
  approvalWaitMs?: number;
  signal?: AbortSignal;
}

export interface ToolCallResult<R> {
  result: R;
  attempts: number;
  latencyMs: number;
}

/** A guarded tool call: kill switches, policy, call limits, loop detection, timeout, retries. */
export async function callTool<A, R>(ctx: GuardContext, handle: RunHandle, options: ToolCallOptions<A, R>): Promise<ToolCallResult<R>> {
  const { tool, args } = options;
  const subject = {
    runId: handle.id,
    agent: handle.agent.name,
    tenant: handle.record.tenant,
    keyId: handle.keyId,
    action: 'callTool' as const,
    resource: tool,
  };
  const startedAt = ctx.clock.now();
  const reservationId = ctx.newId('res');
  const breakerScope = toolBreakerScope(tool);
  let breakerToken: unknown;
  // biome-ignore lint/suspicious/noImplicitAnyLet: typed by control flow from its one assignment below
  let charges;
  try {
    if (typeof tool !== 'string' || tool.length === 0) throw guardError('request.invalid', 'a tool call needs a tool name', { param: 'tool' });
    if (!options.execute === !options.worker) throw guardError('request.invalid', 'a tool call needs exactly one of execute or worker', { param: 'execute' });
    const decision = admitCall(ctx, handle, 'callTool', tool, () => ({
      input: args,
      runSteps: handle.localSteps,
      runCostNanoUsd: handle.localCostNano,
      runDepth: handle.record.depth,
      hourUtc: new Date(startedAt).getUTCHours(),
    }));
    // The tool server's breaker: an open one refuses at once, without touching the tool.
    if (ctx.breakers) {
      const admission = await ctx.breakers.admit(breakerScope);
      if (!admission.ok) throw breakerOpenError(breakerScope, admission);
      breakerToken = admission.token;
    }
    charges = toolCharges({ chain: handle.chain, tool, callFingerprint: fingerprint(toolCallKey(tool, args)) });
    const reserved = await ctx.store.ledger.reserve({
      id: reservationId,
      charges,
      expiresAt: startedAt + ctx.config.defaults.reservationTtlMs,
      now: startedAt,
    });
    if (!reserved.ok) {
      const r = reserved.refusal;
      throw refusal(r.code, { limit: r.limit, used: r.used + r.reserved, requested: r.requested, key: r.key, dim: r.dim }, handle);
    }
    if (decision?.effect === 'approval') {
      // The approval gate comes after the limits: a call refused for approval is not counted.
      try {
        await requireApproval({
          store: ctx.approvals,
          run: handle.id,
          agent: handle.agent.name,
          tenant: handle.record.tenant,
          tool,
          args,
          ttlMs: handle.agent.approvals.ttlMs,
          waitMs: options.approvalWaitMs ?? handle.agent.approvals.waitMs,
          clock: ctx.clock,
          signal: handle.signal,
          audit: ctx.audit,
        });
      } catch (error) {
        await ctx.store.ledger.release(reservationId);
        throw error;
      }
    }
  } catch (error) {
    if (breakerToken !== undefined) await ctx.breakers!.release(breakerScope, breakerToken as never);
    const refusedWith = GuardError.isInstance(error)
      ? error
      : guardError('store.unavailable', `state could not be read: ${error instanceof Error ? error.message : String(error)}`, {}, error);
    const guard = await afterRefusal(ctx, handle, refusedWith);
    if (ctx.listening)
      ctx.emit({ ...subject, type: 'call.refused', at: ctx.clock.now(), code: guard.code, message: guard.message, details: guard.details, args });
    throw guard;
  }

  const timeoutMs = options.timeoutMs ?? handle.agent.timeouts.tool.totalMs;
  const { signal, dispose } = linkSignals(handle.signal, options.signal);
  let attempts = 0;
  handle.active++;
  try {
    const result = await withRetries<R>({
      policy: ctx.retryPolicy(handle.agent.name),
      budget: ctx.retryBudget,
      scope: `tool:${tool}`,
      clock: ctx.clock,
      signal,
      codeOf,
      attempt: async (n, attemptSignal) => {
        attempts = n;
        if (options.worker) {
          return (await runToolInWorker({
            modulePath: options.worker.module,
            exportName: options.worker.export ?? 'default',
            args,
            timeoutMs,
            signal: attemptSignal,
          })) as R;
        }
        return runWithTimeout(ctx, timeoutMs, attemptSignal, (s) => options.execute!(args, { signal: s }));
      },
    });
    const now = ctx.clock.now();
    await ctx.store.ledger.settle({ id: reservationId, actual: charges.map((c) => c.amount), now });
    if (breakerToken !== undefined) await ctx.breakers!.record(breakerScope, breakerToken as never, true);
    await ctx.store.ledger.trackRepeat(`run:${handle.id}:tool-outcome`, 'ok');
    if (ctx.listening)
      ctx.emit({
        ...subject,
        type: 'call.allowed',
        at: now,
        usage: { inputTokens: 0, outputTokens: 0 },
        costUsd: 0,
        latencyMs: now - startedAt,
        attempts,
        args,
      });
    return { result, attempts, latencyMs: now - startedAt };
  } catch (error) {
    const now = ctx.clock.now();
    const guard = toGuardError(error, tool);
    await ctx.store.ledger.settle({ id: reservationId, actual: charges.map((c) => c.amount), now });
    if (breakerToken !== undefined) {
      if (isUpstreamFailure(guard.code)) await ctx.breakers!.record(breakerScope, breakerToken as never, false);
      else await ctx.breakers!.release(breakerScope, breakerToken as never);
    }
    if (ctx.listening)
      ctx.emit({ ...subject, type: 'call.failed', at: now, code: guard.code, message: guard.message, costUsd: 0, latencyMs: now - startedAt, attempts, args });
    if (handle.stopped && guard === handle.stopped) throw guard;
    const failures = await ctx.store.ledger.trackRepeat(`run:${handle.id}:tool-outcome`, 'error');
    const limit = handle.agent.limits.maxConsecutiveErrors;
    if (failures >= limit) {
      const stop = guardError(
        'loop.repeated_error',
        `${failures} tool calls failed in a row (last: ${tool}: ${guard.message})`,
        { limit, used: failures, tool, runId: handle.id },
        guard,
      );
      await ctx.stopRun(handle, stop);
      throw stop;
    }
    throw guard;
  } finally {
    dispose();
    handle.active--;
  }
}

/** A tool's breaker: its server's (`server:demo` for `demo.search`), or the tool's own when it has no server. */
export function toolBreakerScope(tool: string): string {
  const dot = tool.indexOf('.');
  return dot > 0 ? `server:${tool.slice(0, dot)}` : `tool:${tool}`;
}

/** Run `work` with a signal that aborts at `timeoutMs` with `timeout.tool`; the work must honour it. */
async function runWithTimeout<R>(ctx: GuardContext, timeoutMs: number, parent: AbortSignal, work: (signal: AbortSignal) => Promise<R> | R): Promise<R> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  const timer = ctx.clock.setTimeout(
    () => controller.abort(guardError('timeout.tool', `tool call exceeded its timeout of ${timeoutMs} ms`, { limit: timeoutMs })),
    timeoutMs,
  );
  let onStop = () => {};
  const stopped = new Promise<never>((_, reject) => {
    onStop = () => reject(controller.signal.reason);
    controller.signal.addEventListener('abort', onStop, { once: true });
  });
  stopped.catch(() => {});
  try {
    // The race only decides what the caller sees; the abort is what stops the work.
    return await Promise.race([Promise.resolve().then(() => work(controller.signal)), stopped]);
  } catch (error) {
    throw controller.signal.aborted && !GuardError.isInstance(error) ? controller.signal.reason : error;
  } finally {
    ctx.clock.clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
    controller.signal.removeEventListener('abort', onStop);
  }
}
