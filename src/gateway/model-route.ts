import type { IncomingMessage, ServerResponse } from 'node:http';
import { singleHeader } from '../http/auth.ts';
import { type HttpFailure, toFailure } from '../http/error-response.ts';
import { parseJsonBody } from '../http/json-body.ts';
import { readBody } from '../http/read-body.ts';
import type { Run } from '../runtime/run.ts';
import { noteAccess } from './access-log.ts';
import { ClientLink } from './client-link.ts';
import type { GatewayContext } from './context.ts';
import { readCounters, type RunCounters, runHeaders } from './run-headers.ts';

/**
 * What every model route shares (chat completions, responses, messages, embeddings): one flow, so
 * identity, runs, refusals and their headers cannot differ between them. A route only says how its
 * API names the key, how its body reads as the runtime's request, how it answers, and how its
 * errors look on the wire.
 */
export interface ModelRoute<P extends { stream: boolean }> {
  readonly path: string;
  /** The agent's key from the request headers. */
  key(req: IncomingMessage): string | undefined;
  /** The parsed body, checked (`request.invalid` naming the field); no run exists yet. */
  parse(body: unknown, hasModel: (name: string) => boolean): P;
  /** The guarded call and its answer; throws a refusal (answered by `sendFailure` with the run's headers). */
  answer(call: RouteCall<P>): Promise<void>;
  /** An error response in the API's own shape, with fmguard's status, code and headers. */
  sendFailure(res: ServerResponse, failure: HttpFailure, headers?: Record<string, string>): void;
}

/** One admitted request: its run and the client it answers. */
export interface RouteCall<P> {
  ctx: GatewayContext;
  res: ServerResponse;
  run: Run;
  request: P;
  /** The run is this call's own (no `x-fmguard-run`): it ends with the call. */
  fresh: boolean;
  client: ClientLink;
  path: string;
}

/** The body as JSON, its depth bounded before it is parsed (size is bounded by the reader). */
export function parseJson(raw: Buffer): unknown {
  return parseJsonBody(raw);
}

/**
 * Order: the key (before a byte of the body is read), the body (size limit, JSON, shape, known
 * model: no run is created for bad input), the run, then the guarded call. Refusals before the run
 * exists are answered without run headers; after, with the run's id and counters.
 */
export async function serveModelRoute<P extends { stream: boolean }>(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  route: ModelRoute<P>,
): Promise<void> {
  let run: Run;
  let request: P;
  try {
    const key = route.key(req);
    const { agent } = ctx.guard.principal(key);
    noteAccess({ agent: agent.name, tenant: agent.tenant });
    request = route.parse(parseJson(await readBody(req, ctx.maxBodyBytes)), ctx.hasModel);
    const runId = singleHeader(req.headers['x-fmguard-run']);
    // A run of its own (no header) stays in this process unless it is stopped: runtime/local-ledger.ts.
    run = await ctx.guard.startRun({ key, id: runId, parentId: singleHeader(req.headers['x-fmguard-parent-run']), local: runId === undefined });
  } catch (error) {
    const failure = toFailure(error);
    if (failure.internal) ctx.report(error, { method: 'POST', path: route.path });
    route.sendFailure(res, failure);
    return;
  }
  const fresh = singleHeader(req.headers['x-fmguard-run']) === undefined;
  const client = new ClientLink(res);
  // No cheap per-call cancel exists (see ClientLink). A run of its own is this one call, so when its
  // client leaves it is stopped, which aborts the upstream at once. A named run lives on: its
  // streams stop at the next chunk, its other calls finish within their timeouts (and are paid).
  if (fresh) client.onGone = () => void run.stop('the client closed the connection').catch(() => {});
  try {
    await route.answer({ ctx, res, run, request, fresh, client, path: route.path });
  } catch (error) {
    if (!client.gone) await answerFailure(ctx, res, run, error, route);
  } finally {
    // A run of its own ends with its call; off the response's path (the response is already out).
    if (fresh) ctx.track(run.end().catch((error: unknown) => ctx.report(error, { method: 'POST', path: route.path, runId: run.id })));
  }
}

async function answerFailure<P extends { stream: boolean }>(
  ctx: GatewayContext,
  res: ServerResponse,
  run: Run,
  error: unknown,
  route: ModelRoute<P>,
): Promise<void> {
  const failure = toFailure(error);
  if (failure.internal) ctx.report(error, { method: 'POST', path: route.path, runId: run.id });
  if (res.headersSent) {
    // Only reachable if a stream failed outside its own handler: close rather than corrupt it.
    res.destroy();
    return;
  }
  route.sendFailure(res, failure, runHeaders(run.id, await readCounters(run)));
}

/**
 * The run's counters after a call: from the call's own result for a run of its own, from the
 * ledger for a named run (sub-runs and other replicas included).
 */
export async function countersAfter(call: RouteCall<unknown>, costUsd: number): Promise<RunCounters | undefined> {
  return call.fresh ? { steps: 1, costUsd } : readCounters(call.run);
}

/** A JSON answer with the run's headers (and `x-fmguard-served-by` when a fallback served it). */
export function sendResult(res: ServerResponse, body: unknown, runId: string, counters: RunCounters | undefined, servedBy?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...runHeaders(runId, counters, servedBy) });
  res.end(text);
}
