import type { ServerResponse } from 'node:http';
import type { ChatChunk, ChatRequest } from '../core/chat.ts';
import type { GuardedStream } from '../runtime/model-types.ts';
import type { Run } from '../runtime/run.ts';
import type { ClientLink } from './client-link.ts';
import type { GatewayContext } from './context.ts';
import { errorJson, toFailure } from '../http/error-response.ts';
import { readCounters, runHeaders, type RunCounters } from './run-headers.ts';
import { DONE_EVENT, drained, SSE_HEADERS, SseWriter } from '../http/sse.ts';
import { StreamToolCalls } from './stream-tool-calls.ts';
import { toolCallCheck } from './tool-calls.ts';

/**
 * A streamed completion as SSE. Until the first chunk everything is an ordinary HTTP error (the
 * runtime resolves `streamModel` only then). After it, a stop (timeout, kill, over-reservation,
 * a refused tool call) is ONE `data: {"error":…}` event, then the response ends; no `[DONE]`, so
 * no client mistakes a cut stream for a complete one. A client that leaves makes the loop stop
 * reading at the next chunk: returning the guarded stream's iterator aborts the upstream and settles
 * what flowed (an upstream stalled meanwhile generates nothing and is cut by its idle timeout; a run
 * of its own is stopped at once, see chat-completions.ts).
 *
 * Run counters go out with the headers, so for streams they are as of the first chunk: steps
 * include this call, cost is what the run had settled before it (this call's usage is in the
 * usage chunk when the client asks for it).
 */
export async function streamChat(ctx: GatewayContext, res: ServerResponse, run: Run, request: ChatRequest, fresh: boolean, client: ClientLink): Promise<void> {
  const before = fresh ? undefined : readCounters(run);
  const stream = await run.streamModel(request);
  let counters: RunCounters | undefined = { steps: 1, costUsd: 0 };
  if (before) {
    const c = await before;
    counters = c && { steps: c.steps + 1, costUsd: c.costUsd };
  }
  if (!client.gone) res.writeHead(200, { ...SSE_HEADERS, ...runHeaders(run.id, counters) });
  await pump(ctx, res, run, stream, request, client);
}

async function pump(ctx: GatewayContext, res: ServerResponse, run: Run, stream: GuardedStream, request: ChatRequest, client: ClientLink): Promise<void> {
  const includeUsage = request.stream_options?.include_usage === true;
  const check = toolCallCheck(run, request.messages);
  const calls = check ? new StreamToolCalls(check, ctx.toolCallViolation) : undefined;
  // A refused tool call: nothing more is forwarded, but the stream is read to its end (only the
  // finish and usage chunks are left) so the call settles on the upstream's own usage.
  let refused: unknown;
  const out = new SseWriter(res);
  const send = async (chunk: ChatChunk) => {
    if (!out.write(JSON.stringify(chunk))) await drained(res, run.signal);
  };
  try {
    for await (const chunk of stream) {
      if (client.gone) break;
      if (refused !== undefined) continue;
      if (chunk.usage && !includeUsage && chunk.choices.length === 0) continue;
      if (calls === undefined || !calls.involves(chunk)) {
        await send(chunk);
        continue;
      }
      try {
        for (const released of await calls.take(chunk)) await send(released);
      } catch (error) {
        refused = error;
      }
    }
    if (client.gone) return;
    if (refused !== undefined) throw refused;
    if (calls) for (const released of await calls.flush()) await send(released);
    res.end(DONE_EVENT);
  } catch (error) {
    if (client.gone) return;
    // A refusal that also stopped the run surfaces as the stop while draining: report the refusal.
    const failure = toFailure(refused ?? error);
    if (failure.internal) ctx.report(error, { method: 'POST', path: '/v1/chat/completions', runId: run.id });
    res.end(`data: ${errorJson(failure.error)}\n\n`);
  }
}
