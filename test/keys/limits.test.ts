/**
 * A minted key's own budgets and rate limits hold exactly as a config key's do (the same `key:<id>`
 * accounts and buckets), and stop only that key: the agent's other keys go on. Expiry on a fake clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { windowId } from '../../src/core/periods.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { closeAll } from '../gateway/helpers.ts';
import { admin, BOT_KEY, chatWith, mint, startKeyGateway } from './helpers.ts';

afterEach(closeAll);

describe("a minted key's own limits", () => {
  it('its daily budget refuses it with budget.exhausted (402) once spent, naming key:<id>; the agent’s config key goes on', async () => {
    const gw = await startKeyGateway();
    const { secret, id } = await mint(gw, { agent: 'bot', budgets: [{ period: 'day', maxCostUsd: 0.5 }] });
    expect((await chatWith(gw, secret)).ok).toBe(true);
    // Spend the rest of the key's budget (as other calls would have): the key's own account in the store.
    const account = `budget:key:${id}:day:${windowId('day', gw.guard.clock.now())}`;
    const [spent] = await gw.guard.store.ledger.balances([{ key: account, dim: 'cost' }], gw.guard.clock.now());
    expect(spent!.used).toBeGreaterThan(0);
    await gw.guard.store.ledger.adjust(account, 'cost', 500_000_000 - spent!.used);
    const refused = await chatWith(gw, secret);
    expect(refused).toMatchObject({ ok: false, status: 402, code: 'budget.exhausted' });
    // The budgets view shows the key's budget beside the configured ones.
    const rows = (await admin(gw, 'GET', '/admin/budgets')).json.budgets;
    expect(rows.find((r: { scope: string }) => r.scope === `key:${id}`)).toMatchObject({ period: 'day', limitUsd: 0.5, percentUsed: 100 });
    const raw = await gw.post({ model: 'sim-small', messages: [{ role: 'user', content: 'x' }] }, { authorization: `Bearer ${secret}` });
    expect(JSON.stringify((await raw.json()).error)).toContain(`key:${id}`);
    expect((await chatWith(gw, BOT_KEY)).ok).toBe(true);
    // A second minted key of the same agent has its own (absent) budget.
    expect((await chatWith(gw, (await mint(gw)).secret)).ok).toBe(true);
  });

  it('its requests per minute refuse it with rate.limited (429); the agent’s other keys go on', async () => {
    const gw = await startKeyGateway();
    const { secret } = await mint(gw, { agent: 'bot', rateLimits: { requestsPerMinute: 1 } });
    expect((await chatWith(gw, secret)).ok).toBe(true);
    expect(await chatWith(gw, secret)).toMatchObject({ ok: false, status: 429, code: 'rate.limited' });
    expect((await chatWith(gw, BOT_KEY)).ok).toBe(true);
    expect((await chatWith(gw, BOT_KEY)).ok).toBe(true);
  });

  it('expires: served until its time, then 401 auth.invalid (ttl and expiresAt)', async () => {
    const clock = new FakeClock(Date.parse('2026-12-01T00:00:00Z'));
    const gw = await startKeyGateway({ guard: { clock } });
    const byTtl = await mint(gw, { agent: 'bot', ttl: '1h' });
    const byDate = await mint(gw, { agent: 'bot', expiresAt: '2026-12-01T02:00:00Z' });
    expect(byTtl.key.expiresAt).toBe(clock.now() + 3_600_000);
    expect((await chatWith(gw, byTtl.secret)).ok).toBe(true);
    await clock.advance(3_600_000);
    const expired = await chatWith(gw, byTtl.secret);
    expect(expired).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    expect((expired as { error: Error }).error.message).toContain('expired');
    expect((await chatWith(gw, byDate.secret)).ok).toBe(true);
    await clock.advance(3_600_000);
    expect(await chatWith(gw, byDate.secret)).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    expect((await admin(gw, 'GET', `/admin/keys/${byDate.id}`)).json.status).toBe('expired');
  });
});
