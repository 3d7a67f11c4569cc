/**
 * What the Guard constructor wires: breaker changes reported as events, the hooks the alarm engine
 * acts through (kill switches, events), when the alarm engine starts, the kill switches set before the
 * guard started (and a failed first read), listeners, the retry options call flows get, providers
 * missing from the build.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, createSimModel, parseConfig, ProviderError, type GuardEvent, type ModelProvider } from '../../src/index.ts';
import type { AlarmEngine } from '../../src/alarms/index.ts';
import { type AlarmHooks, Guard } from '../../src/runtime/guard.ts';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.ts';
import { openBreakers, openMetrics } from '../../src/wiring/resilience.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);

/** A guard built by hand, so the test holds the alarm hooks and can give it any providers. */
function handBuilt(options: { alarms?: AlarmEngine; background?: boolean; providers?: Record<string, ModelProvider> } = {}) {
  const config = parseConfig(baseConfig());
  const clock = new FakeClock(T0);
  const store = createMemoryStore();
  let hooks!: AlarmHooks;
  const guard = new Guard({
    config,
    store,
    ownsStore: true,
    clock,
    providers: options.providers ?? { sim: createSimModel({ clock }) },
    ownedProviders: [],
    approvals: store.approvals,
    metrics: openMetrics(config, store, clock),
    authorizer: () => undefined as never,
    breakers: (onChange) => openBreakers(config, store, clock, onChange),
    alarms: (h) => {
      hooks = h;
      return options.alarms;
    },
    listeners: [],
    background: options.background,
  });
  const events: GuardEvent[] = [];
  guard.on((e) => events.push(e));
  return { guard, hooks, events, store, clock };
}

function fakeAlarmEngine() {
  const state = { started: 0 };
  const engine = { start: () => void state.started++, stop: async () => {} } as unknown as AlarmEngine;
  return { engine, state };
}

describe('the alarm engine’s hooks', () => {
  it('a kill set through them stops the scope’s runs at once and is stored; a clear lets new runs call again', async () => {
    const { guard, hooks, events, store } = handBuilt();
    const run = await guard.startRun({ agent: 'bot' });
    await hooks.kills.set('agent:bot', { reason: 'error rate', by: 'alarm:errors', at: T0 });
    expect(run.signal.aborted).toBe(true);
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', message: 'stopped by the kill switch on agent:bot: error rate' });
    expect((await store.kills.list()).get('agent:bot')).toMatchObject({ reason: 'error rate', by: 'alarm:errors' });
    expect(events.filter((e) => e.type === 'kill')).toEqual([{ type: 'kill', at: T0, scope: 'agent:bot', on: true, reason: 'error rate', by: 'alarm:errors' }]);

    await hooks.kills.clear('agent:bot');
    expect((await store.kills.list()).has('agent:bot')).toBe(false);
    const next = await guard.startRun({ agent: 'bot' });
    await expect(next.callModel(ask('fine again'))).resolves.toBeDefined();
    expect(events.filter((e) => e.type === 'kill').at(-1)).toEqual({ type: 'kill', at: T0, scope: 'agent:bot', on: false });
    await guard.close();
  });

  it('an event the alarm engine emits reaches the guard’s listeners', async () => {
    const { guard, hooks, events } = handBuilt();
    const changed: GuardEvent = { type: 'alarm.changed', at: T0, alarm: 'errors', from: 'OK', to: 'ALARM', reason: 'threshold crossed' };
    hooks.emit(changed);
    expect(events).toEqual([changed]);
    await guard.close();
  });

  it('the engine starts by default when there is one, not when background is false', async () => {
    const on = fakeAlarmEngine();
    await handBuilt({ alarms: on.engine }).guard.close();
    expect(on.state.started).toBe(1);
    const off = fakeAlarmEngine();
    await handBuilt({ alarms: off.engine, background: false }).guard.close();
    expect(off.state.started).toBe(0);
  });

  it('background: true without any alarm engine is accepted', async () => {
    const guard = createGuard({ config: baseConfig(), background: true, audit: false });
    expect(guard.alarms).toBeUndefined();
    await guard.close();
  });
});

describe('events', () => {
  it('a breaker change is reported as breaker.changed with who and why', async () => {
    const clock = new FakeClock(T0);
    const guard = createGuard({ config: baseConfig(), clock, store: createMemoryStore(), audit: false });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    await guard.breakers.open('model:sim-small', { by: 'operator', reason: 'maintenance' });
    expect(events.filter((e) => e.type === 'breaker.changed')).toEqual([
      { type: 'breaker.changed', at: T0, scope: 'model:sim-small', from: 'closed', to: 'open', reason: 'operator: maintenance' },
    ]);
    await guard.close();
  });

  it('an unsubscribed listener hears nothing more; a throwing listener changes no decision', async () => {
    const guard = createGuard({ config: baseConfig(), audit: false });
    const heard: string[] = [];
    const off = guard.on((e) => heard.push(e.type));
    guard.on(() => {
      throw new Error('listener bug');
    });
    const run = await guard.startRun({ agent: 'bot' });
    off();
    await expect(run.callModel(ask('hello'))).resolves.toBeDefined();
    expect(heard).toEqual(['run.started']);
    await guard.close();
  });
});

