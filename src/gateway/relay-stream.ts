import type { ChatChunk, ChatRequest } from '../core/chat.ts';
import type { GuardError } from '../core/errors.ts';
import { toFailure } from '../http/error-response.ts';
import { drained, SSE_HEADERS, SseWriter } from '../http/sse.ts';
import type { GuardedStream, ModelCallOptions, ModelStreamResult } from '../runtime/model-types.ts';
import type { RouteCall } from './model-route.ts';
import { readCounters, type RunCounters, runHeaders } from './run-headers.ts';
import { StreamToolCalls } from './stream-tool-calls.ts';
import { toolCallCheck } from './tool-calls.ts';

/** How one API writes a guarded stream: whole SSE frames, as text. */
export interface StreamEncoder {
  /** Frames right after the headers, before the first chunk. */
  start(): string;
  /** Frames for one chunk that passed the tool-call gate ('' for none). */
  chunk(chunk: ChatChunk): string;
  /** The stream ended: the closing frames (`result` is what fmguard settled, when it did). */
  end(result: ModelStreamResult | undefined): string;
  /** The stream stopped: the frames that say why. */
  fail(error: GuardError): string;
}

/** Holds back proposed tool calls until they are complete and checked (StreamToolCalls is one). */
export interface ToolGate {
  involves(chunk: ChatChunk): boolean;
  /** The chunks to write now for this one; throws the refusal in `refuse` mode. */
  take(chunk: ChatChunk): Promise<ChatChunk[]>;
  /** At the end of the stream: whatever is still held, checked. */
  flush(): Promise<ChatChunk[]>;
}

export interface StreamPlan {
  encoder: StreamEncoder;
  /** Undefined: nothing to hold back (the runtime has no tool-call check). */
  gate: ToolGate | undefined;
}

/** The chat-level gate every translated route shares, or none when the runtime has no check. */
export function chatGate(call: RouteCall<unknown>, request: ChatRequest): ToolGate | undefined {
  const check = toolCallCheck(call.run, request.messages);
  return check ? new StreamToolCalls(check, call.ctx.toolCallViolation) : undefined;
}

/** A named SSE event (the Responses and Messages APIs name each event after its `type`). */
export function namedEvents(events: ReadonlyArray<{ type: string; [field: string]: unknown }>): string {
  let out = '';
  for (const event of events) out += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return out;
}

/**
 * A streamed model call as SSE, for any API. Until the first chunk everything is an ordinary HTTP
 * error (the runtime resolves `streamModel` only then). After it, a stop (timeout, kill,
 * over-reservation, a refused tool call) is written by the encoder as the API's error event, then
 * the response ends, so no client mistakes a cut stream for a complete one. A client that leaves
 * makes the loop stop reading at the next chunk: returning the guarded stream's iterator aborts the
 * upstream and settles what flowed (a run of its own is stopped at once, see model-route.ts).
 *
 * Run counters go out with the headers, so for streams they are as of the first chunk: steps
 * include this call, cost is what the run had settled before it. `x-fmguard-served-by` goes out
 * with them too: a fallback (breaker or catcher) is only ever chosen before the first chunk
 * (runtime/stream-model.ts), so the headers always name the model that serves the stream.
 */
export async function relayStream(
  call: RouteCall<unknown>,
  request: ChatRequest,
  options: ModelCallOptions,
  plan: (stream: GuardedStream) => StreamPlan,
): Promise<void> {
  const { res, run, client } = call;
  const before = call.fresh ? undefined : readCounters(run);
  const stream = await run.streamModel(request, options);
  let counters: RunCounters | undefined = { steps: 1, costUsd: 0 };
  if (before) {
    const c = await before;
    counters = c && { steps: c.steps + 1, costUsd: c.costUsd };
  }
  if (!client.gone) res.writeHead(200, { ...SSE_HEADERS, ...runHeaders(run.id, counters, stream.servedBy) });
  await pump(call, stream, plan(stream));
}

async function pump(call: RouteCall<unknown>, stream: GuardedStream, { encoder, gate }: StreamPlan): Promise<void> {
  const { res, run, client, ctx } = call;
  // A refused tool call: nothing more is forwarded, but the stream is read to its end (only the
  // finish and usage chunks are left) so the call settles on the upstream's own usage.
  let refused: unknown;
  const out = new SseWriter(res);
  const send = async (frames: string) => {
    if (frames.length > 0 && !out.frame(frames)) await drained(res, run.signal);
  };
  try {
    await send(encoder.start());
    for await (const chunk of stream) {
      if (client.gone) break;
      if (refused !== undefined) continue;
      if (gate === undefined || !gate.involves(chunk)) {
        await send(encoder.chunk(chunk));
        continue;
      }
      try {
        for (const released of await gate.take(chunk)) await send(encoder.chunk(released));
      } catch (error) {
        refused = error;
      }
    }
    if (client.gone) return;
    if (refused !== undefined) throw refused;
    if (gate) for (const released of await gate.flush()) await send(encoder.chunk(released));
    const result = await stream.result.catch(() => undefined);
    res.end(encoder.end(result));
  } catch (error) {
    if (client.gone) return;
    // A refusal that also stopped the run surfaces as the stop while draining: report the refusal.
    const failure = toFailure(refused ?? error);
    if (failure.internal) ctx.report(error, { method: 'POST', path: call.path, runId: run.id });
    res.end(encoder.fail(failure.error));
  }
}
