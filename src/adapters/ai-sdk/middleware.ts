import type { LanguageModelMiddleware } from 'ai';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse, ChatToolCall, Run } from '../../index.ts';
import { assertServed, closeUnread, upstreamMaxTokens, withFrameworkCall, type FrameworkCall } from '../shared/framework-provider.ts';
import { refusalFor, type ProposedToolCalls } from '../shared/proposed-calls.ts';
import type { ToolNaming } from '../shared/tool-naming.ts';
import { toProviderError, toSdkError } from './errors.ts';
import { toChatMessages, toChatTools } from './prompt.ts';
import { partsOf, PartsToChunks, toChatResponse, toChatToolCall } from './result.ts';
import type { CallOptions, GenerateResult, StreamPart, StreamResult, WrappedModel } from './types.ts';

export interface GuardMiddlewareOptions extends ToolNaming {
  /** The fmguard model (config `models.<name>`) the calls are priced and authorised as; default: the wrapped model's id. */
  model?: string;
  /** What to do with tool calls the model proposes (see `ProposedToolCalls`); default `refuse`. */
  proposedToolCalls?: ProposedToolCalls;
}

/** The params the wrapped model is called with: the runtime's clamped output cap and its abort signal. */
function upstreamParams(params: CallOptions, request: ChatRequest, signal: AbortSignal): CallOptions {
  return { ...params, maxOutputTokens: upstreamMaxTokens(request) ?? params.maxOutputTokens, abortSignal: signal };
}

/** One `doGenerate`, as the runtime's provider sees it; the SDK's own result is kept for the caller. */
class GenerateCall implements FrameworkCall {
  served?: boolean;
  result: GenerateResult | undefined;

  constructor(
    private readonly model: WrappedModel,
    private readonly params: CallOptions,
    private readonly name: string,
    private readonly naming: ToolNaming,
  ) {}

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    try {
      const result = await this.model.doGenerate(upstreamParams(this.params, request, signal));
      this.result = result;
      return toChatResponse(result, this.name, this.naming);
    } catch (error) {
      throw toProviderError(error);
    }
  }
}

/** One `doStream`: the SDK's parts go through the runtime as chat chunks that carry them. */
class StreamCall implements FrameworkCall {
  served?: boolean;
  request: StreamResult['request'];
  response: StreamResult['response'];

  constructor(
    private readonly model: WrappedModel,
    private readonly params: CallOptions,
    private readonly name: string,
    private readonly naming: ToolNaming,
  ) {}

  async *stream(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatChunk> {
    let result: StreamResult;
    try {
      result = await this.model.doStream(upstreamParams(this.params, request, signal));
    } catch (error) {
      throw toProviderError(error);
    }
    this.request = result.request;
    this.response = result.response;
    const reader = result.stream.getReader();
    const chunks = new PartsToChunks(this.name, this.naming);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value.type === 'error') throw toProviderError(value.error);
        const chunk = chunks.add(value);
        if (chunk) yield chunk;
      }
      const rest = chunks.flush();
      if (rest) yield rest;
    } catch (error) {
      throw toProviderError(error);
    } finally {
      // Cut or done: release the model's stream (a cut has already aborted its request).
      void reader.cancel().catch(() => {});
    }
  }
}

function isToolPart(part: StreamPart): boolean {
  return part.type === 'tool-input-start' || part.type === 'tool-input-delta' || part.type === 'tool-input-end' || part.type === 'tool-call';
}

/**
 * An AI SDK language-model middleware that puts every call of the wrapped model under the run:
 * `wrapLanguageModel({ model, middleware: guardMiddleware(run) })`. Each `doGenerate` / `doStream` goes
 * through `run.callModel` / `run.streamModel` (the guard's provider for the model must be
 * `frameworkProvider()`), so admission, the all-or-nothing reservation, timeouts, retries, stream cuts
 * on a kill or an over-long output, and settlement from the usage the model reports are the runtime's
 * own. Refusals and stops surface as `GuardAPICallError` (an `APICallError`).
 */
export function guardMiddleware(run: Run, options: GuardMiddlewareOptions = {}): LanguageModelMiddleware {
  const naming: ToolNaming = { toolServer: options.toolServer };
  const checkProposed = (options.proposedToolCalls ?? 'refuse') === 'refuse';

  function chatRequest(params: CallOptions, name: string, call: FrameworkCall): { request: ChatRequest; messages: ChatMessage[] } {
    const messages = toChatMessages(params.prompt, naming);
    const tools = toChatTools(params.tools, naming);
    const request: ChatRequest = {
      model: name,
      messages,
      ...(tools ? { tools } : {}),
      ...(params.maxOutputTokens !== undefined ? { max_tokens: params.maxOutputTokens } : {}),
    };
    return { request: withFrameworkCall(request, call), messages };
  }

  return {
    specificationVersion: 'v3',

    async wrapGenerate({ params, model }) {
      const name = options.model ?? model.modelId;
      const call = new GenerateCall(model, params, name, naming);
      const { request, messages } = chatRequest(params, name, call);
      let proposed: ChatToolCall[];
      try {
        const outcome = await run.callModel(request, { signal: params.abortSignal });
        proposed = outcome.response.choices[0]?.message.tool_calls ?? [];
      } catch (error) {
        throw toSdkError(error, name);
      }
      assertServed(call, name);
      if (checkProposed) {
        const refusal = await refusalFor(run, proposed, messages);
        if (refusal) throw toSdkError(refusal, name);
      }
      return call.result!;
    },

    async wrapStream({ params, model }) {
      const name = options.model ?? model.modelId;
      const call = new StreamCall(model, params, name, naming);
      const { request, messages } = chatRequest(params, name, call);
      let iterator: AsyncIterator<ChatChunk>;
      try {
        iterator = (await run.streamModel(request, { signal: params.abortSignal }))[Symbol.asyncIterator]();
      } catch (error) {
        throw toSdkError(error, name);
      }
      if (!call.served) await closeUnread(iterator, false);
      assertServed(call, name);
      let started = false;
      // Proposed tool calls are held until the stream ends and judged together, as the gateway does;
      // the finish part waits with them so the SDK sees the parts in order.
      const held: StreamPart[] = [];
      const proposed: ChatToolCall[] = [];
      const stream = new ReadableStream<StreamPart>({
        async pull(controller) {
          started = true;
          try {
            const step = await iterator.next();
            if (step.done) {
              const refusal = checkProposed ? await refusalFor(run, proposed, messages) : undefined;
              if (refusal) return controller.error(toSdkError(refusal, name));
              for (const part of held) controller.enqueue(part);
              return controller.close();
            }
            for (const part of partsOf(step.value)) {
              if (part.type === 'tool-call') {
                const chatCall = toChatToolCall(part, naming);
                if (chatCall) proposed.push(chatCall);
              }
              if (checkProposed && (held.length > 0 || isToolPart(part) || part.type === 'finish')) held.push(part);
              else controller.enqueue(part);
            }
          } catch (error) {
            controller.error(toSdkError(error, name));
          }
        },
        async cancel() {
          // The reader went away: stop the model and settle what flowed.
          await closeUnread(iterator, started);
        },
      });
      return { stream, request: call.request, response: call.response };
    },
  };
}
