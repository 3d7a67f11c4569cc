import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instrumentGuard } from '../../src/adapters/otel/index.ts';
import { ask, closeAll, gatewayConfig, startGateway } from './helpers.ts';

/**
 * The gateway continues an incoming W3C traceparent (when an OpenTelemetry SDK is registered): the
 * run's spans join the caller's trace and the upstream model request carries it on. An OpenAI-shaped
 * upstream of our own records the headers it receives.
 */
const incoming = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const traceparent = `00-${incoming.traceId}-${incoming.spanId}-01`;
const seen: IncomingHttpHeaders[] = [];
let upstream: Server;
let upstreamUrl = '';

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 1,
          model: 'up',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  context.disable();
  propagation.disable();
  await new Promise((resolve) => upstream.close(resolve));
});
afterEach(async () => {
  seen.length = 0;
  await closeAll();
});

function start() {
  const config = gatewayConfig({}, { providers: { sim: { kind: 'openai', baseUrl: `${upstreamUrl}/v1` } } });
  return startGateway({ config, guard: { providers: {} } });
}

describe('gateway trace context', () => {
  it('without an OpenTelemetry SDK, upstream requests carry no traceparent', async () => {
    const gw = await start();
    const res = await gw.post(ask('hello'), { traceparent });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.traceparent).toBeUndefined();
  });

  it('with one registered, the run joins the caller’s trace and the upstream request continues it', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
    const gw = await start();
    const tracing = instrumentGuard(gw.guard, { tracer });
    const ended = new Promise<void>((resolve) => gw.guard.on((event) => event.type === 'run.ended' && resolve()));
    const res = await gw.post(ask('hello'), { traceparent });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const sent = String(seen[0]!.traceparent);
    expect(sent.split('-')[1]).toBe(incoming.traceId);
    // Without a gateway span of its own, the upstream hop names the caller's span as its parent.
    expect(sent.split('-')[2]).toBe(incoming.spanId);
    await ended;
    tracing.shutdown();
    const runSpan = exporter.getFinishedSpans().find((s) => s.name.startsWith('invoke_agent'));
    expect(runSpan?.spanContext().traceId).toBe(incoming.traceId);
  });
});
