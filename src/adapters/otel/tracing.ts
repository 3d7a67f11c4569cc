import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { GuardError, type Guard, type GuardEvent, type Run, type StartRunOptions } from '../../index.ts';
import { ERROR_TYPE, FMGUARD, GEN_AI, OPERATION } from './attributes.ts';

const TRACER_NAME = 'fmguard';
const TRACER_VERSION = '0.1.0';

export interface GuardTracingOptions {
  /** Default: `trace.getTracer('fmguard')` from the global tracer provider (a no-op until an SDK registers one). */
  tracer?: Tracer;
}

export interface GuardTracing {
  readonly tracer: Tracer;
  /**
   * End the run's span when the run ends (`run.end()`), which the guard reports no event for. Runs the
   * instrumented guard starts are watched already; call it for a `Run` obtained some other way.
   */
  watch(run: Run): Run;
  /** Stop tracing: unsubscribe, restore `guard.startRun`, end the spans of runs still open. */
  shutdown(): void;
}

type CallEvent = Extract<GuardEvent, { type: 'call.allowed' | 'call.refused' | 'call.failed' }>;
type RetryEvent = Extract<GuardEvent, { type: 'retry' }>;

interface RunEntry {
  span: Span;
  context: Context;
  agent: string;
}

/** Ended runs remembered, so the spans of calls settling after the stop (a cut stream) still find their parent. */
const ENDED_RUNS_KEPT = 10_000;

/** How a provider of the config is named in `gen_ai.provider.name` (only the well-known kinds). */
const PROVIDER_NAMES: Record<string, string> = { openai: 'openai', anthropic: 'anthropic' };

/**
 * OpenTelemetry traces of everything the guard decides, following the GenAI semantic conventions: a
 * span per run (`invoke_agent {agent}`; a sub-run's span is a child of its parent's), per model call
 * (`chat {model}`, kind CLIENT, with the requested and the serving model, token usage, cost, attempts
 * and retries as span events) and per tool call (`execute_tool {tool}`), each with fmguard's decision
 * and stop code; refusals and failures have status ERROR and `error.type` = the stop code.
 *
 * Spans are built from the guard's events, which arrive as each call settles, so a call's span is
 * recorded with its real start (`at - latencyMs`) and end. A root run's span continues whatever
 * context is active when the run starts (an incoming request's `traceparent`, see propagation.ts).
 * Nothing is traced unless this is called, and nothing is exported unless an OpenTelemetry SDK is
 * registered (configured, as usual, by the `OTEL_*` environment variables).
 */
