import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { usdToNano } from '../../src/core/money.ts';
import { windowId } from '../../src/core/periods.ts';
import { BOT_KEY, gatewayConfig, startGateway, type TestGateway } from './helpers.ts';

/**
 * A request without `x-fmguard-run` is a run of its own. Nothing about it has to outlive the request
 * unless it is stopped, so it stays off the store (no run row, no ledger lines of its own), while its
 * reservation and settlement still go through the shared ledger for every budget: exact under a race.
 */
let gw: TestGateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function sqliteConfig(budgetUsd: number, bot: Record<string, unknown> = {}) {
  dir = mkdtempSync(join(tmpdir(), 'fmguard-own-runs-'));
  return gatewayConfig(bot, {
    store: { kind: 'sqlite', path: join(dir, 'state.db') },
    tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: budgetUsd }] } },
  });
}

const ask = (text: string) => ({ model: 'sim-small', messages: [{ role: 'user', content: text }], max_tokens: 64 });

describe('a run of its own (no x-fmguard-run)', () => {
  it('writes no run and no ledger line of its own, and the tenant budget stays exact under a race', async () => {
    // Room for a few calls only: 40 concurrent requests race for it.
    gw = await startGateway({ config: sqliteConfig(0.00012) });
    const settled: number[] = [];
    const started: string[] = [];
    gw.guard.on((event) => {
      if (event.type === 'call.allowed') settled.push(usdToNano(event.costUsd));
      if (event.type === 'run.started') started.push(event.run.id);
    });
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => gw!.post(ask(`question ${i}`))));
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect(((await r.json()) as { error: { code: string } }).error.code).toBe('budget.exhausted');
    await Promise.all(ok.map((r) => r.text()));
    expect(started).toHaveLength(40);

    const now = Date.now();
    const [tenant] = await gw.guard.store.ledger.balances([{ key: `budget:tenant:acme:day:${windowId('day', now)}`, dim: 'cost' }], now);
    // Every settled call's cost is on the shared budget, nothing more, nothing held, never over the limit.
    expect(tenant!.used).toBe(settled.reduce((a, b) => a + b, 0));
    expect(tenant!.reserved).toBe(0);
    expect(tenant!.used).toBeLessThanOrEqual(usdToNano(0.00012));
    expect(settled).toHaveLength(ok.length);

    // Off the store: no run rows, no run accounts; the runs are over in this process too.
    expect(await gw.guard.store.runs.list()).toEqual([]);
    const own = await gw.guard.store.ledger.balances(
      started.map((id) => ({ key: `run:${id}`, dim: 'steps' })),
      now,
    );
    expect(own.every((b) => b.used === 0 && b.reserved === 0)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(gw.guard.activeRuns).toBe(0);

    // An ended run of its own cannot be resumed by the id it was answered with.
    const resumed = await gw.post(ask('again'), { 'x-fmguard-run': ok[0]!.headers.get('x-fmguard-run')! });
    expect(resumed.status).toBe(400);
    expect(((await resumed.json()) as { error: { message: string } }).error.message).toBe('the run has ended');
  });

  it('is written to the store when it is stopped (a kill switch mid-call)', async () => {
    gw = await startGateway({ config: sqliteConfig(10) });
    const pending = gw.post(ask('[sim:stall 0] hi'));
    for (let i = 0; i < 500 && gw.guard.activeRuns === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(gw.guard.activeRuns).toBe(1);
    await gw.guard.kill('agent:bot', 'enough');
    const response = await pending;
    expect(response.status).not.toBe(200);
    await response.text();
    const runs = await gw.guard.store.runs.list();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ agent: 'bot', tenant: 'acme', status: 'stopped', stopCode: 'kill.switch' });
    // Stored under its agent's scope; the header echoes the name.
    expect(runs[0]!.id).toBe(`${response.headers.get('x-fmguard-run')}@bot`);
  });

  it('keeps its own run limits in the process (limit.tokens on a run of its own)', async () => {
    gw = await startGateway({ config: sqliteConfig(10, { limits: { maxTotalTokens: 5 } }) });
    const response = await gw.post(ask('a question that is longer than five tokens for sure'), { authorization: `Bearer ${BOT_KEY}` });
    expect(response.status).not.toBe(200);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('limit.tokens');
    expect(await gw.guard.store.runs.list()).toEqual([]);
  });
});
