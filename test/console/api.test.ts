import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accounts, ADMIN_TOKEN, refineLoop, startConsoleGateway, until, type ConsoleGateway } from './helpers.ts';

let gw: ConsoleGateway;
beforeAll(async () => {
  gw = await startConsoleGateway();
});
afterAll(() => gw?.close());

const ask = (text: string, model = 'sim-small') => ({ model, messages: [{ role: 'user' as const, content: text }] });

/** Read an SSE response's `data:` events as they come. */
function sseReader(res: Response) {
  const events: any[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
  })().catch(() => {});
  return { events, done, cancel: () => reader.cancel() };
}

describe('admin view routes', () => {
  it('GET /admin/events streams decisions as they happen (no arguments, no secrets)', async () => {
    const res = await fetch(`${gw.url}/admin/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = sseReader(res);
    await until(() => sse.events.some((e) => e.type === 'hello'), 5000, 'hello');
    await gw.client({ run: 'sse-run' }).chat.completions.create(ask('hello'));
    await gw.guard.kill('run:sse-run@bot', 'done watching', 'test');
    await until(() => sse.events.some((e) => e.type === 'run.stopped' && e.runId === 'sse-run@bot'), 5000, 'run.stopped');
    const types = sse.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.started', 'call.allowed', 'kill', 'run.stopped']));
    const call = sse.events.find((e) => e.type === 'call.allowed');
    expect(call).toMatchObject({ runId: 'sse-run@bot', agent: 'bot', tenant: 'acme', action: 'invokeModel', resource: 'sim-small' });
    expect(call.costUsd).toBeGreaterThan(0);
    expect(call).not.toHaveProperty('args');
    expect(sse.events.find((e) => e.type === 'run.stopped')).toMatchObject({ code: 'kill.switch' });
    await sse.cancel();
  });

  it('GET /admin/live/runs: server-side filters (tenant, agent, state, stop code), pages, counts and usage', async () => {
    // 120 runs through the store API: 80 of bot (40 stopped by kill.switch), 40 of other.
    const now = Date.now();
    for (let i = 0; i < 120; i++) {
      const agent = i < 80 ? 'bot' : 'other';
      const tenant = i < 80 ? 'acme' : 'beta';
      const id = `seed-${String(i).padStart(3, '0')}`;
      await gw.guard.store.runs.create({
        id,
        agent,
        tenant,
        ancestors: [],
        depth: 0,
        startedAt: now - 120_000 + i,
        deadline: now + 600_000,
        status: 'running',
      });
      if (i < 40) await gw.guard.store.runs.end(id, 'stopped', now, 'kill.switch', 'seeded');
    }
    await gw.guard.store.ledger.reserve({
      id: 'r-seed',
      charges: [{ key: accounts.run('seed-079'), dim: 'steps', amount: 7, code: 'limit.steps' }],
      expiresAt: now + 60_000,
      now,
    });
    await gw.guard.store.ledger.settle({ id: 'r-seed', actual: [7], now });

    const first = await gw.admin('GET', '/admin/live/runs?agent=bot&limit=25');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ page: 1, limit: 25 });
    expect(first.json.total).toBeGreaterThanOrEqual(80);
    expect(first.json.runs).toHaveLength(25);
    const seeded = first.json.runs.find((r: { id: string }) => r.id === 'seed-079');
    expect(seeded).toMatchObject({ agent: 'bot', status: 'running', usage: { steps: 7 }, limits: { maxSteps: 500, maxCostUsd: 5 } });
    // Newest first, and pages do not overlap.
    const second = await gw.admin('GET', '/admin/live/runs?agent=bot&limit=25&page=2');
    const ids = new Set(first.json.runs.map((r: { id: string }) => r.id));
    expect(second.json.runs.some((r: { id: string }) => ids.has(r.id))).toBe(false);
    expect(first.json.runs[0].startedAt).toBeGreaterThanOrEqual(first.json.runs[24].startedAt);

    const stopped = await gw.admin('GET', '/admin/live/runs?tenant=acme&state=stopped&code=kill.switch&limit=500');
    expect(stopped.json.runs.filter((r: { id: string }) => r.id.startsWith('seed-'))).toHaveLength(40);
    expect(stopped.json.runs.every((r: { status: string; stopCode: string }) => r.status === 'stopped' && r.stopCode === 'kill.switch')).toBe(true);
    const beta = await gw.admin('GET', '/admin/live/runs?tenant=beta&limit=500');
    expect(beta.json.counts).toEqual({ running: 40, stopped: 0, completed: 0 });
    expect(beta.json.facets.tenants).toEqual(['acme', 'beta']);

    for (const bad of ['state=sleeping', 'code=nope', 'page=0', 'limit=501']) {
      const res = await gw.admin('GET', `/admin/live/runs?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.json.error.code).toBe('request.invalid');
    }
  });

  it('GET /admin/runs/{id}/timeline: every decision in order with tokens, cost, latency and attempts; sub-runs as a tree', async () => {
    const parent = gw.client({ run: 'tl-parent' });
    await parent.chat.completions.create(ask('plan'));
    await gw.client({ run: 'tl-parent' }).chat.completions.create(ask('plan again', 'sim-pricey'));
    const child = await gw.guard.startRun({ agent: 'bot', id: 'tl-child', parentId: 'tl-parent' });
    await child.subRun({ id: 'tl-grandchild' });
    const res = await gw.admin('GET', '/admin/runs/tl-parent/timeline');
    expect(res.status).toBe(200);
    const { run, events, tree, usage, limits } = res.json;
    expect(run).toMatchObject({ id: 'tl-parent@bot', model: 'sim-pricey', status: 'running' });
    expect(usage.steps).toBe(2);
    expect(limits.maxSteps).toBe(500);
    expect(events.map((e: { type: string }) => e.type)).toEqual(['run.started', 'call.allowed', 'call.allowed']);
    expect(events[1]).toMatchObject({ action: 'invokeModel', resource: 'sim-small', details: { attempts: 1 } });
    expect(events[1].usage.inputTokens).toBeGreaterThan(0);
    expect(events[1].costUsd).toBeGreaterThan(0);
    expect(typeof events[1].details.latencyMs).toBe('number');
    expect(events[0]).not.toHaveProperty('hash');
    expect(tree).toMatchObject({ id: 'tl-parent@bot', children: [{ id: 'tl-child@bot', children: [{ id: 'tl-grandchild@bot', children: [] }] }] });
    // From a sub-run, the tree is the same family.
    expect((await gw.admin('GET', '/admin/runs/tl-grandchild/timeline')).json.tree.id).toBe('tl-parent@bot');
    expect((await gw.admin('GET', '/admin/runs/nope/timeline')).status).toBe(404);
  });

  it('a timeline shows a fallback: the call asked for one model and was served by another', async () => {
    await gw.admin('POST', '/admin/breakers/model%3Asim-mini/open', { by: 'test', cooldownMs: null });
    await gw.client({ run: 'tl-fallback' }).chat.completions.create(ask('hello', 'sim-mini'));
    await gw.admin('POST', '/admin/breakers/model%3Asim-mini/close', { by: 'test' });
    const { run, events } = (await gw.admin('GET', '/admin/runs/tl-fallback/timeline')).json;
    const call = events.find((e: { type: string }) => e.type === 'call.allowed');
    expect(call).toMatchObject({ resource: 'sim-mini', details: { servedBy: 'sim-small' } });
    // The run's model is the one that answered.
    expect(run.model).toBe('sim-small');
  });

  it('GET /admin/spend: cost and tokens per period from the metrics; budgets with cumulative spend anchored to the ledger', async () => {
    await gw.client({ key: 'sk-console-other-0001' }).chat.completions.create(ask('beta spends'));
    const res = await gw.admin('GET', '/admin/spend?by=tenant&range=15m');
    expect(res.status).toBe(200);
    const { series, times, periodMs, budgets } = res.json;
    expect(periodMs).toBe(10_000);
    expect(times).toHaveLength(90);
    const acme = series.find((s: { id: string }) => s.id === 'acme');
    const beta = series.find((s: { id: string }) => s.id === 'beta');
    expect(acme.totalCostUsd).toBeGreaterThan(0);
    expect(beta.totalCostUsd).toBeGreaterThan(0);
    expect(acme.totalTokens).toBeGreaterThan(0);
    expect(acme.costUsd).toHaveLength(90);
    const budget = budgets.find((b: { scope: string }) => b.scope === 'tenant:acme');
    expect(budget).toMatchObject({ period: 'day', limitUsd: 2, alertAt: [0.5, 0.8, 1] });
    // The cumulative line ends at what the ledger holds for the day.
    expect(budget.cumulative.at(-1)).toBeCloseTo(budget.usedUsd, 9);
    expect(budget.usedUsd).toBeCloseTo(acme.totalCostUsd, 9);
    const byModel = await gw.admin('GET', '/admin/spend?by=model&range=1h');
    expect(byModel.json.series.map((s: { id: string }) => s.id)).toEqual(['sim-small', 'sim-pricey', 'sim-mini']);
    expect((await gw.admin('GET', '/admin/spend?by=planet')).status).toBe(400);
    expect((await gw.admin('GET', '/admin/spend?range=3d')).status).toBe(400);
  });

  it('GET /admin/alarms/{name}/history: the metric at the alarm period, the threshold and state bands from alarm.changed in the audit log', async () => {
    await gw.client().chat.completions.create(ask('count me'));
    await gw.admin('POST', '/admin/alarms/sim-calls/state', { state: 'ALARM', reason: 'drill' });
    await gw.admin('POST', '/admin/alarms/sim-calls/state', { state: 'OK', reason: 'drill over' });
    const res = await gw.admin('GET', '/admin/alarms/sim-calls/history?range=15m');
    expect(res.status).toBe(200);
    const { metric, transitions, bands, alarm } = res.json;
    expect(alarm.state).toBe('OK');
    expect(metric).toMatchObject({ scope: 'provider:sim', metric: 'calls', statistic: 'Sum', periodMs: 10_000, threshold: 3 });
    expect(metric.values.reduce((a: number, v: number | null) => a + (v ?? 0), 0)).toBeGreaterThan(0);
    expect(transitions.map((t: { from: string; to: string }) => `${t.from}>${t.to}`)).toEqual(['INSUFFICIENT_DATA>ALARM', 'ALARM>OK']);
    expect(bands.map((b: { state: string }) => b.state)).toEqual(['INSUFFICIENT_DATA', 'ALARM', 'OK']);
    expect((await gw.admin('GET', '/admin/alarms/nope/history')).status).toBe(404);
  });

  it('GET /admin/live/breakers: every configured breaker with its state and history', async () => {
    await gw.admin('POST', '/admin/breakers/model%3Asim-pricey/open', { by: 'test', reason: 'drill', cooldownMs: null });
    const refused = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-console-bot-0001', 'content-type': 'application/json' },
      body: JSON.stringify(ask('hi', 'sim-pricey')),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('x-fmguard-code')).toBe('breaker.open');
    await gw.admin('POST', '/admin/breakers/model%3Asim-pricey/close', { by: 'test' });
    const res = await gw.admin('GET', '/admin/live/breakers');
    const scopes = res.json.breakers.map((b: { scope: string }) => b.scope);
    expect(scopes).toEqual(expect.arrayContaining(['model:sim-small', 'model:sim-pricey', 'provider:sim', 'server:demo']));
    const pricey = res.json.breakers.find((b: { scope: string }) => b.scope === 'model:sim-pricey');
    expect(pricey.kind).toBe('closed');
    expect(pricey.transitions.map((t: { to: string }) => t.to)).toEqual(['open', 'closed']);
    expect(pricey.bands.map((b: { state: string }) => b.state)).toEqual(['closed', 'open', 'closed']);
  });

  it('GET /admin/kill/impact counts the runs in flight under a scope (a run with its sub-runs)', async () => {
    await gw.guard.startRun({ agent: 'other', id: 'imp-a' });
    const parent = await gw.guard.startRun({ agent: 'other', id: 'imp-b' });
    await parent.subRun({ id: 'imp-b-child' });
    const run = await gw.admin('GET', '/admin/kill/impact?scope=run%3Aimp-b%40other');
    expect(run.json).toMatchObject({ scope: 'run:imp-b@other', on: false, running: 2 });
    const agent = await gw.admin('GET', '/admin/kill/impact?scope=agent%3Aother');
    expect(agent.json.running).toBeGreaterThanOrEqual(43);
    const global = await gw.admin('GET', '/admin/kill/impact?scope=global');
    expect(global.json.running).toBeGreaterThanOrEqual(agent.json.running);
    expect(global.json.runs.length).toBeLessThanOrEqual(20);
    expect((await gw.admin('GET', '/admin/kill/impact?scope=model%3Asim-small')).status).toBe(400);
    expect((await gw.admin('GET', '/admin/kill/impact')).status).toBe(400);
  });

  it('a streaming agent loop killed through the admin API ends with kill.switch', async () => {
    const loop = refineLoop(gw.client({ run: 'api-loop' }));
    await until(async () => (await gw.guard.store.runs.get('api-loop@bot')) !== undefined, 5000, 'run');
    expect((await gw.admin('POST', '/admin/runs/api-loop/kill', { reason: 'test' })).status).toBe(200);
    expect((await loop).code).toBe('kill.switch');
  });
});
