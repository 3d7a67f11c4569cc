import { BaseCallbackHandler } from '@langchain/core/callbacks/base';
import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { RunnableBinding } from '@langchain/core/runnables';
import { createMiddleware, type AgentMiddleware } from 'langchain';
import type { ChatChunk, ChatRequest, ChatResponse, Run } from '../../index.ts';
import { AsyncQueue } from '../shared/async-queue.ts';
import { chatChunk, chatResponse } from '../shared/chat-shapes.ts';
import { assertServed, withFrameworkCall, type FrameworkCall } from '../shared/framework-provider.ts';
import { describeStop, findGuardError } from '../shared/guard-errors.ts';
import { refusalFor, type ProposedToolCalls } from '../shared/proposed-calls.ts';
import { toProviderError } from '../shared/provider-errors.ts';
import { exhaustedLimit, limitsOf } from '../shared/run-limits.ts';
import { chatFunctionName, toolResource, type ToolNaming } from '../shared/tool-naming.ts';
import { toLangChainError } from './errors.ts';
import { messageText, toChatMessages, toChatToolCalls, toChatTools, usageOf } from './messages.ts';

export interface GuardMiddlewareOptions extends ToolNaming {
  /** The fmguard model (config `models.<name>`) calls are priced and authorised as; default: the chat model's `model` name. */
  model?: string;
  /** What to do with tool calls the model proposes (see `ProposedToolCalls`); default `refuse`. */
  proposedToolCalls?: ProposedToolCalls;
  /**
   * Run model calls as streams (default true): the chat model is asked to stream, as LangChain does
   * when an agent is streamed, and the runtime meters the tokens as they come, so first-token and idle
   * timeouts apply and an over-long or killed call is cut mid-stream. `false`: one guarded call each.
   */
  streaming?: boolean;
  /**
   * When the run can take no further model call: `error` (default) lets the call be refused, which
   * throws `GuardStopError`; `end` ends the agent before it, with a last AI message saying why.
   */
  exitBehavior?: 'error' | 'end';
}

/**
 * The chat model (or tool) bound to the call's abort signal and, for streams, the token tap. A binding
 * rather than `withConfig`: some chat models (ChatOpenAI) implement `withConfig` as default call
 * options that the agent's own signal and callbacks then replace; a binding's config is merged with
 * them (both signals abort it, both callback sets see it), and the agent still binds its tools through it.
 */
function bound<T>(runnable: T, config: Record<string, unknown>): T {
  return new RunnableBinding({ bound: runnable as never, config, kwargs: {} }) as unknown as T;
}

function modelName(model: unknown, configured: string | undefined): string {
  if (configured) return configured;
  const record = model as { model?: unknown; modelName?: unknown };
  const name = typeof record.model === 'string' ? record.model : typeof record.modelName === 'string' ? record.modelName : undefined;
  if (!name) throw new TypeError('fmguard/langchain: the chat model has no model name; pass options.model (the fmguard model to price the calls as)');
  return name;
}

interface TokenChunk {
  message?: { tool_call_chunks?: Array<{ name?: string; args?: string; id?: string; index?: number }> };
}

/**
 * A callback handler that asks the chat model to stream (`lc_prefer_streaming`) and hands each token to
 * the runtime as a chat chunk; awaited, so tokens arrive in order and before the call resolves.
 */
class TokenTap extends BaseCallbackHandler {
  name = 'fmguard-token-tap';
  lc_prefer_streaming = true;
  override awaitHandlers = true;
  streamed = false;

  constructor(
    private readonly onChunk: (chunk: ChatChunk) => void,
    private readonly model: string,
    private readonly naming: ToolNaming,
  ) {
    super();
  }

  override handleLLMNewToken(token: string, _idx: unknown, _runId: string, _parentRunId?: string, _tags?: string[], fields?: { chunk?: unknown }): void {
    const toolChunks = (fields?.chunk as TokenChunk | undefined)?.message?.tool_call_chunks ?? [];
    if (token.length === 0 && toolChunks.length === 0) return;
    this.streamed = true;
    const toolCalls = toolChunks.map((c, i) => ({
      index: c.index ?? i,
      ...(c.id ? { id: c.id, type: 'function' as const } : {}),
      function: { ...(c.name ? { name: chatFunctionName(c.name, this.naming) } : {}), arguments: c.args ?? '' },
    }));
    this.onChunk(chatChunk(this.model, { ...(token.length > 0 ? { content: token } : {}), ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }));
  }
}

function responseOf(message: AIMessage, model: string, naming: ToolNaming): ChatResponse {
  const calls = toChatToolCalls(message.tool_calls, naming);
  return chatResponse(model, messageText(message as BaseMessage), calls, calls.length > 0 ? 'tool_calls' : 'stop', usageOf(message));
}

