import { ProviderError, type ChatChunk, type ChatRequest, type ChatResponse, type ModelProvider, type ProviderCallOptions } from '../../index.ts';

/**
 * How one framework call is made: the adapter that started it knows how to call its framework's model
 * with the request as the runtime sends it upstream (the output cap clamped to what the budgets can pay
 * for, the call's abort signal) and how to translate the answer to the chat shape the runtime meters.
 */
export interface FrameworkCall {
  complete?(request: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
  stream?(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatChunk>;
  /** Set once the runtime handed the call to a framework provider (a misconfiguration check). */
  served?: boolean;
}

/**
 * The call rides on the request under a symbol: the runtime copies a request's own properties into the
 * upstream request (symbols included) and never serialises it, so the call reaches the provider without
 * touching the token estimate or what the policy sees.
 */
const CALL = Symbol.for('fmguard.frameworkCall');

/** `request` carrying `call` to the framework provider. */
export function withFrameworkCall(request: ChatRequest, call: FrameworkCall): ChatRequest {
  (request as ChatRequest & { [CALL]?: FrameworkCall })[CALL] = call;
  return request;
}

function callOf(request: ChatRequest): FrameworkCall | undefined {
  return (request as ChatRequest & { [CALL]?: FrameworkCall })[CALL];
}

function notAFrameworkCall(name: string): ProviderError {
  return new ProviderError(
    `provider "${name}" serves only calls made through an fmguard framework adapter (fmguard/ai-sdk, fmguard/openai-agents, fmguard/langchain)`,
    { status: 400 },
  );
}

/**
 * The model provider behind a framework adapter. Give it to `createGuard({ providers: { <name>:
 * frameworkProvider() } })` under the provider name the config's models use; every call the adapter
 * makes then runs the runtime's full decision order (admission, reservation, timeouts, retries, stream
 * cuts, settlement) around the framework's own model call.
 */
export function frameworkProvider(name = 'framework'): ModelProvider {
  return {
    name,
    complete(request: ChatRequest, { signal }: ProviderCallOptions): Promise<ChatResponse> {
      const call = callOf(request);
      if (!call?.complete) return Promise.reject(notAFrameworkCall(name));
      call.served = true;
      return call.complete(request, signal);
    },
    stream(request: ChatRequest, { signal }: ProviderCallOptions): AsyncIterable<ChatChunk> {
      const call = callOf(request);
      if (!call?.stream) throw notAFrameworkCall(name);
      call.served = true;
      return call.stream(request, signal);
    },
  };
}

/** Thrown when a call the adapter made was answered by some other provider (the config's placeholder). */
export function assertServed(call: FrameworkCall, model: string): void {
  if (call.served) return;
  throw new TypeError(
    `model "${model}" was not served through the framework: give its provider to createGuard as frameworkProvider() (createGuard({ config, providers: { <provider>: frameworkProvider() } }))`,
  );
}

/** The output cap the runtime sent upstream (clamped to what the budgets can pay for). */
export function upstreamMaxTokens(request: ChatRequest): number | undefined {
  return request.max_completion_tokens ?? request.max_tokens;
}

/**
 * Close a guarded stream the adapter will not read. It is read once first: the runtime's stream does
 * its accounting in a generator, and a generator closed before its first step never runs it (the
 * upstream would stay open and the reservation held until it expires).
 */
export async function closeUnread(iterator: AsyncIterator<unknown>, started: boolean): Promise<void> {
  if (!started) await iterator.next().catch(() => undefined);
  await iterator.return?.().catch(() => undefined);
}
