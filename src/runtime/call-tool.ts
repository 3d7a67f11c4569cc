import { fingerprint } from '../core/canonical-json.ts';
import { GuardError, guardError } from '../core/errors.ts';
import type { Charge } from '../store/store.ts';
import { failClosed } from './fail-closed.ts';
import { toolCallKey } from '../core/loop-detect.ts';
import { admitCall, afterRefusal } from './admission.ts';
import { toolActuals, toolCharges } from './charges.ts';
import { releasedOnFailure } from './local-ledger.ts';
import { slotsFor } from './model-admission.ts';
import type { GuardContext } from './context.ts';
import { codeOf, toGuardError } from './upstream.ts';
import { ledgerRefusal } from './outcomes.ts';
import { withRetries } from './retry-loop.ts';
import { markRefused, withCatchers, type CaughtFailure } from './catch-chain.ts';
import { toolCatchers } from '../config/resolve.ts';
import type { RunHandle } from './run-handle.ts';
import { runToolInWorker } from './worker-tool.ts';
import { linkSignals } from './signals.ts';
import { requireApproval } from '../approvals/index.ts';
import { breakerOpenError } from '../breakers/index.ts';
import { countsAgainstUpstream, faultOf } from '../core/fault.ts';

export interface ToolCallOptions<A, R> {
  /** The tool's full name, e.g. `demo.search` (policies match on it). */
  tool: string;
  args: A;
  /** The tool itself; it must stop its work when `signal` aborts. `tool` is the tool being served (a catcher's `next` when one took over). */
  execute?: (args: A, context: { signal: AbortSignal; tool: string }) => Promise<R> | R;
  /**
   * Executors of the fallback tools a catcher may route to (`toolServers.<s>.tools.<t>.catch`), by
   * `server.tool`; without one, the fallback runs through `execute` (or `worker`) with `context.tool` set to it.
   */
  fallbacks?: Record<string, (args: A, context: { signal: AbortSignal; tool: string }) => Promise<R> | R>;
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
  /** The fallback tool that served the call when a catcher took over. */
  servedBy?: string;
  /** The failures a catcher caught on the way, in order. */
  caught?: CaughtFailure[];
}

/** A tool call that passed the decision steps: what it holds until it is settled. */
interface AdmittedTool {
  tool: string;
  startedAt: number;
  reservationId: string;
  charges: Charge[];
  breakerScope: string;
  /** The breaker admission, when breakers are on. */
  breakerToken: unknown;
}

/**
 * A guarded tool call, in the decision order (ARCHITECTURE.md) (the same as a model call's, with the
 * tool's own limits):
 *   2–8  admitToolCall: kill switches, policy (`callTool` on the tool, with its arguments), the tool
 *        server's breaker, tool-call limits and the repeated-call detector (reserved), the approval gate
 *   9    the tool under its timeout (the signal aborts it; a worker is terminated), retried per policy
 *   10   settle, breakers, events, and the consecutive-error detector
 */
export async function callTool<A, R>(ctx: GuardContext, handle: RunHandle, options: ToolCallOptions<A, R>): Promise<ToolCallResult<R>> {
  // Catch (`toolServers.<s>.tools.<t>.catch`): after the retriers, a catchable failure re-enters with the catcher's `next` tool.
  if (typeof options?.tool !== 'string' || toolCatchers(ctx.config, options.tool).length === 0) return callToolOnce(ctx, handle, options);
  const { value, servedBy, caught } = await withCatchers({
    first: options.tool,
    catchersOf: (name) => toolCatchers(ctx.config, name),
    call: (name) => {
      if (name === options.tool) return callToolOnce(ctx, handle, options);
      const own = options.fallbacks?.[name];
      return callToolOnce(ctx, handle, { ...options, tool: name, ...(own ? { execute: own, worker: undefined } : {}) });
    },
    signals: [handle.signal, options.signal],
  });
  return caught.length === 0 ? value : { ...value, servedBy, caught };
}

