import type { ChatChunk, ChatRequest } from '../core/chat.ts';
import { errorJson } from '../http/error-response.ts';
import { DONE_EVENT } from '../http/sse.ts';
import type { RouteCall } from './model-route.ts';
import { chatGate, relayStream, type StreamEncoder } from './relay-stream.ts';

/**
 * A streamed chat completion: the upstream's chunks as `data:` events, then `[DONE]`. A stop after
 * the first chunk is ONE `data: {"error":…}` event and no `[DONE]` (relay-stream.ts has the rest).
 * The usage chunk goes out only when the client asked for it (`stream_options.include_usage`).
 */
export function streamChat(call: RouteCall<unknown>, request: ChatRequest): Promise<void> {
  return relayStream(call, request, {}, () => ({ encoder: chatEncoder(request), gate: chatGate(call, request) }));
}

function chatEncoder(request: ChatRequest): StreamEncoder {
  const includeUsage = request.stream_options?.include_usage === true;
  return {
    start: () => '',
    chunk: (chunk: ChatChunk) => (chunk.usage && !includeUsage && chunk.choices.length === 0 ? '' : `data: ${JSON.stringify(chunk)}\n\n`),
    end: () => DONE_EVENT,
    fail: (error) => `data: ${errorJson(error)}\n\n`,
  };
}
