import { requestedMaxTokens, type ChatMessage, type ChatRequest, type ChatToolCall, type ChatUsage, type FinishReason } from '../../core/chat.ts';
import { ProviderError } from '../provider.ts';
import { hash32, hex32 } from './random.ts';
import type { SimScenario } from './scenario.ts';
import { answerText, LazyProse, noProgressText, refineText } from './text.ts';
import { CHARS_PER_TOKEN, clampToTokens, contentText, estimatePromptTokens, textTokens } from './tokens.ts';
import { toolArguments, topicOf } from './tool-args.ts';

/**
 * Decides what one call answers, before any waiting: an error, or an output with its usage. Pure
 * except for `draw`, the model's seeded generator used by the rate-based scenarios.
 */
export interface PlanContext {
  seed: number;
  /** The model's seeded generator; one draw per fail/throttle call (two when a fail picks its status). */
  draw: () => number;
  toolName: string;
  forbiddenToolName: string;
  retryAfterMs: number;
  longTokens: number;
  /** No answer is longer than this many tokens, whatever it asks for (max_tokens lowers it). */
  maxOutputTokens: number;
  refineTokens: number;
  stallAfterChunks: number;
}

export interface SimOutput {
  /** A `LazyProse` (the `long` scenario) is built only as it is streamed or, for complete(), in slices. */
  content: string | LazyProse | null;
  toolCalls?: ChatToolCall[];
  finishReason: FinishReason;
  usage: ChatUsage;
  /** Streams stop after this many chunks and never finish; complete() never returns. */
  stallAfterChunks?: number;
}

export type SimPlan = { kind: 'error'; error: ProviderError } | { kind: 'output'; output: SimOutput };

export function planResponse(req: ChatRequest, scenario: SimScenario, ctx: PlanContext): SimPlan {
  const convo = new Conversation(req, ctx.seed, ctx.maxOutputTokens);
  switch (scenario.name) {
    case 'answer':
      return text(convo, answerText(convo.requestSeed));
    case 'long':
      return long(convo, scenario.tokens ?? ctx.longTokens);
    case 'refine':
      return text(convo, refineText(hash32(convo.firstUserText, ctx.seed), convo.round, ctx.refineTokens * CHARS_PER_TOKEN));
    case 'no_progress':
      return text(convo, noProgressText(ctx.seed, ctx.refineTokens * CHARS_PER_TOKEN));
    case 'stall':
      return stalled(text(convo, answerText(convo.requestSeed)), scenario.afterChunks ?? ctx.stallAfterChunks);
    case 'stall_first':
      return stalled(text(convo, answerText(convo.requestSeed)), 0);
    case 'tool_call': {
      // A well-behaved agent step: call the tool once, then answer from its result.
      const last = req.messages[req.messages.length - 1];
      if (last?.role === 'tool') return text(convo, `Based on the tool result: ${topicOf(last.content)}. ${answerText(convo.requestSeed)}`);
      const name = scenario.tool ?? firstToolName(req) ?? ctx.toolName;
      return toolCall(convo, name, convo.lastUserText, { query: topicOf(convo.lastUserText) });
    }
    case 'tool_loop': {
      // The runaway agent: the same call with the same arguments whatever the conversation says.
      const name = scenario.tool ?? firstToolName(req) ?? ctx.toolName;
      return toolCall(convo, name, convo.firstUserText, { query: topicOf(convo.firstUserText) });
    }
    case 'forbidden_tool':
      return toolCall(convo, scenario.tool ?? ctx.forbiddenToolName, convo.lastUserText, { path: '/', recursive: true });
    case 'fail': {
      const rate = scenario.rate ?? 1;
      if (ctx.draw() < rate) {
        const status = scenario.status ?? (ctx.draw() < 0.5 ? 500 : 503);
        return { kind: 'error', error: new ProviderError(`simulated upstream failure (${status})`, { status }) };
      }
      return text(convo, answerText(convo.requestSeed));
    }
    case 'throttle': {
      const rate = scenario.rate ?? 1;
      if (ctx.draw() < rate) {
        const retryAfterMs = scenario.retryAfterMs ?? ctx.retryAfterMs;
        return { kind: 'error', error: new ProviderError('simulated rate limit', { status: 429, retryAfterMs }) };
      }
      return text(convo, answerText(convo.requestSeed));
    }
  }
}