describe('kill switches set before the guard started', () => {
  it('are read at start: a new run under one is refused its calls', async () => {
    const store = createMemoryStore();
    await store.kills.set('agent:bot', { reason: 'set yesterday', by: 'operator', at: T0 - 1 });
    const guard = createGuard({ config: baseConfig(), store, audit: false });
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({
      code: 'kill.switch',
      message: 'stopped by the kill switch on agent:bot: set yesterday',
      details: { scope: 'agent:bot' },
    });
    await guard.close();
  });

  it('a kill set here while the first read is in flight is not overwritten by that (older) read', async () => {
    const store = createMemoryStore();
    await store.kills.set('agent:bot', { reason: 'old', by: 'operator', at: T0 - 1 });
    const list = store.kills.list.bind(store.kills);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    store.kills.list = async () => {
      const snapshot = await list();
      await gate;
      return snapshot;
    };
    const guard = createGuard({ config: baseConfig(), store, audit: false, clock: new FakeClock(T0) });
    await flushMicrotasks();
    await guard.kill('agent:bot', 'new');
    release();
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', message: 'stopped by the kill switch on agent:bot: new' });
    await guard.close();
  });

  it('a failed first read is made again by the next run (which fails closed until a read succeeds)', async () => {
    const store = createMemoryStore();
    await store.kills.set('agent:bot', { reason: 'set before', by: 'operator', at: T0 - 1 });
    const list = store.kills.list.bind(store.kills);
    let failures = 2;
    store.kills.list = async () => {
      if (failures-- > 0) throw new Error('store away');
      return list();
    };
    const guard = createGuard({ config: baseConfig(), store, audit: false });
    await expect(guard.startRun({ agent: 'bot' })).rejects.toMatchObject({ code: 'store.unavailable', message: 'run state could not be read: store away' });
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch', details: { scope: 'agent:bot' } });
    await guard.close();
  });
});

describe('what the call flows get', () => {
  it('a provider missing from the build refuses the call with upstream.error naming it', async () => {
    const { guard } = handBuilt({ providers: {} });
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({
      code: 'upstream.error',
      message: 'provider "sim" is not available in this build',
      details: { provider: 'sim' },
    });
    await guard.close();
  });

  it('model retries wait the provider’s retry-after only up to defaults.maxRetryAfterMs; tool retries draw their jitter from the guard’s random', async () => {
    const clock = new FakeClock(T0);
    const sim = createSimModel({ clock });
    let failed = 0;
    const once: ModelProvider = {
      name: 'sim',
      complete: async (req, opts) => {
        if (failed++ === 0) throw new ProviderError('busy', { status: 503, retryAfterMs: 10_000 });
        return sim.complete(req, opts);
      },
      stream: (req, opts) => sim.stream(req, opts),
    };
    const retry = [{ errorEquals: ['upstream.error'], intervalMs: 10, maxAttempts: 1, backoffRate: 1 }];
    const toolRetry = [{ errorEquals: ['upstream.error'], intervalMs: 1000, maxAttempts: 1, jitter: 'full' }];
    const config = baseConfig({ retry }, {
      defaults: { retry: [], maxRetryAfterMs: 2000 },
      toolServers: { crm: { kind: 'http', url: 'https://crm.example/mcp', tools: { lookup: { idempotent: true, retry: toolRetry } } } },
    } as never);
    const guard = createGuard({ config, clock, audit: false, providers: { sim: once }, random: () => 0.999 });
    const delays: number[] = [];
    guard.on((e) => {
      if (e.type === 'retry') delays.push(e.delayMs);
    });
    const run = await guard.startRun({ agent: 'bot' });
    const call = run.callModel(ask('x'));
    await clock.advance(2000);
    await call;
    expect(delays).toEqual([2000]);
    let tries = 0;
    const tool = run.callTool({
      tool: 'crm.lookup',
      args: {},
      execute: () => {
        if (tries++ === 0) throw new ProviderError('busy', { status: 503 });
        return { ok: true };
      },
    });
    // Full jitter: 1000 ms × 0.999.
    await clock.advance(998);
    expect(tries).toBe(1);
    await clock.advance(1);
    expect(tries).toBe(2);
    await expect(tool).resolves.toMatchObject({ result: { ok: true }, attempts: 2 });
    expect(delays).toEqual([2000]);
    await guard.close();
  });
});

describe('swapConfig: what changed', () => {
  it('names the sections that differ, sorted, and which of them apply only after a restart; the same config changes nothing', async () => {
    const guard = createGuard({ config: baseConfig(), audit: false });
    const authorizer = () => undefined as never;
    const next = parseConfig(baseConfig({ limits: { maxSteps: 3 } }, { server: { port: 9999 } } as never));
    const swapped = guard.swapConfig({ config: next, authorizer });
    expect([swapped.changed, swapped.restartOnly]).toEqual([['agents', 'server'], ['server']]);
    expect(guard.config).toBe(next);
    const again = guard.swapConfig({ config: parseConfig(baseConfig({ limits: { maxSteps: 3 } }, { server: { port: 9999 } } as never)), authorizer });
    expect([again.changed, again.restartOnly]).toEqual([[], []]);
    await guard.close();
  });
});