async function callToolOnce<A, R>(ctx: GuardContext, handle: RunHandle, options: ToolCallOptions<A, R>): Promise<ToolCallResult<R>> {
  const call = await admitToolCall(ctx, handle, options).catch((error: unknown) => {
    throw markRefused(error);
  });
  const { signal, dispose } = linkSignals(handle.signal, options.signal);
  let attempts = 0;
  handle.active++;
  try {
    const result = await withRetries<R>({
      // Tools are not retried with the agent's (model) retriers: only a tool marked idempotent with a retry of its own is.
      policy: ctx.toolRetryPolicy(call.tool),
      budget: ctx.retryBudget,
      scope: `tool:${call.tool}`,
      clock: ctx.clock,
      signal,
      codeOf,
      attempt: (n, attemptSignal) => {
        attempts = n;
        return runToolOnce(ctx, handle, options, attemptSignal);
      },
    });
    const latencyMs = await settleTool(ctx, handle, call, { ok: true, attempts, args: options.args });
    return { result, attempts, latencyMs };
  } catch (error) {
    const guard = toGuardError(error, call.tool);
    await settleTool(ctx, handle, call, { ok: false, error: guard, attempts, args: options.args });
    throw await afterToolFailure(ctx, handle, call.tool, guard);
  } finally {
    dispose();
    handle.active--;
  }
}

function toolSubject(handle: RunHandle, tool: string) {
  return { runId: handle.id, agent: handle.agent.name, tenant: handle.record.tenant, keyId: handle.keyId, action: 'callTool' as const, resource: tool };
}

/** Steps 2–8 for a tool call. A refusal gives back what was taken, is reported, and is thrown. */
async function admitToolCall<A, R>(ctx: GuardContext, handle: RunHandle, options: ToolCallOptions<A, R>): Promise<AdmittedTool> {
  const { tool, args } = options;
  const call: AdmittedTool = {
    tool,
    startedAt: ctx.clock.now(),
    reservationId: ctx.newId('res'),
    charges: [],
    // A call without a tool name is refused below (`request.invalid`), before any breaker is asked.
    breakerScope: typeof tool === 'string' ? toolBreakerScope(tool) : '',
    breakerToken: undefined,
  };
  try {
    if (typeof tool !== 'string' || tool.length === 0) throw guardError('request.invalid', 'a tool call needs a tool name', { param: 'tool' });
    if (!options.execute === !options.worker) throw guardError('request.invalid', 'a tool call needs exactly one of execute or worker', { param: 'execute' });
    const decision = admitCall(ctx, handle, 'callTool', tool, () => toolPolicyContext(handle, args, call.startedAt)); // 2 kill switches, 3 policy, 4 run time
    call.breakerToken = await admitToolBreaker(ctx, call.breakerScope); // 6 the tool server's breaker
    call.charges = await reserveToolCall(ctx, handle, call, args); // 4 tool-call limits, loop detection; 8 reserve
    if (decision?.effect === 'approval') await approveToolCall(ctx, handle, call, options); // the approval gate, after the limits
    return call;
  } catch (error) {
    if (call.breakerToken !== undefined) await ctx.breakers!.release(call.breakerScope, call.breakerToken as never);
    const guard = await afterRefusal(ctx, handle, failClosed(error));
    if (ctx.listening) {
      ctx.emit({
        ...toolSubject(handle, tool),
        type: 'call.refused',
        at: ctx.clock.now(),
        code: guard.code,
        message: guard.message,
        details: guard.details,
        args,
      });
    }
    throw guard;
  }
}

/** What a tool-call policy may test (the Cedar context): the arguments and the run's counters. */
function toolPolicyContext(handle: RunHandle, args: unknown, now: number): Record<string, unknown> {
  return {
    input: args,
    runSteps: handle.localSteps,
    runCostNanoUsd: handle.localCostNano,
    runDepth: handle.record.depth,
    hourUtc: new Date(now).getUTCHours(),
  };
}

/** The tool server's breaker: an open one refuses at once, without touching the tool. */
async function admitToolBreaker(ctx: GuardContext, scope: string): Promise<unknown> {
  if (!ctx.breakers) return undefined;
  const admission = await ctx.breakers.admit(scope);
  if (!admission.ok) throw breakerOpenError(scope, admission);
  return admission.token;
}

/** Reserve the call against the run's (and every ancestor's) tool-call limits and the identical-call counter. */
async function reserveToolCall(ctx: GuardContext, handle: RunHandle, call: AdmittedTool, args: unknown): Promise<Charge[]> {
  const charges = toolCharges({
    chain: handle.chain,
    tool: call.tool,
    callFingerprint: fingerprint(toolCallKey(call.tool, args)),
    slots: slotsFor(ctx, handle),
  });
  const reserved = await releasedOnFailure(handle.ledger, call.reservationId, () =>
    handle.ledger.reserve({ id: call.reservationId, charges, expiresAt: call.startedAt + ctx.config.defaults.reservationTtlMs, now: call.startedAt }),
  );
  if (!reserved.ok) {
    throw ledgerRefusal({ ...reserved.refusal, settled: reserved.refusal.used }, handle);
  }
  return charges;
}

