import type { EventEmitter } from 'node:events';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/chat.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { ProviderError, type ModelProvider, type ProviderCallOptions } from '../provider.ts';
import { SimRecorder, type CallRecord, type SimAbortEvent, type SimEventMap, type SimStats } from './call-record.ts';
import { toPieces } from './deltas.ts';
import { planResponse, type PlanContext, type SimPlan } from './plan.ts';
import { mulberry32 } from './random.ts';
import { toChunk, toResponse, usageChunk, type ResponseMeta } from './responses.ts';
import { SimScenarioError, selectScenario, toScenario, type SimScenario, type SimScenarioInput } from './scenario.ts';
import type { LazyProse } from './text.ts';
import { pause, waitForever } from './wait.ts';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../../core/wire/embeddings.ts';
import { embeddingInputs } from '../../core/wire/embeddings.ts';
import { embeddingTokens, SIM_MAX_EMBEDDING_DIMENSIONS, simEmbeddings } from './embeddings.ts';

/** Timing for one model name; unset fields fall back to the model-wide options. */
export interface SimModelProfile {
  scenario?: SimScenarioInput;
  firstTokenLatencyMs?: number;
  tokensPerSecond?: number;
}

export interface SimModelOptions {
  /** Scenario when nothing else picks one. Default 'answer'. */
  scenario?: SimScenarioInput;
  /** Per model name: a scenario, or a profile with a scenario and timing. */
  models?: Record<string, SimScenarioInput | SimModelProfile>;
  /** Seeds generated text, ids and the fail/throttle draws. Default 1. */
  seed?: number;
  clock?: Clock;
  /** Delay before the first chunk (and before an error). Default 0: no timer at all. */
  firstTokenLatencyMs?: number;
  /** Output pace after the first chunk; 0 or Infinity means unpaced. Default 0. */
  tokensPerSecond?: number;
  /** Tokens per streamed content chunk. Default 1. */
  tokensPerChunk?: number;
  /** Tool for tool_call / tool_loop when the request lists none. Default 'search'. */
  toolName?: string;
  /** Tool for forbidden_tool. Default 'delete_file'. */
  forbiddenToolName?: string;
  /** retry-after of a throttle. Default 1000. */
  retryAfterMs?: number;
  /** Output length of `long` before clamping. Default 4000 tokens. */
  longTokens?: number;
  /**
   * No answer is longer than this (max_tokens lowers it; the gateway always sends the model's
   * `maxOutputTokens`). Text beyond it is never built. Default 32768 tokens.
   */
  maxOutputTokens?: number;
  /** Approximate length of each refine / no_progress answer. Default 600 tokens. */
  refineTokens?: number;
  /** Chunks `stall` sends before it stops. Default 3. */
  stallAfterChunks?: number;
}

/** One call as an HTTP upstream would answer it: headers first (or an error status), then chunks. */
export interface SimCall {
  id: string;
  /** Resolves when response headers would be sent; rejects with a ProviderError (or the abort reason). */
  accepted: Promise<void>;
  /** The chunks; awaits `accepted` first. The last one carries usage (empty choices). */
  chunks: AsyncGenerator<ChatChunk, void, undefined>;
}

export interface SimModel extends ModelProvider {
  readonly name: 'sim';
  /** Live counters. */
  readonly stats: SimStats;
  /** Every abort since creation or `reset()`, in order. */
  readonly aborts: readonly SimAbortEvent[];
  /** 'call', 'complete', 'failure', 'abort', 'cancel'; each with the request id. */
  readonly events: EventEmitter<SimEventMap>;
  /** Model ids for `GET /v1/models`: the keys of `models`, or ['sim']. */
  readonly modelIds: readonly string[];
  open(req: ChatRequest, opts: ProviderCallOptions): SimCall;
  embed(req: EmbeddingsRequest, opts: ProviderCallOptions): Promise<EmbeddingsResponse>;
  reset(): void;
}

interface Timing {
  firstTokenLatencyMs: number;
  tokensPerSecond: number;
}

