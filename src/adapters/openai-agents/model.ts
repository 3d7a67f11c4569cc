import type { Model, ModelProvider, ModelRequest, ModelResponse, ModelRetryAdvice, ModelRetryAdviceRequest, StreamEvent } from '@openai/agents';
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse, ChatToolCall, Run } from '../../index.ts';
import { chatChunk, emptyChunk } from '../shared/chat-shapes.ts';
import { assertServed, closeUnread, upstreamMaxTokens, withFrameworkCall, type FrameworkCall } from '../shared/framework-provider.ts';
import { clientShouldRetry, findGuardError } from '../shared/guard-errors.ts';
import { refusalFor, type ProposedToolCalls } from '../shared/proposed-calls.ts';
import { toProviderError } from '../shared/provider-errors.ts';
import type { ToolNaming } from '../shared/tool-naming.ts';
import { isGuardStop, toAgentsError } from './errors.ts';
import { outputOf, toChatMessages, toChatResponse, toChatTools, usageOf } from './items.ts';

export interface GuardModelOptions extends ToolNaming {
  /** The fmguard model (config `models.<name>`) calls are priced and authorised as; default: the model name the agent asked for. */
  model?: string;
  /** What to do with tool calls the model proposes (see `ProposedToolCalls`); default `refuse`. */
  proposedToolCalls?: ProposedToolCalls;
}

function upstreamRequest(request: ModelRequest, chat: ChatRequest, signal: AbortSignal): ModelRequest {
  return { ...request, modelSettings: { ...request.modelSettings, maxTokens: upstreamMaxTokens(chat) ?? request.modelSettings.maxTokens }, signal };
}

/** The SDK events a chat chunk stands for. */
const EVENTS = Symbol.for('fmguard.agentsEvents');
type Carrying = ChatChunk & { [EVENTS]?: StreamEvent[] };

function carrying(chunk: ChatChunk, events: StreamEvent[]): ChatChunk {
  (chunk as Carrying)[EVENTS] = events;
  return chunk;
}

function eventsOf(chunk: ChatChunk): StreamEvent[] {
  return (chunk as Carrying)[EVENTS] ?? [];
}

/**
 * An Agents SDK model whose every call runs through the run: `getResponse` through `run.callModel`,
 * `getStreamedResponse` through `run.streamModel` (text deltas metered as they flow, the final
 * response's usage settled), with the guard's provider for the model set to `frameworkProvider()`.
 * Refusals and stops are raised as `GuardStopError` (an `AgentsError`) or, for the step limit,
 * `GuardMaxTurnsError` (a `MaxTurnsExceededError`).
 */
export class GuardedModel implements Model {
  private readonly checkProposed: boolean;
  private readonly naming: ToolNaming;

  constructor(
    private readonly inner: Model,
    private readonly run: Run,
    private readonly name: string,
    options: GuardModelOptions = {},
  ) {
    this.checkProposed = (options.proposedToolCalls ?? 'refuse') === 'refuse';
    this.naming = { toolServer: options.toolServer };
  }

