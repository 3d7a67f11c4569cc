import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGuard, GuardError, otel, rejection, type ConfigInput, type Guard } from './helpers.ts';

const { instrumentGuard, extractTraceContext, injectTraceContext, withIncomingTrace, withTraceHeaders } = otel;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('fmguard-test');

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

const guards: Guard[] = [];
afterEach(async () => {
  for (const guard of guards.splice(0)) await guard.close();
  exporter.reset();
});

/** Two simulated models, the first falling back to the second; upstream errors retried twice. */
function tracedConfig(): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: {
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, fallbacks: ['sim-backup'] },
      'sim-backup': { provider: 'sim', inputPerMTok: 0.3, outputPerMTok: 1.2 },
    },
    tenants: { acme: {} },
    agents: {
      planner: {
        tenant: 'acme',
        allow: { models: ['*'], tools: ['demo.search'] },
        retry: [{ errorEquals: ['upstream.error'], intervalMs: 1, maxAttempts: 2 }],
        // The researcher's runs may be sub-runs of the planner's.
        delegatesTo: ['researcher'],
      },
      researcher: { tenant: 'acme', allow: { models: ['*'], tools: ['demo.search'] } },
    },
  } as ConfigInput;
}

const ask = (text: string, model = 'sim-small') => ({ model, messages: [{ role: 'user' as const, content: text }] });

function byName(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

describe('fmguard/otel: the span tree of a run', () => {
  it('has run, sub-run, model and tool spans with the GenAI attributes, retries, a fallback and a stop', async () => {
    const guard = createGuard({ config: tracedConfig(), random: () => 0 });
    guards.push(guard);
    const tracing = instrumentGuard(guard, { tracer });

    const parent = await guard.startRun({ agent: 'planner' });
    await parent.callModel(ask('Plan the work.'));
    // Every attempt fails: one call, three attempts, two retries, then upstream.error.
    await rejection(parent.callModel(ask('[sim:fail 1 503] Hello?')));
    // The model's breaker opens: the next call is served by its fallback.
    await guard.breakers.open('model:sim-small', { by: 'test', reason: 'maintenance', cooldownMs: null });
    await parent.callModel(ask('Plan again.'));
    await guard.breakers.close('model:sim-small', { by: 'test', reason: 'back' });

    const child = await parent.subRun({ agent: 'researcher' });
    await child.callModel(ask('[sim:tool_call search] Find the refund policy.'));
    await child.callTool({ tool: 'demo.search', args: { query: 'refunds' }, execute: async () => 'found 3' });
    await rejection(child.callTool({ tool: 'demo.delete_file', args: { path: '/' }, execute: async () => 'deleted' }));
    await child.end();

    // A kill stops the parent run.
    await guard.kill(`run:${parent.id}`, 'operator pressed stop');
    await rejection(parent.callModel(ask('Anything else?')));
    tracing.shutdown();

    const spans = exporter.getFinishedSpans();
    const [parentSpan] = byName(spans, 'invoke_agent planner');
    const [childSpan] = byName(spans, 'invoke_agent researcher');
    expect(parentSpan).toBeDefined();
    expect(childSpan).toBeDefined();
    // The sub-run is a child span of its parent run's span, in the same trace.
    expect(parentOf(childSpan!)).toBe(parentSpan!.spanContext().spanId);
    expect(childSpan!.spanContext().traceId).toBe(parentSpan!.spanContext().traceId);
    expect(parentSpan!.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'planner',
      'fmguard.run.id': parent.id,
      'fmguard.stop_code': 'kill.switch',
      'error.type': 'kill.switch',
    });
    expect(parentSpan!.status.code).toBe(2); // ERROR
    expect(childSpan!.attributes).toMatchObject({ 'fmguard.run.id': child.id, 'fmguard.run.parent_id': parent.id, 'fmguard.run.depth': 1 });
    expect(childSpan!.status.code).toBe(0); // ended normally

    const parentChats = spans.filter((s) => s.name.startsWith('chat ') && parentOf(s) === parentSpan!.spanContext().spanId);
    expect(parentChats).toHaveLength(4);
    const [ok, failed, fallback, refused] = parentChats.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
    expect(ok!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'sim-small',
      'gen_ai.response.model': 'sim-small',
      'fmguard.decision': 'allowed',
      'fmguard.attempts': 1,
    });
    expect(ok!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(ok!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(ok!.attributes['fmguard.cost_usd']).toBeGreaterThan(0);
    expect(ok!.kind).toBe(2); // CLIENT

    expect(failed!.attributes).toMatchObject({
      'fmguard.decision': 'failed',
      'fmguard.attempts': 3,
      'error.type': 'upstream.error',
      'fmguard.stop_code': 'upstream.error',
    });
    expect(failed!.status.code).toBe(2);
    expect(failed!.events.filter((e) => e.name === 'fmguard.retry').map((e) => e.attributes?.['fmguard.retry.attempt'])).toEqual([1, 2]);

    expect(fallback!.attributes).toMatchObject({
      'gen_ai.request.model': 'sim-small',
      'gen_ai.response.model': 'sim-backup',
      'fmguard.served_by': 'sim-backup',
      'fmguard.decision': 'allowed',
    });
    expect(refused!.attributes).toMatchObject({ 'fmguard.decision': 'refused', 'error.type': 'kill.switch' });

    const childChildren = spans.filter((s) => parentOf(s) === childSpan!.spanContext().spanId);
    expect(childChildren.map((s) => s.name).sort()).toEqual(['chat sim-small', 'execute_tool demo.delete_file', 'execute_tool demo.search']);
    const [search] = byName(childChildren, 'execute_tool demo.search');
    expect(search!.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'demo.search',
      'fmguard.decision': 'allowed',
      'gen_ai.agent.name': 'researcher',
    });
    const [denied] = byName(childChildren, 'execute_tool demo.delete_file');
    expect(denied!.attributes).toMatchObject({ 'fmguard.decision': 'refused', 'error.type': 'policy.denied' });
    expect(denied!.status.code).toBe(2);
  });

  it('a call cut by a stop still lands under its run’s span', async () => {
    const guard = createGuard({ config: tracedConfig() });
    guards.push(guard);
    const tracing = instrumentGuard(guard, { tracer });
    const run = await guard.startRun({ agent: 'planner' });
    const stream = await run.streamModel(ask('[sim:stall 3] Tell me a story.'));
    const reading = rejection(
      (async () => {
        for await (const _chunk of stream);
      })(),
    );
    await guard.kill(`run:${run.id}`, 'stop');
    expect(GuardError.isInstance(await reading)).toBe(true);
    tracing.shutdown();
    const spans = exporter.getFinishedSpans();
    const runSpans = byName(spans, 'invoke_agent planner');
    expect(runSpans).toHaveLength(1);
    const [chat] = byName(spans, 'chat sim-small');
    expect(parentOf(chat!)).toBe(runSpans[0]!.spanContext().spanId);
    expect(chat!.attributes).toMatchObject({ 'fmguard.decision': 'failed', 'error.type': 'kill.switch' });
  });
});