interface Started {
  meta: ResponseMeta;
  record: CallRecord;
  plan: SimPlan;
  timing: Timing;
}

/**
 * A deterministic, scriptable model provider. The scenario for each request comes from, in order: the
 * request field `sim` (the HTTP server fills it from the `x-sim-scenario` header), the newest `[sim:NAME ARGS]`
 * directive in the user messages, `options.models[req.model]`, then `options.scenario`.
 *
 * Scenarios and their positional arguments:
 * - `answer` — a normal answer of about 30–120 tokens.
 * - `tool_call [tool]` — calls the tool (default: the request's first tool, else `toolName`) once;
 *   when the last message is a tool result, answers from it.
 * - `tool_loop [tool]` (alias `loop`) — the same call with the same arguments, every time.
 * - `forbidden_tool [tool]` — calls `delete_file` (or `tool`) with `{"path":"/","recursive":true}`.
 * - `refine` — a long draft that changes a little each round and always offers to improve it.
 * - `no_progress` — exactly the same long text on every call.
 * - `stall [chunks]` — streams `chunks` chunks (default 3) then waits until aborted.
 * - `stall_first` — sends nothing (after headers) until aborted.
 * - `fail [rate] [status]` — a ProviderError 500/503 with probability `rate` (default 1).
 * - `throttle [rate] [retryAfterMs]` — a ProviderError 429 with `retryAfterMs`.
 * - `long [tokens]` — `tokens` (default 4000) of output.
 *
 * Output is clamped to `max_completion_tokens ?? max_tokens` (finish_reason 'length'). Usage follows
 * tokens.ts. In process, `stream()` always ends with a usage chunk (empty choices), whatever
 * `stream_options` says; the HTTP server drops it unless `include_usage` is set. The rate-based draws
 * come from one generator per model, so a fresh model with the same options fed the same requests in the
 * same order behaves identically; all other output depends only on the options and the request.
 */