  private chatRequest(request: ModelRequest, call: FrameworkCall): { chat: ChatRequest; messages: ChatMessage[] } {
    const messages = toChatMessages(request, this.naming);
    const tools = toChatTools(request.tools, this.naming);
    const maxTokens = request.modelSettings?.maxTokens;
    const chat: ChatRequest = { model: this.name, messages, ...(tools ? { tools } : {}), ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}) };
    return { chat: withFrameworkCall(chat, call), messages };
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const { inner, name, naming } = this;
    let response: ModelResponse | undefined;
    const call: FrameworkCall = {
      async complete(chat: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
        try {
          response = await inner.getResponse(upstreamRequest(request, chat, signal));
        } catch (error) {
          throw toProviderError(error);
        }
        return toChatResponse(response, name, naming);
      },
    };
    const { chat, messages } = this.chatRequest(request, call);
    let proposed: ChatToolCall[];
    try {
      const outcome = await this.run.callModel(chat, { signal: request.signal });
      proposed = outcome.response.choices[0]?.message.tool_calls ?? [];
    } catch (error) {
      throw toAgentsError(error);
    }
    assertServed(call, name);
    if (this.checkProposed) {
      const refusal = await refusalFor(this.run, proposed, messages);
      if (refusal) throw toAgentsError(refusal);
    }
    return response!;
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const { inner, name, naming } = this;
    const call: FrameworkCall = {
      async *stream(chat: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatChunk> {
        let pending: StreamEvent[] = [];
        try {
          for await (const event of inner.getStreamedResponse(upstreamRequest(request, chat, signal))) {
            pending.push(event);
            let chunk: ChatChunk | undefined;
            if (event.type === 'output_text_delta' && event.delta.length > 0) chunk = chatChunk(name, { content: event.delta });
            else if (event.type === 'response_done') {
              const { text, calls } = outputOf(event.response.output as ModelResponse['output'], naming);
              const usage = usageOf(event.response.usage, text.length > 0 || calls.length > 0);
              chunk = chatChunk(
                name,
                calls.length > 0 ? { tool_calls: calls.map((c, index) => ({ index, ...c })) } : {},
                calls.length > 0 ? 'tool_calls' : 'stop',
                usage,
              );
            }
            if (chunk) {
              yield carrying(chunk, pending);
              pending = [];
            }
          }
          if (pending.length > 0) yield carrying(emptyChunk(name), pending);
        } catch (error) {
          throw toProviderError(error);
        }
      },
    };
    const { chat, messages } = this.chatRequest(request, call);
    let stream: AsyncIterable<ChatChunk>;
    try {
      stream = await this.run.streamModel(chat, { signal: request.signal });
    } catch (error) {
      throw toAgentsError(error);
    }
    if (!call.served) await closeUnread(stream[Symbol.asyncIterator](), false);
    assertServed(call, name);
    // The final response carries the proposed calls: it is held until the stream settled and judged.
    let done: StreamEvent | undefined;
    try {
      for await (const chunk of stream) {
        for (const event of eventsOf(chunk)) {
          if (event.type === 'response_done' && this.checkProposed) done = event;
          else yield event;
        }
      }
    } catch (error) {
      throw toAgentsError(error);
    }
    if (!done) return;
    const { calls } = outputOf((done as Extract<StreamEvent, { type: 'response_done' }>).response.output as ModelResponse['output'], naming);
    const refusal = await refusalFor(this.run, calls, messages);
    if (refusal) throw toAgentsError(refusal);
    yield done;
  }

  /** Tells the SDK's retry policy (when the agent configured one) not to retry what a retry cannot help. */
  getRetryAdvice(args: ModelRetryAdviceRequest): ModelRetryAdvice | undefined | Promise<ModelRetryAdvice | undefined> {
    const guard = isGuardStop(args.error) ? args.error.guardError : findGuardError(args.error);
    if (guard)
      return {
        suggested: clientShouldRetry(guard),
        reason: guard.code,
        ...(typeof guard.details.retryAfterMs === 'number' ? { retryAfterMs: guard.details.retryAfterMs } : {}),
      };
    return this.inner.getRetryAdvice?.(args);
  }
}

/** One model under the run. */
export function guardModel(model: Model, run: Run, options: GuardModelOptions & { model: string }): Model {
  return new GuardedModel(model, run, options.model, options);
}

/**
 * A model provider whose models all run under the run: `new Runner({ modelProvider:
 * guardModelProvider(new OpenAIProvider(), run) })`. Each model is priced and authorised as the
 * fmguard model of the same name, unless `model` names one.
 */
export function guardModelProvider(provider: ModelProvider, run: Run, options: GuardModelOptions = {}): ModelProvider {
  return {
    async getModel(modelName?: string) {
      const inner = await provider.getModel(modelName);
      const name = options.model ?? modelName;
      if (!name) throw new TypeError('guardModelProvider: the agent names no model; pass options.model (the fmguard model to price the calls as)');
      return new GuardedModel(inner, run, name, options);
    },
  };
}
