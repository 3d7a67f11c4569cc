import type { ChatChunk, ChatResponse } from '../core/chat.ts';
import { eventToChunk } from '../core/wire/responses-events.ts';
import { responseToChat } from '../core/wire/responses-output.ts';
import type { ModelProvider, ProviderCallOptions } from '../providers/provider.ts';
import type { Passthrough, Prepared } from './model-types.ts';
import { upstreamRequest } from './upstream.ts';

/**
 * The upstream half of a call whose request arrived in another API's shape. Every decision is made
 * on the chat view (`Prepared.request`); when the serving provider speaks the original API itself
 * (`ModelProvider.responses`), the original body goes upstream instead (with the serving model, the
 * clamped output cap, and `store: false`: fmguard keeps nothing and lets the upstream keep nothing),
 * and the answer comes back with `native` set to the upstream's own object or events. Otherwise (a
 * chat-only provider, or a fallback that is one) the chat view is sent as for any call.
 */
export type { Passthrough };

function responsesBody(prepared: Prepared, body: Record<string, unknown>, streaming: boolean): Record<string, unknown> {
  const { model, maxTokens } = prepared;
  return { ...body, model: model.upstreamModel ?? model.name, max_output_tokens: maxTokens, stream: streaming, store: false };
}

export function completeUpstream(
  provider: ModelProvider,
  prepared: Prepared,
  passthrough: Passthrough | undefined,
  opts: ProviderCallOptions,
): Promise<ChatResponse> {
  if (passthrough && provider.responses) return provider.responses.create(responsesBody(prepared, passthrough.body, false), opts).then(responseToChat);
  return provider.complete(upstreamRequest(prepared, false), opts);
}

export function streamUpstream(
  provider: ModelProvider,
  prepared: Prepared,
  passthrough: Passthrough | undefined,
  opts: ProviderCallOptions,
): AsyncIterable<ChatChunk> {
  if (passthrough && provider.responses) return viewed(provider.responses.stream(responsesBody(prepared, passthrough.body, true), opts));
  return provider.stream(upstreamRequest(prepared, true), opts);
}

async function* viewed(events: AsyncIterable<Record<string, unknown>>): AsyncGenerator<ChatChunk> {
  for await (const event of events) yield eventToChunk(event);
}
