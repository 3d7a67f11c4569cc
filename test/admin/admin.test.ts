import { afterEach, describe, expect, it } from 'vitest';
import type { GuardError } from '../../src/core/errors.ts';
import { ask, closeAll, gatewayConfig, startGateway } from '../gateway/helpers.ts';
import { ADMIN_TOKEN, admin, startAdminGateway } from './helpers.ts';

afterEach(closeAll);

const OPENAI_SHAPE = { error: { type: 'fmguard_error', message: expect.any(String), code: expect.any(String) } };

describe('admin API: authentication', () => {
  it('missing or wrong token → 401 auth.invalid in the OpenAI error shape', async () => {
    const gw = await startAdminGateway();
    for (const token of [null, 'wrong-token', `${ADMIN_TOKEN}x`, 'sk-test-bot-0001']) {
      const res = await admin(gw, 'GET', '/admin/runs', undefined, token);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: { code: 'auth.invalid', type: 'fmguard_error' } });
      expect(res.headers.get('x-fmguard-code')).toBe('auth.invalid');
      expect(res.headers.get('x-should-retry')).toBe('false');
    }
    // Unknown routes are not revealed before authentication either.
    expect((await admin(gw, 'GET', '/admin/nope', undefined, null)).status).toBe(401);
  });

  it('no token configured: the admin API is disabled (fail closed), the data plane still works', async () => {
    const gw = await startGateway({ config: gatewayConfig() });
    const res = await admin(gw, 'GET', '/admin/runs');
    expect(res.status).toBe(403);
    expect(res.json.error.message).toMatch(/disabled.*server\.adminToken/);
    expect((await gw.post(ask('hi'))).status).toBe(200);
  });

  it('an agent key is not an admin token, and unknown routes / methods answer 404 / 405', async () => {
    const gw = await startAdminGateway();
    expect((await admin(gw, 'GET', '/admin/nothing-here')).status).toBe(404);
    const wrongMethod = await admin(gw, 'PUT', '/admin/runs');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    expect(wrongMethod.json).toMatchObject(OPENAI_SHAPE);
  });
});