/** What the plans read from a request, computed once. */
class Conversation {
  readonly maxTokens: number | undefined;
  /** The most output tokens this answer may have: the request's max_tokens within the model's own limit. */
  readonly cap: number;
  readonly promptTokens: number;
  readonly requestSeed: number;
  readonly firstUserText: string;
  readonly lastUserText: string;
  /** Assistant turns so far: the refinement round. */
  readonly round: number;

  constructor(
    readonly req: ChatRequest,
    readonly seed: number,
    maxOutputTokens: number,
  ) {
    this.maxTokens = requestedMaxTokens(req);
    this.cap = Math.max(0, Math.min(this.maxTokens ?? maxOutputTokens, maxOutputTokens));
    this.promptTokens = estimatePromptTokens(req.messages, req.tools);
    this.requestSeed = hash32(sampled(JSON.stringify([req.model, req.messages, req.tools ?? null])), seed);
    const users = req.messages.filter((m): m is Extract<ChatMessage, { role: 'user' }> => m.role === 'user');
    this.firstUserText = users.length > 0 ? contentText(users[0]) : '';
    this.lastUserText = users.length > 0 ? contentText(users[users.length - 1]) : '';
    this.round = req.messages.filter((m) => m.role === 'assistant').length;
  }

  usage(completionTokens: number): ChatUsage {
    return {
      prompt_tokens: this.promptTokens,
      completion_tokens: completionTokens,
      total_tokens: this.promptTokens + completionTokens,
    };
  }
}

/** A long prompt is hashed by its length, head and tail: the seed stays deterministic without a pass over megabytes. */
function sampled(text: string): string {
  const SAMPLE = 64 * 1024;
  return text.length <= 2 * SAMPLE ? text : `${text.length}:${text.slice(0, SAMPLE)}${text.slice(-SAMPLE)}`;
}

function text(convo: Conversation, full: string): SimPlan {
  const max = convo.cap;
  const clamped = textTokens(full) > max;
  const content = clamped ? clampToTokens(full, max) : full;
  return {
    kind: 'output',
    output: { content, finishReason: clamped ? 'length' : 'stop', usage: convo.usage(textTokens(content)) },
  };
}

/**
 * `tokens` of prose, clamped to the cap like `text` clamps, but never built here: as much text as the
 * answer may carry (the cap's characters), and `length` when more was asked.
 */
function long(convo: Conversation, tokens: number): SimPlan {
  const clamped = tokens > convo.cap;
  const content = new LazyProse(convo.requestSeed, Math.min(tokens, convo.cap) * CHARS_PER_TOKEN);
  return {
    kind: 'output',
    output: { content, finishReason: clamped ? 'length' : 'stop', usage: convo.usage(Math.min(tokens, convo.cap)) },
  };
}

function toolCall(convo: Conversation, name: string, topicText: string, fallback: Record<string, unknown>): SimPlan {
  const tool = convo.req.tools?.find((t) => t.function.name === name);
  let args = toolArguments(tool, topicOf(topicText), fallback);
  let tokens = textTokens(name + args);
  const max = convo.cap;
  const clamped = tokens > max;
  if (clamped) {
    // As upstream models do: the arguments are cut off mid-JSON and the finish reason says why.
    args = args.slice(0, Math.max(0, max * CHARS_PER_TOKEN - name.length));
    tokens = Math.min(max, textTokens(name + args));
  }
  const id = `call_${hex32(hash32(`${convo.requestSeed}:${name}`, convo.seed))}`;
  return {
    kind: 'output',
    output: {
      content: null,
      toolCalls: [{ id, type: 'function', function: { name, arguments: args } }],
      finishReason: clamped ? 'length' : 'tool_calls',
      usage: convo.usage(tokens),
    },
  };
}

function stalled(plan: SimPlan, afterChunks: number): SimPlan {
  if (plan.kind === 'output') plan.output.stallAfterChunks = afterChunks;
  return plan;
}

function firstToolName(req: ChatRequest): string | undefined {
  return req.tools?.[0]?.function.name;
}