export function createSimModel(options: SimModelOptions = {}): SimModel {
  const {
    scenario = 'answer',
    models,
    seed = 1,
    clock = systemClock,
    firstTokenLatencyMs = 0,
    tokensPerSecond = 0,
    tokensPerChunk = 1,
    toolName = 'search',
    forbiddenToolName = 'delete_file',
    retryAfterMs = 1000,
    longTokens = 4000,
    maxOutputTokens = 32_768,
    refineTokens = 600,
    stallAfterChunks = 3,
  } = options;
  checkNumber('firstTokenLatencyMs', firstTokenLatencyMs);
  checkNumber('tokensPerSecond', tokensPerSecond);
  checkNumber('retryAfterMs', retryAfterMs);
  checkInteger('tokensPerChunk', tokensPerChunk, 1);
  checkInteger('longTokens', longTokens, 0);
  checkInteger('maxOutputTokens', maxOutputTokens, 0);
  checkInteger('refineTokens', refineTokens, 0);
  checkInteger('stallAfterChunks', stallAfterChunks, 0);
  checkInteger('seed', seed, -(2 ** 31));

  const defaultScenario = optionScenario('scenario', scenario);
  const modelScenarios = new Map<string, SimScenario>();
  const modelTimings = new Map<string, Timing>();
  const baseTiming: Timing = { firstTokenLatencyMs, tokensPerSecond };
  for (const [model, entry] of Object.entries(models ?? {})) {
    const profile: SimModelProfile = typeof entry === 'string' || 'name' in entry ? { scenario: entry } : entry;
    if (profile.scenario !== undefined) modelScenarios.set(model, optionScenario(`models.${model}.scenario`, profile.scenario));
    if (profile.firstTokenLatencyMs !== undefined) checkNumber(`models.${model}.firstTokenLatencyMs`, profile.firstTokenLatencyMs);
    if (profile.tokensPerSecond !== undefined) checkNumber(`models.${model}.tokensPerSecond`, profile.tokensPerSecond);
    modelTimings.set(model, {
      firstTokenLatencyMs: profile.firstTokenLatencyMs ?? firstTokenLatencyMs,
      tokensPerSecond: profile.tokensPerSecond ?? tokensPerSecond,
    });
  }

  const recorder = new SimRecorder(clock);
  const ctx: PlanContext = {
    seed,
    draw: mulberry32(seed),
    toolName,
    forbiddenToolName,
    retryAfterMs,
    longTokens,
    maxOutputTokens,
    refineTokens,
    stallAfterChunks,
  };
  let sequence = 0;

  /** Everything decided synchronously when a call starts: id, scenario, plan, timing. */
  function start(req: ChatRequest, stream: boolean): Started {
    const model = typeof req?.model === 'string' ? req.model : '';
    const meta: ResponseMeta = { id: `chatcmpl-sim-${++sequence}`, created: Math.floor(clock.now() / 1000), model };
    let chosen: SimScenario | undefined;
    let plan: SimPlan;
    try {
      if (!model || !Array.isArray(req.messages)) throw new SimScenarioError('a request needs a model and messages');
      chosen = selectScenario(req, { defaultScenario, modelScenarios });
      plan = planResponse(req, chosen, ctx);
    } catch (err) {
      if (!(err instanceof SimScenarioError)) throw err;
      plan = { kind: 'error', error: new ProviderError(err.message, { status: 400 }) };
    }
    const record = recorder.begin({ requestId: meta.id, model, scenario: chosen?.name ?? 'invalid', stream });
    return { meta, record, plan, timing: modelTimings.get(model) ?? baseTiming };
  }

  /** An error answers after the first-token latency, except a bad request, which answers at once. */
  async function failAfterLatency({ record, plan, timing }: Started, signal: AbortSignal): Promise<never> {
    const error = (plan as Extract<SimPlan, { kind: 'error' }>).error;
    if (error.status !== 400) await pause(clock, timing.firstTokenLatencyMs, signal);
    throw record.fail(error);
  }

  async function complete(req: ChatRequest, { signal }: ProviderCallOptions): Promise<ChatResponse> {
    const started = start(req, false);
    const { record, plan, timing, meta } = started;
    try {
      if (plan.kind === 'error') return await failAfterLatency(started, signal);
      const output = plan.output;
      if (output.stallAfterChunks !== undefined) await waitForever(signal);
      const content = typeof output.content === 'object' && output.content !== null ? await build(output.content, signal) : output.content;
      await pause(clock, timing.firstTokenLatencyMs + paceMs(timing, output.usage.completion_tokens), signal);
      record.complete(output.usage);
      return toResponse(meta, output, content);
    } catch (err) {
      record.settleThrow(signal);
      throw err;
    }
  }

  function open(req: ChatRequest, { signal }: ProviderCallOptions): SimCall {
    const started = start(req, true);
    const { record, plan } = started;
    const accepted =
      plan.kind === 'error'
        ? failAfterLatency(started, signal).catch((err: unknown) => {
            record.settleThrow(signal);
            throw err;
          })
        : Promise.resolve();
    // The chunks generator rethrows it; this only keeps an unread rejection from being "unhandled".
    accepted.catch(() => {});
    return { id: started.meta.id, accepted, chunks: generate(started, accepted, signal) };
  }

  async function* generate(started: Started, accepted: Promise<void>, signal: AbortSignal): AsyncGenerator<ChatChunk, void, undefined> {
    const { record, plan, timing, meta } = started;
    try {
      await accepted;
      if (plan.kind !== 'output') return;
      const output = plan.output;
      const stallAt = output.stallAfterChunks;
      let i = 0;
      let ranSince = performance.now();
      for (const piece of toPieces(output, tokensPerChunk)) {
        if (i === stallAt) await waitForever(signal);
        // Unpaced chunks follow each other in microtasks: give the event loop a turn every few ms.
        if (performance.now() - ranSince > YIELD_EVERY_MS) {
          await nextTurn();
          ranSince = performance.now();
        }
        await pause(clock, i === 0 ? timing.firstTokenLatencyMs : paceMs(timing, piece.tokens), signal);
        record.sent(piece.tokens);
        yield toChunk(meta, piece.delta, null);
        i++;
      }
      if (stallAt !== undefined) await waitForever(signal);
      signal.throwIfAborted();
      // Generation is over once the finish chunk goes out; a consumer may stop reading right there.
      record.complete(output.usage);
      yield toChunk(meta, {}, output.finishReason);
      yield usageChunk(meta, output.usage);
    } catch (err) {
      record.settleThrow(signal);
      throw err;
    } finally {
      // Still open here means the consumer returned early (break) without aborting.
      if (!record.done) {
        if (signal.aborted) record.abort(signal.reason);
        else record.cancel();
      }
    }
  }

  /**
   * Deterministic vectors (see embeddings.ts). The scenario comes from a `[sim:…]` directive in the
   * inputs, the `sim` field or the model, as for chat: `fail`, `throttle`, `stall` and `stall_first`
   * apply; every other scenario answers.
   */
  async function embed(req: EmbeddingsRequest, { signal }: ProviderCallOptions): Promise<EmbeddingsResponse> {
    const inputs = Array.isArray(req?.input) || typeof req?.input === 'string' ? embeddingInputs(req.input) : [];
    const messages = inputs.map((input) => ({ role: 'user' as const, content: typeof input === 'string' ? input : '' }));
    const started = start({ model: req?.model, messages, ...(req?.sim !== undefined ? { sim: req.sim } : {}) } as ChatRequest, false);
    const { record, plan, timing } = started;
    try {
      if (plan.kind === 'error') return await failAfterLatency(started, signal);
      if (
        inputs.length === 0 ||
        (req.dimensions !== undefined && !(Number.isInteger(req.dimensions) && req.dimensions >= 1 && req.dimensions <= SIM_MAX_EMBEDDING_DIMENSIONS))
      ) {
        throw record.fail(new ProviderError(`embeddings need input and at most ${SIM_MAX_EMBEDDING_DIMENSIONS} dimensions`, { status: 400 }));
      }
      if (plan.output.stallAfterChunks !== undefined) await waitForever(signal);
      await pause(clock, timing.firstTokenLatencyMs, signal);
      const tokens = embeddingTokens(req.input);
      record.complete({ prompt_tokens: tokens, completion_tokens: 0, total_tokens: tokens });
      return simEmbeddings(req, seed);
    } catch (err) {
      record.settleThrow(signal);
      throw err;
    }
  }

  async function* stream(req: ChatRequest, opts: ProviderCallOptions): AsyncGenerator<ChatChunk, void, undefined> {
    // Lazy, like a request that is only sent when iteration starts.
    yield* open(req, opts).chunks;
  }

  return {
    name: 'sim',
    stats: recorder.stats,
    aborts: recorder.aborts,
    events: recorder.events,
    modelIds: models && Object.keys(models).length > 0 ? Object.keys(models) : ['sim'],
    complete,
    stream,
    open,
    embed,
    reset: () => recorder.reset(),
  };
}

/** How long an unpaced stream runs before it lets other work in. */
const YIELD_EVERY_MS = 2;
/** Characters of a long answer built in one turn of the event loop (well under a millisecond of work). */
const BUILD_SLICE_CHARS = 16_384;

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A long answer's text for complete(), one slice per turn of the event loop. */
async function build(text: LazyProse, signal: AbortSignal): Promise<string> {
  const parts: string[] = [];
  for (const part of text.pieces(BUILD_SLICE_CHARS)) {
    if (parts.length > 0) {
      await nextTurn();
      signal.throwIfAborted();
    }
    parts.push(part);
  }
  return parts.join('');
}

function paceMs(timing: Timing, tokens: number): number {
  const tps = timing.tokensPerSecond;
  return tps > 0 && Number.isFinite(tps) ? (tokens * 1000) / tps : 0;
}

function optionScenario(path: string, input: SimScenarioInput): SimScenario {
  try {
    return toScenario(input);
  } catch (err) {
    throw new TypeError(`${path}: ${(err as Error).message}`);
  }
}

function checkNumber(path: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new TypeError(`${path}: expected a non-negative number`);
}

function checkInteger(path: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new TypeError(`${path}: expected an integer >= ${min}`);
}