describe('admin API: runs and kill switches', () => {
  it('lists runs with filters, shows one with its ledger usage, 404 for an unknown run', async () => {
    const gw = await startAdminGateway();
    const client = gw.client({ headers: { 'x-fmguard-run': 'run-a' } });
    await client.chat.completions.create(ask('hello'));
    await client.chat.completions.create(ask('again'));
    await gw.client({ key: 'sk-test-other-0001' }).chat.completions.create(ask('other'));

    const all = await admin(gw, 'GET', '/admin/runs');
    expect(all.status).toBe(200);
    // The other agent's call had a run of its own, which ended with it: nothing of it outlived the call, so it is not stored.
    expect(all.json.runs.length).toBe(1);
    const bots = await admin(gw, 'GET', '/admin/runs?agent=bot&status=running&limit=5');
    expect(bots.json.runs.map((r: { id: string }) => r.id)).toEqual(['run-a@bot']);
    expect((await admin(gw, 'GET', '/admin/runs?tenant=nobody')).json.runs).toEqual([]);

    const one = await admin(gw, 'GET', '/admin/runs/run-a@bot');
    expect(one.status).toBe(200);
    expect(one.json.run).toMatchObject({ id: 'run-a@bot', agent: 'bot', tenant: 'acme', status: 'running' });
    expect(one.json.usage).toMatchObject({ steps: 2, toolCalls: 0, reservedCostUsd: 0 });
    expect(one.json.usage.totalTokens).toBeGreaterThan(0);
    expect(one.json.usage.costUsd).toBeGreaterThan(0);

    const missing = await admin(gw, 'GET', '/admin/runs/no-such-run');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject(OPENAI_SHAPE);
    expect((await admin(gw, 'POST', '/admin/runs/no-such-run/kill', {})).status).toBe(404);
  });

  it('bad query values → 400 request.invalid naming the parameter', async () => {
    const gw = await startAdminGateway();
    for (const path of [
      '/admin/runs?status=sleeping',
      '/admin/runs?limit=0',
      '/admin/runs?limit=abc',
      '/admin/audit?code=nope',
      '/admin/audit?type=nope',
      '/admin/audit?from=yesterday',
      '/admin/runs/%E0%A4%A',
    ]) {
      const res = await admin(gw, 'GET', path);
      expect(res.status, path).toBe(400);
      expect(res.json.error.code).toBe('request.invalid');
    }
  });

  it('POST /admin/runs/{id}/kill stops the run; later calls get kill.switch', async () => {
    const gw = await startAdminGateway();
    const client = gw.client({ headers: { 'x-fmguard-run': 'doomed' }, maxRetries: 0 });
    await client.chat.completions.create(ask('hello'));
    const res = await admin(gw, 'POST', '/admin/runs/doomed@bot/kill', { reason: 'runaway' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ scope: 'run:doomed@bot', reason: 'runaway', run: { status: 'stopped', stopCode: 'kill.switch' } });
    const error = await client.chat.completions.create(ask('more')).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 403, code: 'kill.switch' });
    expect((await admin(gw, 'GET', '/admin/runs/doomed@bot')).json.killSwitch).toMatchObject({ scope: 'run:doomed@bot', reason: 'runaway', by: 'admin' });
  });

  it('a kill through the admin API cuts an in-flight stream of the official client', async () => {
    const gw = await startAdminGateway();
    const stream = await gw
      .client({ headers: { 'x-fmguard-run': 'streamer' } })
      .chat.completions.create({ ...ask('[sim:long 5000] write a book'), stream: true });
    let chunks = 0;
    const error = await (async () => {
      for await (const _ of stream) {
        if (++chunks === 5) void admin(gw, 'POST', '/admin/runs/streamer@bot/kill', { reason: 'operator pressed stop' });
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'kill.switch' });
    expect(chunks).toBeLessThan(1000);
  });

  it('scope switches: set, list, clear (DELETE and POST /unkill); bad scopes → 400', async () => {
    const gw = await startAdminGateway();
    expect((await admin(gw, 'POST', '/admin/kill', { scope: 'agent:bot', reason: 'maintenance' })).status).toBe(200);
    const listed = await admin(gw, 'GET', '/admin/kill');
    expect(listed.json.switches).toEqual([expect.objectContaining({ scope: 'agent:bot', reason: 'maintenance', by: 'admin' })]);
    const refused = await gw.post(ask('hi'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-fmguard-code')).toBe('kill.switch');

    const cleared = await admin(gw, 'DELETE', `/admin/kill/${encodeURIComponent('agent:bot')}`);
    expect(cleared.json).toMatchObject({ scope: 'agent:bot', on: false, cleared: true });
    expect((await gw.post(ask('hi'))).status).toBe(200);

    await admin(gw, 'POST', '/admin/kill', { scope: 'global' });
    expect((await admin(gw, 'POST', '/admin/unkill', { scope: 'global' })).json).toMatchObject({ cleared: true });
    expect((await admin(gw, 'GET', '/admin/kill')).json.switches).toEqual([]);

    for (const body of [{ scope: 'everything' }, { scope: 42 }, {}, '{not json', '[1,2]']) {
      const res = await admin(gw, 'POST', '/admin/kill', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('request.invalid');
    }
    expect((await admin(gw, 'DELETE', '/admin/kill/bogus')).status).toBe(400);
  });
});

describe('admin API: breakers, alarms, budgets', () => {
  it('opens, closes and resets a breaker; the data plane sees it', async () => {
    const gw = await startAdminGateway();
    const opened = await admin(gw, 'POST', '/admin/breakers/model:sim-small/open', { cooldownMs: 30_000, reason: 'provider incident' });
    expect(opened.status).toBe(200);
    expect(opened.json.breaker).toMatchObject({ scope: 'model:sim-small', kind: 'open' });
    expect((await gw.post(ask('hi'))).headers.get('x-fmguard-code')).toBe('breaker.open');
    expect((await admin(gw, 'GET', '/admin/breakers')).json.breakers).toEqual([expect.objectContaining({ scope: 'model:sim-small', kind: 'open' })]);
    expect((await admin(gw, 'GET', '/admin/breakers/model:sim-small')).json.breaker.kind).toBe('open');

    expect((await admin(gw, 'POST', '/admin/breakers/model:sim-small/close', {})).json.breaker.kind).toBe('closed');
    expect((await gw.post(ask('hi'))).status).toBe(200);
    await admin(gw, 'POST', '/admin/breakers/model:sim-small/open', { cooldownMs: null });
    expect((await admin(gw, 'GET', '/admin/breakers/model:sim-small')).json.breaker.retryAfterMs).toBeNull();
    expect((await admin(gw, 'POST', '/admin/breakers/model:sim-small/reset')).json.breaker.kind).toBe('closed');

    expect((await admin(gw, 'POST', '/admin/breakers/sim-small/open', {})).status).toBe(400);
    expect((await admin(gw, 'POST', '/admin/breakers/model:sim-small/open', { cooldownMs: -5 })).status).toBe(400);
    expect((await admin(gw, 'POST', '/admin/breakers/model:sim-small/open', { cooldownMs: '5s' })).status).toBe(400);
  });

  it('lists alarms and sets an alarm state (SetAlarmState); unknown alarm → 404, bad state → 400', async () => {
    const gw = await startAdminGateway();
    const listed = await admin(gw, 'GET', '/admin/alarms');
    expect(listed.json.alarms).toEqual([expect.objectContaining({ name: 'sim-errors', state: 'INSUFFICIENT_DATA' })]);
    const set = await admin(gw, 'POST', '/admin/alarms/sim-errors/state', { state: 'ALARM', reason: 'drill' });
    expect(set.status).toBe(200);
    expect(set.json.alarm).toMatchObject({ name: 'sim-errors', state: 'ALARM' });
    expect((await admin(gw, 'POST', '/admin/alarms/nope/state', { state: 'OK', reason: 'x' })).status).toBe(404);
    expect((await admin(gw, 'POST', '/admin/alarms/sim-errors/state', { state: 'RED', reason: 'x' })).status).toBe(400);
    expect((await admin(gw, 'POST', '/admin/alarms/sim-errors/state', { state: 'OK' })).status).toBe(400);
  });

  it('without alarms the list is empty', async () => {
    const gw = await startAdminGateway({}, { alarms: [] });
    expect((await admin(gw, 'GET', '/admin/alarms')).json.alarms).toEqual([]);
  });

  it('budgets: each configured budget with the current window, used, limit and percentage', async () => {
    const gw = await startAdminGateway({ budgets: [{ period: 'day', maxCostUsd: 1 }] });
    // The UTC day when the call started and when the budgets were read (a run across midnight sees either).
    const today = () => new Date().toISOString().slice(0, 10);
    const days = [today()];
    await gw.client().chat.completions.create(ask('spend a little', 'sim-pricey'));
    const res = await admin(gw, 'GET', '/admin/budgets');
    days.push(today());
    expect(res.status).toBe(200);
    const budgets = res.json.budgets as Array<Record<string, unknown>>;
    expect(budgets.map((b) => `${b.scope}/${b.period}`)).toEqual(['tenant:acme/day', 'tenant:acme/month', 'agent:bot/day']);
    const day = budgets[0]!;
    expect(days).toContain(day.window);
    expect(day.limitUsd).toBe(5);
    expect(day.usedUsd).toBeGreaterThan(0);
    expect(day.reservedUsd).toBe(0);
    expect(day.percentUsed).toBeCloseTo(((day.usedUsd as number) / 5) * 100, 1);
    expect(budgets[2]!.usedUsd).toBe(day.usedUsd);
  });
});

describe('admin API: approvals, audit, config', () => {
  it('an approval granted through the admin API lets the identical tool call through once', async () => {
    const gw = await startAdminGateway();
    const run = await gw.guard.startRun({ agent: 'bot', id: 'mailer' });
    const call = () => run.callTool({ tool: 'demo.send_email', args: { to: 'ana@example.com', subject: 'hi' }, execute: () => 'sent' });
    const first = (await call().catch((e: unknown) => e)) as GuardError;
    expect(first.code).toBe('approval.required');
    const id = first.details.approvalId as string;

    const pending = await admin(gw, 'GET', '/admin/approvals?status=pending');
    expect(pending.json.approvals).toEqual([expect.objectContaining({ id, run: 'mailer@bot', tool: 'demo.send_email', status: 'pending' })]);
    const approved = await admin(gw, 'POST', `/admin/approvals/${id}/approve`, { by: 'alice', reason: 'looks fine' });
    expect(approved.json.approval).toMatchObject({ id, status: 'approved', decidedBy: 'alice' });
    expect((await call()).result).toBe('sent');
    // Decided already: 409; unknown: 404.
    expect((await admin(gw, 'POST', `/admin/approvals/${id}/deny`, {})).status).toBe(409);
    expect((await admin(gw, 'POST', '/admin/approvals/apr_nope/approve', {})).status).toBe(404);
    expect((await admin(gw, 'GET', '/admin/approvals?status=maybe')).status).toBe(400);
  });

  it('a denial through the admin API keeps the call refused', async () => {
    const gw = await startAdminGateway();
    const run = await gw.guard.startRun({ agent: 'bot' });
    const call = () => run.callTool({ tool: 'demo.send_email', args: { to: 'eve@example.com' }, execute: () => 'sent' });
    const first = (await call().catch((e: unknown) => e)) as GuardError;
    const denied = await admin(gw, 'POST', `/admin/approvals/${first.details.approvalId as string}/deny`, { reason: 'no' });
    expect(denied.json.approval.status).toBe('denied');
    expect(((await call().catch((e: unknown) => e)) as GuardError).code).toBe('approval.denied');
  });

  it('audit: query with filters, and verify the hash chain', async () => {
    const gw = await startAdminGateway();
    await gw.client({ headers: { 'x-fmguard-run': 'audited' } }).chat.completions.create(ask('hi'));
    await admin(gw, 'POST', '/admin/kill', { scope: 'agent:other', reason: 'test' });
    const all = await admin(gw, 'GET', '/admin/audit?limit=100');
    expect(all.status).toBe(200);
    expect(all.json.events.length).toBeGreaterThan(0);
    const forRun = await admin(gw, 'GET', '/admin/audit?run=audited@bot&type=call.allowed');
    expect(forRun.json.events.length).toBe(1);
    expect(forRun.json.events[0]).toMatchObject({ run: 'audited@bot', type: 'call.allowed' });
    const kills = await admin(gw, 'GET', `/admin/audit?type=kill&from=${Date.now() - 60_000}&to=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(kills.json.events).toEqual([expect.objectContaining({ type: 'kill', resource: 'agent:other' })]);
    const verify = await admin(gw, 'GET', '/admin/audit/verify');
    expect(verify.json).toMatchObject({ ok: true });
    expect(verify.json.count).toBeGreaterThan(1);
    // Secrets never leave: no agent key, no admin token.
    expect(JSON.stringify(all.json)).not.toContain('sk-test-bot-0001');
    expect(JSON.stringify(all.json)).not.toContain(ADMIN_TOKEN);
  });

  it('audit turned off → 404 with a clear message', async () => {
    const gw = await startAdminGateway({}, { audit: { sink: 'none' } });
    const res = await admin(gw, 'GET', '/admin/audit');
    expect(res.status).toBe(404);
    expect(res.json.error.message).toMatch(/audit log is turned off/);
  });

  it('config is shown with every secret masked', async () => {
    const gw = await startAdminGateway();
    const res = await admin(gw, 'GET', '/admin/config');
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.json);
    expect(text).not.toContain('sk-test-bot-0001');
    expect(text).not.toContain(ADMIN_TOKEN);
    expect(res.json.config.server.adminToken).toMatch(/^\*\*\*\*/);
  });
});
