import type { IncomingMessage, ServerResponse } from 'node:http';
import { guardError } from '../core/errors.ts';
import type { Run } from '../runtime/run.ts';
import { bearerToken, singleHeader } from '../http/auth.ts';
import { ClientLink } from './client-link.ts';
import { completeChat } from './complete-chat.ts';
import type { GatewayContext } from './context.ts';
import { sendFailure, toFailure } from '../http/error-response.ts';
import { readBody } from '../http/read-body.ts';
import { readCounters, runHeaders } from './run-headers.ts';
import { streamChat } from './stream-chat.ts';
import { validateChatRequest } from './validate-chat.ts';

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw guardError('request.invalid', 'the request body is not valid JSON');
  }
}

/**
 * `POST /v1/chat/completions`. Order: the key (before a byte of the body is read), the body
 * (size limit, JSON, shape, known model: no run is created for bad input), the run, then the
 * guarded call. Refusals before the run is known are thrown to the router; after, they are
 * answered here with the run's id and counters.
 */
export async function handleChatCompletions(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const key = bearerToken(req.headers.authorization);
  ctx.guard.principal(key);
  const request = validateChatRequest(parseJson(await readBody(req, ctx.maxBodyBytes)), ctx.hasModel);
  const runId = singleHeader(req.headers['x-fmguard-run']);
  const run = await ctx.guard.startRun({ key, id: runId, parentId: singleHeader(req.headers['x-fmguard-parent-run']) });
  const fresh = runId === undefined;
  const client = new ClientLink(res);
  // No cheap per-call cancel exists (see ClientLink). A run of its own is this one call, so when its
  // client leaves it is stopped, which aborts the upstream at once. A named run lives on: its
  // streams stop at the next chunk, its other calls finish within their timeouts (and are paid).
  if (fresh) client.onGone = () => void run.stop('the client closed the connection').catch(() => {});
  try {
    if (request.stream === true) await streamChat(ctx, res, run, request, fresh, client);
    else await completeChat(ctx, res, run, request, fresh, client);
  } catch (error) {
    if (!client.gone) await answerFailure(ctx, res, run, error);
  } finally {
    // A run of its own ends with its call; off the response's path (the response is already out).
    if (fresh) run.end().catch((error: unknown) => ctx.report(error, { method: 'POST', path: '/v1/chat/completions', runId: run.id }));
  }
}

async function answerFailure(ctx: GatewayContext, res: ServerResponse, run: Run, error: unknown): Promise<void> {
  const failure = toFailure(error);
  if (failure.internal) ctx.report(error, { method: 'POST', path: '/v1/chat/completions', runId: run.id });
  if (res.headersSent) {
    // Only reachable if a stream failed outside its own handler: close rather than corrupt it.
    res.destroy();
    return;
  }
  sendFailure(res, failure, runHeaders(run.id, await readCounters(run)));
}
