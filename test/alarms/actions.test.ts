import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlarmEngine, type AlarmEvent } from '../../src/alarms/engine.ts';
import type { AlarmSpec } from '../../src/alarms/types.ts';
import { postWebhook } from '../../src/alarms/webhook.ts';
import { createBreakers } from '../../src/breakers/service.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createMetrics } from '../../src/metrics/recorder.ts';
import type { KillInfo, KillListener, KillScope } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createMemoryMetricStore } from '../../src/backends/memory/metrics.ts';
import { createMemoryBreakerStore } from '../../src/backends/memory/versioned.ts';

const T0 = Date.UTC(2026, 0, 1);

/** A KillStore-like fake that notifies subscribers, as the real one does. */
function fakeKills() {
  const switches = new Map<KillScope, KillInfo>();
  const listeners = new Set<KillListener>();
  return {
    switches,
    async set(scope: KillScope, info: KillInfo) {
      switches.set(scope, info);
      for (const l of listeners) l(scope, info);
    },
    async clear(scope: KillScope) {
      switches.delete(scope);
      for (const l of listeners) l(scope, null);
    },
    subscribe(listener: KillListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

describe('cost alarm on a tenant', () => {
  it('kills the tenant: its runs in flight stop, other tenants carry on', async () => {
    const clock = new FakeClock(T0);
    const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
    const kills = fakeKills();
    const events: AlarmEvent[] = [];
    const engine = createAlarmEngine({
      clock,
      metrics,
      actions: { kills, audit: (e) => void events.push(e) },
      alarms: [
        {
          name: 'acme-spend',
          scope: 'tenant:acme',
          metric: 'cost_usd',
          statistic: 'Sum',
          period: '1m',
          evaluationPeriods: 1,
          comparison: 'GreaterThanThreshold',
          threshold: 1,
          treatMissingData: 'notBreaching',
          actions: [{ kill: { reason: 'acme spent more than $1 in a minute' } }],
        },
      ],
    });
    // Runs in flight, stopped the way the runtime stops them: an abort on a kill of their scope.
    const runs = ['acme:r1', 'acme:r2', 'globex:r3'].map((id) => ({ id, tenant: id.split(':')[0], controller: new AbortController() }));
    kills.subscribe((scope, info) => {
      for (const run of runs) if (info && scope === `tenant:${run.tenant}`) run.controller.abort(info.reason);
    });
    engine.start();
    // Every second each live run makes a call costing $0.02 → $2.40/min for acme.
    for (let s = 0; s < 70; s++) {
      for (const run of runs) {
        if (!run.controller.signal.aborted)
          metrics.record({ tenant: run.tenant, agent: 'bot', model: 'sim-small', provider: 'sim', outcome: 'success', costUsd: 0.02 });
      }
      await clock.advance(1_000);
      await engine.idle();
    }
    expect(engine.status('acme-spend')!.state).toBe('ALARM');
    expect(kills.switches.get('tenant:acme')).toEqual({ reason: 'acme spent more than $1 in a minute', by: 'alarm:acme-spend', at: T0 + 60_000 });
    expect(runs.map((r) => [r.id, r.controller.signal.aborted])).toEqual([
      ['acme:r1', true],
      ['acme:r2', true],
      ['globex:r3', false],
    ]);
    expect(events.map((e) => (e.type === 'alarm.state' ? `${e.from}→${e.to}` : `${e.action} ${e.target} ${e.ok}`))).toEqual([
      'INSUFFICIENT_DATA→ALARM',
      'kill tenant:acme true',
    ]);
    await engine.stop();
  });
});

describe('closeOnOk', () => {
  it('on OK, closes the breakers and clears the kills this alarm set, and runs okActions', async () => {
    const clock = new FakeClock(T0);
    const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
    const kills = fakeKills();
    const breakers = createBreakers({ clock, store: createMemoryBreakerStore() });
    const engine = createAlarmEngine({
      clock,
      metrics,
      actions: { kills, breakers },
      alarms: [
        {
          name: 'slow',
          scope: 'model:big',
          metric: 'latency_ms',
          statistic: 'p90',
          period: '10s',
          evaluationPeriods: 1,
          comparison: 'GreaterThanThreshold',
          threshold: 1_000,
          treatMissingData: 'notBreaching',
          closeOnOk: true,
          actions: [{ openBreaker: { cooldown: '10m' } }, { kill: { scope: 'agent:bot' } }],
          okActions: [{ closeBreaker: { scope: 'provider:other' } }],
        },
      ],
    });
    await breakers.open('provider:other', { by: 'operator:ann', reason: 'test' });
    for (let i = 0; i < 10; i++) metrics.record({ model: 'big', outcome: 'success', latencyMs: 5_000 });
    await engine.tick(T0 + 10_000);
    expect(engine.status('slow')!.state).toBe('ALARM');
    expect((await breakers.get('model:big')).kind).toBe('open');
    expect(kills.switches.has('agent:bot')).toBe(true);
    clock.set(T0 + 10_000);
    for (let i = 0; i < 10; i++) metrics.record({ model: 'big', outcome: 'success', latencyMs: 50 });
    await engine.tick(T0 + 20_000);
    expect(engine.status('slow')!.state).toBe('OK');
    expect((await breakers.get('model:big')).kind).toBe('closed');
    expect(kills.switches.has('agent:bot')).toBe(false);
    expect((await breakers.get('provider:other')).kind).toBe('closed');
  });
});

describe('evaluation cadence', () => {
  it('evaluates 10 s alarms every 10 s and 1 min alarms every minute, on the injected clock', async () => {
    const clock = new FakeClock(T0);
    const alarm = (name: string, period: string): AlarmSpec => ({
      name,
      scope: 'global',
      metric: 'calls',
      period,
      evaluationPeriods: 1,
      comparison: 'GreaterThanThreshold',
      threshold: 0,
    });
    const seen: Record<string, number[]> = { fast: [], slow: [], mid: [] };
    const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
    const engine = createAlarmEngine({
      clock,
      metrics: {
        series: async (q) => {
          seen[q.periodMs === 10_000 ? 'fast' : q.periodMs === 30_000 ? 'mid' : 'slow'].push(q.end - T0);
          return metrics.series(q);
        },
      },
      alarms: [alarm('fast', '10s'), alarm('mid', '30s'), alarm('slow', '2m')],
    });
    engine.start();
    await clock.advance(125_000);
    await engine.idle();
    expect(seen.fast).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120].map((s) => s * 1000));
    expect(seen.mid).toEqual([0, 0, 30, 30, 30, 60, 60, 60, 90, 90, 90, 120].map((s) => s * 1000));
    expect(seen.slow).toEqual([0, 120_000]);
    await engine.stop();
    expect(clock.pending).toBe(0);
  });
});

describe('engine validation', () => {
  it('fails at startup with every problem named', () => {
    const clock = new FakeClock(T0);
    const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
    expect(() =>
      createAlarmEngine({
        clock,
        metrics,
        alarms: [
          {
            name: 'x',
            scope: 'provider:sim',
            metric: 'error_rate',
            period: '15s',
            evaluationPeriods: 1,
            comparison: 'GreaterThanThreshold',
            threshold: 0,
            actions: [{ openBreaker: {} }],
          },
        ],
        composites: [{ name: 'y', rule: 'ALARM(z)' }],
      }),
    ).toThrow(/alarms\[0\]\.period: .*composites\[0\]\.rule: unknown alarm "z".*actions\.breakers: alarms open or close breakers but no breakers were given/);
  });
});

describe('webhook action', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A real local HTTP server; `respond` decides each request's fate. */
  async function listen(respond: (n: number, req: IncomingMessage, body: string, res: ServerResponse) => void) {
    let n = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => respond(++n, req, body, res));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }

  it('retries 5xx a bounded number of times, then succeeds', async () => {
    const url = await listen((n, _req, _body, res) => res.writeHead(n < 3 ? 503 : 200).end('ok'));
    expect(await postWebhook({ url, body: { a: 1 }, retries: 2, retryDelayMs: 5, clock: systemClock })).toEqual({ ok: true, status: 200, attempts: 3 });
  });

  it('gives up after the retries and reports why', async () => {
    const url = await listen((_n, _req, _body, res) => res.writeHead(500).end());
    expect(await postWebhook({ url, body: {}, retries: 2, retryDelayMs: 5, clock: systemClock })).toEqual({
      ok: false,
      attempts: 3,
      status: 500,
      error: 'HTTP 500',
    });
  });

  it('does not retry a 4xx other than 408/429', async () => {
    const url = await listen((_n, _req, _body, res) => res.writeHead(404).end());
    expect(await postWebhook({ url, body: {}, retries: 3, retryDelayMs: 5, clock: systemClock })).toEqual({
      ok: false,
      attempts: 1,
      status: 404,
      error: 'HTTP 404',
    });
  });

  it('bounds each attempt in time (a server that never answers)', async () => {
    const url = await listen(() => {}); // never responds
    const started = Date.now();
    const result = await postWebhook({ url, body: {}, timeoutMs: 150, retries: 1, retryDelayMs: 5, clock: systemClock });
    expect(result).toEqual({ ok: false, attempts: 2, error: 'timed out after 150 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('is fired on ALARM without blocking the evaluation, and its outcome is audited', async () => {
    const received: Array<{ body: unknown; headers: IncomingMessage['headers'] }> = [];
    let release: () => void = () => {};
    const answered = new Promise<void>((resolve) => (release = resolve));
    const url = await listen((_n, req, body, res) => {
      received.push({ body: JSON.parse(body), headers: req.headers });
      void answered.then(() => res.writeHead(204).end());
    });
    const clock = new FakeClock(T0);
    const metrics = createMetrics({ clock, store: createMemoryMetricStore() });
    const events: AlarmEvent[] = [];
    const engine = createAlarmEngine({
      clock,
      metrics,
      actions: { audit: (e) => void events.push(e) },
      alarms: [
        {
          name: 'errors',
          scope: 'provider:sim',
          metric: 'errors',
          period: '10s',
          evaluationPeriods: 1,
          comparison: 'GreaterThanOrEqualToThreshold',
          threshold: 1,
          actions: [{ webhook: { url, headers: { authorization: 'Bearer t' }, timeout: '5s', retries: 1 } }],
        },
      ],
    });
    metrics.record({ provider: 'sim', outcome: 'error', code: 'upstream.error' });
    await engine.tick(T0 + 10_000); // resolves although the server has not answered
    expect(engine.status('errors')!.state).toBe('ALARM');
    await new Promise<void>((resolve) => {
      const wait = () => (received.length > 0 ? resolve() : setTimeout(wait, 5));
      wait();
    });
    expect(events.some((e) => e.type === 'alarm.action')).toBe(false);
    expect(received[0].body).toEqual({
      alarm: 'errors',
      kind: 'metric',
      scope: 'provider:sim',
      from: 'INSUFFICIENT_DATA',
      to: 'ALARM',
      reason: expect.stringContaining('breached'),
      at: new Date(T0 + 10_000).toISOString(),
    });
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].headers.authorization).toBe('Bearer t');
    release();
    await engine.idle();
    expect(events.at(-1)).toMatchObject({ type: 'alarm.action', action: 'webhook', target: url, ok: true, attempts: 1 });
  });
});