export function instrumentGuard(guard: Guard, options: GuardTracingOptions = {}): GuardTracing {
  const tracer = options.tracer ?? trace.getTracer(TRACER_NAME, TRACER_VERSION);
  const runs = new Map<string, RunEntry>();
  const ended = new Map<string, RunEntry>();
  const retries = new Map<string, RetryEvent[]>();
  const watched = new Set<string>();

  function openRun(
    id: string,
    attributes: { agent: string; tenant?: string; parentId?: string; depth?: number },
    startTime: number,
    parent: Context,
  ): RunEntry {
    const span = tracer.startSpan(
      `${OPERATION.agent} ${attributes.agent}`,
      {
        kind: SpanKind.INTERNAL,
        startTime,
        attributes: compact({
          [GEN_AI.operationName]: OPERATION.agent,
          [GEN_AI.agentName]: attributes.agent,
          [GEN_AI.conversationId]: id,
          [FMGUARD.runId]: id,
          [FMGUARD.tenant]: attributes.tenant,
          [FMGUARD.parentRunId]: attributes.parentId,
          [FMGUARD.depth]: attributes.depth,
        }),
      },
      parent,
    );
    const entry = { span, context: trace.setSpan(parent, span), agent: attributes.agent };
    runs.set(id, entry);
    return entry;
  }

  /** The run's span; one started late (a run resumed from another process) when none is open. */
  function runEntry(id: string | undefined, agent: string | undefined, tenant: string | undefined, at: number): RunEntry | undefined {
    if (id === undefined) return undefined;
    return runs.get(id) ?? ended.get(id) ?? openRun(id, { agent: agent ?? 'unknown', tenant }, at, context.active());
  }

  function closeRun(id: string, at: number, stop?: { code: string; reason: string }): void {
    const entry = runs.get(id);
    if (!entry) return;
    runs.delete(id);
    ended.set(id, entry);
    if (ended.size > ENDED_RUNS_KEPT) ended.delete(ended.keys().next().value!);
    for (const key of retries.keys()) if (key.startsWith(`${id}|`)) retries.delete(key);
    if (stop) {
      entry.span.setAttributes({ [FMGUARD.stopCode]: stop.code, [ERROR_TYPE]: stop.code, [FMGUARD.decision]: 'stopped' });
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: `${stop.code}: ${stop.reason}` });
    }
    entry.span.end(at);
  }

  function takeRetries(event: CallEvent, start: number): RetryEvent[] {
    const key = `${event.runId}|${event.action}`;
    const pending = retries.get(key);
    if (!pending) return [];
    const mine = pending.filter((r) => r.at >= start && r.at <= event.at);
    const rest = pending.filter((r) => !mine.includes(r));
    if (rest.length > 0) retries.set(key, rest);
    else retries.delete(key);
    return mine;
  }

  function providerName(model: string): string | undefined {
    const provider = guard.config.models[model]?.provider;
    const kind = provider ? guard.config.providers[provider]?.kind : undefined;
    return kind ? PROVIDER_NAMES[kind] : undefined;
  }

  function callSpan(event: CallEvent): void {
    const latency = event.type === 'call.refused' ? 0 : event.latencyMs;
    const start = event.at - latency;
    const run = runEntry(event.runId, event.agent, event.tenant, start);
    const model = event.action === 'invokeModel';
    const operation = model ? OPERATION.chat : OPERATION.tool;
    const attributes: Attributes = {
      [GEN_AI.operationName]: operation,
      [FMGUARD.decision]: event.type === 'call.allowed' ? 'allowed' : event.type === 'call.refused' ? 'refused' : 'failed',
      [FMGUARD.runId]: event.runId,
      [GEN_AI.agentName]: event.agent,
      [FMGUARD.tenant]: event.tenant,
    };
    if (model) {
      const served = event.type === 'call.allowed' && event.servedBy ? event.servedBy : event.resource;
      Object.assign(attributes, {
        [GEN_AI.requestModel]: event.resource,
        [GEN_AI.responseModel]: event.type === 'call.refused' ? undefined : served,
        [GEN_AI.providerName]: providerName(served),
      });
    } else attributes[GEN_AI.toolName] = event.resource;
    if (event.type !== 'call.refused') {
      attributes[FMGUARD.attempts] = event.attempts;
      attributes[FMGUARD.costUsd] = event.costUsd;
      if (event.usage && model) {
        attributes[GEN_AI.inputTokens] = event.usage.inputTokens;
        attributes[GEN_AI.outputTokens] = event.usage.outputTokens;
        if (event.usage.cachedInputTokens !== undefined) attributes[FMGUARD.cachedInputTokens] = event.usage.cachedInputTokens;
      }
    }
    if (event.type === 'call.allowed') {
      if (event.servedBy) attributes[FMGUARD.servedBy] = event.servedBy;
      if (event.maxTokens !== undefined && model) attributes[GEN_AI.requestMaxTokens] = event.maxTokens;
      if (event.streamed !== undefined && model) attributes[FMGUARD.streamed] = event.streamed;
    } else {
      attributes[FMGUARD.stopCode] = event.code;
      attributes[ERROR_TYPE] = event.code;
    }
    const span = tracer.startSpan(
      `${operation} ${event.resource}`,
      { kind: model ? SpanKind.CLIENT : SpanKind.INTERNAL, startTime: start, attributes: compact(attributes) },
      run?.context ?? context.active(),
    );
    for (const retry of takeRetries(event, start)) {
      span.addEvent('fmguard.retry', { 'fmguard.retry.attempt': retry.attempt, [ERROR_TYPE]: retry.code, 'fmguard.retry.delay_ms': retry.delayMs }, retry.at);
    }
    if (event.type !== 'call.allowed') span.setStatus({ code: SpanStatusCode.ERROR, message: `${event.code}: ${event.message}` });
    span.end(event.at);
  }

  function onEvent(event: GuardEvent): void {
    switch (event.type) {
      case 'run.started': {
        const { run } = event;
        const parent = run.parentId ? (runs.get(run.parentId) ?? ended.get(run.parentId))?.context : undefined;
        if (!runs.has(run.id) && !ended.has(run.id))
          openRun(run.id, { agent: run.agent, tenant: run.tenant, parentId: run.parentId, depth: run.depth }, run.startedAt, parent ?? context.active());
        return;
      }
      case 'run.stopped':
        // Already closed when the run was watched (its signal fired first).
        closeRun(event.runId, event.at, { code: event.code, reason: event.reason });
        return;
      case 'retry': {
        if (event.runId === undefined) return;
        const key = `${event.runId}|${event.action}`;
        const pending = retries.get(key) ?? [];
        pending.push(event);
        retries.set(key, pending);
        return;
      }
      case 'call.allowed':
      case 'call.refused':
      case 'call.failed':
        callSpan(event);
        return;
      case 'kill':
        if (event.on && event.scope.startsWith('run:'))
          runs.get(event.scope.slice(4))?.span.addEvent('fmguard.kill', { 'fmguard.kill.scope': event.scope }, event.at);
        return;
      default:
        return;
    }
  }

  const unsubscribe = guard.on(onEvent);

  function watch(run: Run): Run {
    if (watched.has(run.id)) return run;
    watched.add(run.id);
    if (!runs.has(run.id) && !ended.has(run.id))
      openRun(
        run.id,
        { agent: run.agent, tenant: run.tenant, parentId: run.parentId, depth: run.depth },
        guard.clock.now(),
        (run.parentId && (runs.get(run.parentId) ?? ended.get(run.parentId))?.context) || context.active(),
      );
    const onAbort = () => {
      watched.delete(run.id);
      const reason: unknown = run.signal.reason;
      // A run is stopped only by a terminal code; `request.invalid` is the mark of a normal end.
      if (GuardError.isInstance(reason) && reason.code !== 'request.invalid')
        closeRun(run.id, guard.clock.now(), { code: reason.code, reason: reason.message });
      else closeRun(run.id, guard.clock.now());
    };
    if (run.signal.aborted) onAbort();
    else run.signal.addEventListener('abort', onAbort, { once: true });
    return run;
  }

  // The guard reports no event when a run ends normally; watching the runs it starts (sub-runs and the
  // gateway's included, which go through startRun too) is how their spans end.
  const startRun = guard.startRun;
  const ownStartRun = Object.hasOwn(guard, 'startRun');
  const instrumented = async (options: StartRunOptions) => watch(await startRun.call(guard, options));
  guard.startRun = instrumented;

  return {
    tracer,
    watch,
    shutdown() {
      unsubscribe();
      if (guard.startRun === instrumented) {
        if (ownStartRun) guard.startRun = startRun;
        else delete (guard as { startRun?: unknown }).startRun;
      }
      const now = guard.clock.now();
      for (const id of [...runs.keys()]) closeRun(id, now);
      watched.clear();
    },
  };
}

/** Attributes without the undefined ones. */
function compact(attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) out[key] = value;
  return out;
}