/** The approval gate: a call refused for approval is not counted (its reservation is released). */
async function approveToolCall<A, R>(ctx: GuardContext, handle: RunHandle, call: AdmittedTool, options: ToolCallOptions<A, R>): Promise<void> {
  try {
    await requireApproval({
      store: ctx.approvals,
      run: handle.id,
      agent: handle.agent.name,
      tenant: handle.record.tenant,
      tool: call.tool,
      args: options.args,
      ttlMs: handle.agent.approvals.ttlMs,
      waitMs: options.approvalWaitMs ?? handle.agent.approvals.waitMs,
      clock: ctx.clock,
      signal: handle.signal,
      audit: ctx.audit,
    });
  } catch (error) {
    await handle.ledger.release(call.reservationId);
    throw error;
  }
}

/** One attempt: in a worker terminated at the timeout, or in process with a signal that aborts at it. */
async function runToolOnce<A, R>(ctx: GuardContext, handle: RunHandle, options: ToolCallOptions<A, R>, signal: AbortSignal): Promise<R> {
  const timeoutMs = options.timeoutMs ?? handle.agent.timeouts.tool.totalMs;
  if (options.worker) {
    const { module, export: exportName = 'default' } = options.worker;
    return (await runToolInWorker({ modulePath: module, exportName, args: options.args, timeoutMs, signal })) as R;
  }
  return runWithTimeout(ctx, timeoutMs, signal, (s) => options.execute!(options.args, { signal: s, tool: options.tool }));
}

type ToolOutcome = { ok: true; attempts: number; args: unknown } | { ok: false; error: GuardError; attempts: number; args: unknown };

/** Step 10: the call counts as made either way; the breaker hears upstream failures; the outcome is reported. Returns the latency. */
async function settleTool(ctx: GuardContext, handle: RunHandle, call: AdmittedTool, outcome: ToolOutcome): Promise<number> {
  const now = ctx.clock.now();
  const latencyMs = now - call.startedAt;
  await handle.ledger.settle({ id: call.reservationId, actual: toolActuals(call.charges), now });
  if (call.breakerToken !== undefined) {
    const token = call.breakerToken as never;
    if (outcome.ok) await ctx.breakers!.record(call.breakerScope, token, true);
    else if (countsAgainstUpstream(outcome.error)) await ctx.breakers!.record(call.breakerScope, token, false);
    else await ctx.breakers!.release(call.breakerScope, token);
  }
  const subject = toolSubject(handle, call.tool);
  const { attempts, args } = outcome;
  if (outcome.ok) {
    await handle.ledger.trackRepeat(`run:${handle.id}:tool-outcome`, 'ok');
    if (ctx.listening)
      ctx.emit({ ...subject, type: 'call.allowed', at: now, usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, latencyMs, attempts, args });
  } else if (ctx.listening) {
    const { code, message } = outcome.error;
    const internal = faultOf(outcome.error) === 'internal' ? { internal: true as const } : {};
    const retryDenied = outcome.error.details.retryDenied === 'budget' ? ('budget' as const) : undefined;
    ctx.emit({ ...subject, type: 'call.failed', at: now, code, message, ...internal, costUsd: 0, latencyMs, attempts, args, retryDenied });
  }
  return latencyMs;
}

/** The consecutive-error detector: too many failed tool calls in a row stop the run with `loop.repeated_error`. */
async function afterToolFailure(ctx: GuardContext, handle: RunHandle, tool: string, guard: GuardError): Promise<GuardError> {
  if (handle.stopped && guard === handle.stopped) return guard;
  // The run's own streak counts its calls' failures (a client's repeated mistakes too), never fmguard's own.
  if (faultOf(guard) === 'internal') return guard;
  const failures = await handle.ledger.trackRepeat(`run:${handle.id}:tool-outcome`, 'error');
  const limit = handle.agent.limits.maxConsecutiveErrors;
  // `maxConsecutiveErrors: N` allows N failed tool calls in a row; the (N+1)th stops the run, as every limit does.
  if (failures <= limit) return guard;
  const stop = guardError(
    'loop.repeated_error',
    `${failures} tool calls failed in a row (last: ${tool}: ${guard.message})`,
    { limit, used: failures, tool, runId: handle.id },
    guard,
  );
  await ctx.stopRun(handle, stop);
  return stop;
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