/** The last chunk of a streamed call: the usage, and the whole output when the model did not stream. */
function finalChunk(message: AIMessage, model: string, naming: ToolNaming, streamed: boolean): ChatChunk {
  const calls = toChatToolCalls(message.tool_calls, naming);
  const delta = streamed
    ? {}
    : { content: messageText(message as BaseMessage), ...(calls.length > 0 ? { tool_calls: calls.map((c, index) => ({ index, ...c })) } : {}) };
  return chatChunk(model, delta, calls.length > 0 ? 'tool_calls' : 'stop', usageOf(message));
}

/**
 * LangChain agent middleware that puts the agent under the run (`createAgent({ model, tools,
 * middleware: [guardMiddleware(run)] })`, with the guard's provider for the model set to
 * `frameworkProvider()`):
 * - `beforeModel`: with `exitBehavior: 'end'`, ends the agent once the run can take no further call;
 * - `wrapModelCall`: each model call runs through `run.streamModel` (or `run.callModel`): kill
 *   switches, policy, limits, loop detection, reservation, timeouts, retries, cuts, settlement from
 *   the usage the model reports; the tool calls it proposes are checked before the agent sees them;
 * - `wrapToolCall`: each tool call runs through `run.callTool` (policy with the arguments, limits,
 *   approvals, a timeout that aborts the tool's signal, retries, failure detection); a refusal the model
 *   can adapt to becomes an error tool message, a stop of the run is thrown.
 */
export function guardMiddleware(run: Run, options: GuardMiddlewareOptions = {}): AgentMiddleware {
  const naming: ToolNaming = { toolServer: options.toolServer };
  const streaming = options.streaming ?? true;
  const checkProposed = (options.proposedToolCalls ?? 'refuse') === 'refuse';

  // Only with `exitBehavior: 'end'`: a beforeModel hook is a graph node of its own, which costs LangGraph
  // a superstep per model call (several ms, bench/RESULTS.md).
  const beforeModel =
    options.exitBehavior === 'end'
      ? {
          canJumpTo: ['end' as const],
          hook: async () => {
            const stopped = run.stopError;
            const reason = stopped ? { code: stopped.code, message: stopped.message } : exhaustedLimit(limitsOf(run), await run.usage());
            if (!reason) return undefined;
            return { jumpTo: 'end' as const, messages: [new AIMessage(`[fmguard] ${reason.code}: ${reason.message}`)] };
          },
        }
      : undefined;

  return createMiddleware({
    name: 'fmguard',
    ...(beforeModel ? { beforeModel } : {}),

    wrapModelCall: async (request, handler) => {
      const name = modelName(request.model, options.model);
      const messages = toChatMessages(request.systemPrompt, request.messages, naming);
      const tools = toChatTools(request.tools, naming);
      let result: AIMessage | undefined;
      const call: FrameworkCall = streaming
        ? {
            stream(_chat: ChatRequest, signal: AbortSignal) {
              const queue = new AsyncQueue<ChatChunk>();
              const tap = new TokenTap((chunk) => queue.push(chunk), name, naming);
              Promise.resolve(handler({ ...request, model: bound(request.model, { signal, callbacks: [tap] }) })).then(
                (message) => {
                  result = message;
                  queue.push(finalChunk(message, name, naming, tap.streamed));
                  queue.end();
                },
                (error: unknown) => queue.fail(toProviderError(error)),
              );
              return queue;
            },
          }
        : {
            async complete(_chat: ChatRequest, signal: AbortSignal) {
              try {
                result = await handler({ ...request, model: bound(request.model, { signal }) });
              } catch (error) {
                throw toProviderError(error);
              }
              return responseOf(result, name, naming);
            },
          };
      const chat = withFrameworkCall({ model: name, messages, ...(tools ? { tools } : {}) }, call);
      const signal = request.runtime?.signal;
      try {
        if (streaming) {
          const stream = await run.streamModel(chat, { signal });
          for await (const _chunk of stream);
          await stream.result;
        } else await run.callModel(chat, { signal });
      } catch (error) {
        throw toLangChainError(error);
      }
      assertServed(call, name);
      if (checkProposed) {
        const refusal = await refusalFor(run, toChatToolCalls(result!.tool_calls, naming), messages);
        if (refusal) throw toLangChainError(refusal);
      }
      return result!;
    },

    wrapToolCall: async (request, handler) => {
      const call = request.toolCall;
      try {
        const { result } = await run.callTool({
          tool: toolResource(call.name, naming),
          args: call.args,
          signal: request.runtime?.signal,
          execute: (_args, { signal }) => handler({ ...request, ...(request.tool ? { tool: bound(request.tool, { signal }) } : {}) }),
        });
        return result;
      } catch (error) {
        const guard = findGuardError(error);
        if (!guard || guard.terminal || run.stopError) throw toLangChainError(error);
        return new ToolMessage({ content: describeStop(guard), tool_call_id: call.id ?? '', name: call.name, status: 'error' });
      }
    },
  });
}
