/**
 * A key minted through the admin API is served through the official OpenAI client, is shown once
 * (never by the list, the key's own route, nor the store), and is refused with `auth.invalid` once
 * revoked, like an unknown key.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll } from '../gateway/helpers.ts';
import { admin, BOT_KEY, chatWith, mint, startKeyGateway } from './helpers.ts';

afterEach(closeAll);

describe('minted API keys through the admin API', () => {
  it('mints a key the official client is served with, as the agent it was minted for', async () => {
    const gw = await startKeyGateway();
    const { secret, id, key } = await mint(gw, { agent: 'bot', name: 'ci runner' });
    expect(secret).toMatch(/^fmg_[A-Za-z0-9_-]{43}$/);
    expect(id).toMatch(/^mk_[0-9a-f]{20}$/);
    expect(key).toMatchObject({ agent: 'bot', name: 'ci runner', status: 'active', createdBy: 'admin', hint: secret.slice(0, 10) });
    const calls: Array<{ agent?: string; keyId?: string }> = [];
    gw.guard.on((event) => {
      if (event.type === 'call.allowed') calls.push({ agent: event.agent, keyId: event.keyId });
    });
    const answer = await chatWith(gw, secret);
    expect(answer.ok).toBe(true);
    // The call is the agent's, under the minted key's id.
    expect(calls).toEqual([{ agent: 'bot', keyId: id }]);
    const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } });
    expect(models.status).toBe(200);
  });

  it('never shows the secret or its hash again: not in the list, the key route, or the store list', async () => {
    const gw = await startKeyGateway();
    const { secret, id } = await mint(gw);
    await mint(gw, { agent: 'other' });
    const hash = createHash('sha256').update(secret).digest('hex');
    const listed = await admin(gw, 'GET', '/admin/keys');
    expect(listed.status).toBe(200);
    expect(listed.json.keys.map((k: { id: string }) => k.id)).toContain(id);
    const one = await admin(gw, 'GET', `/admin/keys/${id}`);
    expect(one.json).toMatchObject({ id, status: 'active' });
    const onlyBot = await admin(gw, 'GET', '/admin/keys?agent=bot');
    expect(onlyBot.json.keys).toHaveLength(1);
    for (const text of [JSON.stringify(listed.json), JSON.stringify(one.json), JSON.stringify(await gw.guard.store.apiKeys.list())]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hash);
    }
  });

  it('refuses a revoked key with 401 auth.invalid in the catalogue shape, like an unknown key; the agent’s other keys go on', async () => {
    const gw = await startKeyGateway();
    const { secret, id } = await mint(gw);
    expect((await chatWith(gw, secret)).ok).toBe(true);
    const revoked = await admin(gw, 'DELETE', `/admin/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ revoked: true, key: { id, status: 'revoked', revokedBy: 'admin' } });
    const refused = await chatWith(gw, secret);
    expect(refused).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    const unknown = await chatWith(gw, `fmg_${'A'.repeat(43)}`);
    expect(unknown).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    // The raw body is the catalogue's error shape.
    const raw = await gw.post({ model: 'sim-small', messages: [{ role: 'user', content: 'x' }] }, { authorization: `Bearer ${secret}` });
    expect(raw.status).toBe(401);
    expect((await raw.json()).error).toMatchObject({ code: 'auth.invalid', type: expect.any(String), message: 'the API key was revoked' });
    expect((await chatWith(gw, BOT_KEY)).ok).toBe(true);
    // Revoking again changes nothing; an unknown id is a 404.
    const again = await admin(gw, 'POST', `/admin/keys/${id}/revoke`, { by: 'bob' });
    expect(again.json).toMatchObject({ revoked: false, key: { revokedBy: 'admin' } });
    expect((await admin(gw, 'DELETE', '/admin/keys/mk_nope')).status).toBe(404);
  });

  it('validates the body: an agent of the config, known fields only, one of expiresAt and ttl, a future expiry', async () => {
    const gw = await startKeyGateway();
    const bad = async (body: unknown) => (await admin(gw, 'POST', '/admin/keys', body)).json.error;
    expect(await bad({ agent: 'ghost' })).toMatchObject({ code: 'request.invalid', param: 'agent' });
    expect(await bad({})).toMatchObject({ code: 'request.invalid', param: 'agent' });
    expect(await bad({ agent: 'bot', budget: [] })).toMatchObject({ code: 'request.invalid' });
    expect(await bad({ agent: 'bot', budgets: [{ period: 'week', maxCostUsd: 1 }] })).toMatchObject({ code: 'request.invalid', param: 'budgets.0.period' });
    expect(await bad({ agent: 'bot', rateLimits: { requestsPerMinute: 0 } })).toMatchObject({ code: 'request.invalid' });
    expect(await bad({ agent: 'bot', ttl: '1d', expiresAt: Date.now() + 1000 })).toMatchObject({ param: 'ttl' });
    expect(await bad({ agent: 'bot', ttl: 'soon' })).toMatchObject({ param: 'ttl' });
    expect(await bad({ agent: 'bot', expiresAt: '2001-01-01T00:00:00Z' })).toMatchObject({ param: 'expiresAt' });
    expect(await gw.guard.store.apiKeys.list()).toEqual([]);
    // And only with the admin token.
    expect((await admin(gw, 'POST', '/admin/keys', { agent: 'bot' }, null)).status).toBe(401);
  });

  it('documents the routes in /admin/openapi.json', async () => {
    const gw = await startKeyGateway();
    const doc = (await admin(gw, 'GET', '/admin/openapi.json')).json;
    expect(Object.keys(doc.paths['/admin/keys'])).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/admin/keys/{id}'])).toEqual(['get', 'delete']);
    expect(doc.paths['/admin/keys'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('budgets');
    expect(doc.paths['/admin/keys/{id}/revoke'].post).toBeDefined();
  });
});