describe('fmguard/otel: W3C trace context', () => {
  const incoming = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
  const traceparent = `00-${incoming.traceId}-${incoming.spanId}-01`;

  it('a run started inside an incoming request’s context continues its trace', async () => {
    const guard = createGuard({ config: tracedConfig() });
    guards.push(guard);
    const tracing = instrumentGuard(guard, { tracer });
    const run = await withIncomingTrace({ traceparent }, () => guard.startRun({ agent: 'planner' }));
    await run.callModel(ask('hi'));
    await run.end();
    tracing.shutdown();
    const [runSpan] = byName(exporter.getFinishedSpans(), 'invoke_agent planner');
    expect(runSpan!.spanContext().traceId).toBe(incoming.traceId);
    expect(parentOf(runSpan!)).toBe(incoming.spanId);
  });

  it('the context extracted from headers is injected into upstream headers', () => {
    const extracted = extractTraceContext({ traceparent, tracestate: 'vendor=1' });
    expect(trace.getSpanContext(extracted)?.traceId).toBe(incoming.traceId);
    const span = tracer.startSpan('gateway request', {}, extracted);
    const headers: Record<string, string> = injectTraceContext({ 'content-type': 'application/json' }, trace.setSpan(extracted, span));
    span.end();
    expect(headers.traceparent).toBe(`00-${incoming.traceId}-${span.spanContext().spanId}-01`);
    expect(headers.tracestate).toBe('vendor=1');
  });

  it('withTraceHeaders leaves the headers untouched without a trace, and copies them with one', () => {
    const headers = { authorization: 'Bearer x' };
    expect(withTraceHeaders(headers)).toBe(headers);
    const extracted = extractTraceContext({ traceparent });
    const traced = withTraceHeaders(headers, extracted);
    expect(traced).not.toBe(headers);
    expect(headers).toEqual({ authorization: 'Bearer x' });
    expect((traced as Record<string, string>).traceparent).toBe(traceparent);
  });
});
