/**
 * Minted API keys in process (src/runtime/api-keys.ts): the status a key shows, what minting checks,
 * stores and audits, listing, and revocation (audited once, by the call that revoked).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import type { FmguardConfig } from '../../src/config/resolve.ts';
import { type ApiKeyParts, type ApiKeyView, keyStatus, listApiKeys, mintApiKey, revokeApiKey } from '../../src/runtime/api-keys.ts';
import { hashApiKey, resolvePrincipal } from '../../src/runtime/principal.ts';
import type { ApiKeyInfo } from '../../src/store/api-keys.ts';
import type { Store } from '../../src/store/store.ts';
import { auditEvents, baseConfig, memoryStoreAndAudit, refusal } from './fixtures.ts';

const NOW = Date.UTC(2026, 3, 1, 12);

/** Agent bot (tenant acme) and agent helper (tenant beta). */
function config(): FmguardConfig {
  return parseConfig(
    baseConfig({}, {
      tenants: { acme: {}, beta: {} },
      agents: {
        bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'], tools: ['*'] } },
        helper: { tenant: 'beta', keys: ['sk-test-helper-0001'], allow: { models: ['*'], tools: ['*'] } },
      },
    } as never),
  );
}

let open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.reverse()) await close();
  open = [];
});

function setup() {
  const { store, sink, audit } = memoryStoreAndAudit(open);
  const parts: ApiKeyParts = { store, config: config(), audit, now: NOW };
  return { store, sink, audit, parts };
}

const events = auditEvents;

const info = (over: Partial<ApiKeyInfo> = {}): ApiKeyInfo => ({
  id: 'mk_00',
  hint: 'fmg_abcdef',
  agent: 'bot',
  createdAt: 0,
  createdBy: 'ops',
  budgets: [],
  rateLimits: {},
  ...over,
});

describe('keyStatus', () => {
  it('active without expiry or revocation, whatever the time', () => {
    expect(keyStatus(info(), 0)).toBe('active');
    expect(keyStatus(info(), Number.MAX_SAFE_INTEGER)).toBe('active');
  });

  it('expired from its expiry time on (inclusive), active the ms before', () => {
    expect(keyStatus(info({ expiresAt: 1000 }), 999)).toBe('active');
    expect(keyStatus(info({ expiresAt: 1000 }), 1000)).toBe('expired');
    expect(keyStatus(info({ expiresAt: 1000 }), 1001)).toBe('expired');
  });

  it('revoked wins over expired and over active, even revoked at time 0', () => {
    expect(keyStatus(info({ revokedAt: 0, revokedBy: 'ops' }), 0)).toBe('revoked');
    expect(keyStatus(info({ revokedAt: 5, expiresAt: 1000 }), 2000)).toBe('revoked');
    expect(keyStatus(info({ revokedAt: 5, expiresAt: 1000 }), 10)).toBe('revoked');
  });
});

describe('mintApiKey', () => {
  it('returns the secret once and a view of the key; the store keeps its hash; the audit log its limits, not the secret', async () => {
    const { parts, store, audit, sink } = setup();
    const { secret, key } = await mintApiKey(parts, {
      agent: 'bot',
      name: 'ci',
      expiresAt: NOW + 60_000,
      budgets: [{ period: 'day', maxCostUsd: 3 }],
      rateLimits: { requestsPerMinute: 10 },
      by: 'alice',
    });
    expect(secret).toMatch(/^fmg_[A-Za-z0-9_-]{43}$/);
    expect(key.id).toMatch(/^mk_[0-9a-f]{20}$/);
    expect(key).toStrictEqual<ApiKeyView>({
      id: key.id,
      hint: secret.slice(0, 10),
      agent: 'bot',
      name: 'ci',
      createdAt: NOW,
      createdBy: 'alice',
      expiresAt: NOW + 60_000,
      budgets: [{ period: 'day', maxCostUsd: 3 }],
      rateLimits: { requestsPerMinute: 10 },
      status: 'active',
    });
    expect(key.hint).toHaveLength(10);
    const { status: _status, ...stored } = key;
    expect(await store.apiKeys.findByHash(hashApiKey(secret))).toStrictEqual({ ...stored, hash: hashApiKey(secret) });
    expect(await store.apiKeys.get(key.id)).toStrictEqual(stored);
    // The secret authenticates as the agent, with the key's own limits.
    expect(await resolvePrincipal(parts.config, store, secret, NOW)).toMatchObject({
      agent: { name: 'bot' },
      keyId: key.id,
      key: { id: key.id, budgets: [{ period: 'day', maxCostUsd: 3 }], rateLimits: { requestsPerMinute: 10 } },
    });
    const recorded = await events(audit, sink);
    expect(recorded).toEqual([
      {
        type: 'key.created',
        time: NOW,
        agent: 'bot',
        tenant: 'acme',
        action: 'key.create',
        resource: key.id,
        details: {
          by: 'alice',
          hint: secret.slice(0, 10),
          name: 'ci',
          expiresAt: NOW + 60_000,
          budgets: [{ period: 'day', maxCostUsd: 3 }],
          rateLimits: { requestsPerMinute: 10 },
        },
      },
    ]);
    expect(JSON.stringify(sink.events)).not.toContain(secret);
    expect(JSON.stringify(sink.events)).not.toContain(hashApiKey(secret));
  });

  it('without a name, expiry or limits: no name, no expiry, no budgets, no rate limits', async () => {
    const { parts, store, audit, sink } = setup();
    const { secret, key } = await mintApiKey(parts, { agent: 'helper', by: 'bob' });
    expect(key).toStrictEqual<ApiKeyView>({
      id: key.id,
      hint: secret.slice(0, 10),
      agent: 'helper',
      createdAt: NOW,
      createdBy: 'bob',
      budgets: [],
      rateLimits: {},
      status: 'active',
    });
    expect(Object.keys((await store.apiKeys.findByHash(hashApiKey(secret)))!).sort()).toEqual([
      'agent',
      'budgets',
      'createdAt',
      'createdBy',
      'hash',
      'hint',
      'id',
      'rateLimits',
    ]);
    expect(await events(audit, sink)).toEqual([
      {
        type: 'key.created',
        time: NOW,
        agent: 'helper',
        tenant: 'beta',
        action: 'key.create',
        resource: key.id,
        details: { by: 'bob', hint: secret.slice(0, 10), budgets: [], rateLimits: {} },
      },
    ]);
  });

  it('an empty name is a name', async () => {
    const { parts } = setup();
    const { key } = await mintApiKey(parts, { agent: 'bot', name: '', by: 'ops' });
    expect(key.name).toBe('');
    expect(Object.hasOwn(key, 'name')).toBe(true);
  });

  it('each key its own secret and id', async () => {
    const { parts } = setup();
    const a = await mintApiKey(parts, { agent: 'bot', by: 'ops' });
    const b = await mintApiKey(parts, { agent: 'bot', by: 'ops' });
    expect(a.secret).not.toBe(b.secret);
    expect(a.key.id).not.toBe(b.key.id);
  });

  it.each(['nobody', 'acme', 'constructor', 'toString', '__proto__', 'hasOwnProperty', ''])('refuses an agent %j not in the config', async (agent) => {
    const { parts, store, audit, sink } = setup();
    expect(await refusal(mintApiKey(parts, { agent, by: 'ops' }))).toEqual({
      code: 'request.invalid',
      message: `agent: no agent "${agent}" in the config`,
      details: { param: 'agent' },
    });
    expect(await store.apiKeys.list()).toEqual([]);
    expect(await events(audit, sink)).toEqual([]);
  });

  it.each([
    ['now', NOW],
    ['the past', NOW - 1],
    ['0', 0],
    ['NaN', Number.NaN],
  ])('refuses an expiry at %s', async (_, expiresAt) => {
    const { parts, store, audit, sink } = setup();
    expect(await refusal(mintApiKey(parts, { agent: 'bot', expiresAt, by: 'ops' }))).toEqual({
      code: 'request.invalid',
      message: 'expiresAt: expected a time in the future',
      details: { param: 'expiresAt' },
    });
    expect(await store.apiKeys.list()).toEqual([]);
    expect(await events(audit, sink)).toEqual([]);
  });

  it('accepts an expiry one ms ahead; the key expires then', async () => {
    const { parts } = setup();
    const { secret, key } = await mintApiKey(parts, { agent: 'bot', expiresAt: NOW + 1, by: 'ops' });
    expect([key.expiresAt, key.status]).toEqual([NOW + 1, 'active']);
    expect(await listApiKeys({ ...parts, now: NOW + 1 })).toEqual([{ ...key, status: 'expired' }]);
    await expect(resolvePrincipal(parts.config, parts.store, secret, NOW + 1)).rejects.toMatchObject({ code: 'auth.invalid' });
  });

  it('without an audit log it still mints', async () => {
    const { parts } = setup();
    const { key } = await mintApiKey({ store: parts.store, config: parts.config, now: NOW }, { agent: 'bot', by: 'ops' });
    expect(await listApiKeys(parts)).toEqual([key]);
  });

  it('a store that reports a clash fails the mint, and nothing is audited', async () => {
    const { parts, audit, sink } = setup();
    const store: Store = { ...parts.store, apiKeys: { ...parts.store.apiKeys, create: async () => false } };
    await expect(mintApiKey({ ...parts, store }, { agent: 'bot', by: 'ops' })).rejects.toThrow(new Error('a minted API key clashed with a stored one'));
    expect(await events(audit, sink)).toEqual([]);
  });
});

describe('listApiKeys', () => {
  it('every key, oldest first, or one agent’s, each with its status as of `now`', async () => {
    const { parts } = setup();
    const a = (await mintApiKey(parts, { agent: 'bot', name: 'a', expiresAt: NOW + 1000, by: 'ops' })).key;
    const b = (await mintApiKey({ ...parts, now: NOW + 1 }, { agent: 'helper', name: 'b', by: 'ops' })).key;
    const c = (await mintApiKey({ ...parts, now: NOW + 2 }, { agent: 'bot', name: 'c', by: 'ops' })).key;
    await revokeApiKey({ ...parts, now: NOW + 3 }, c.id, 'ops');
    expect(await listApiKeys(parts)).toEqual([a, b, { ...c, revokedAt: NOW + 3, revokedBy: 'ops', status: 'revoked' }]);
    expect(await listApiKeys({ store: parts.store, now: NOW + 1000 }, { agent: 'bot' })).toEqual([
      { ...a, status: 'expired' },
      { ...c, revokedAt: NOW + 3, revokedBy: 'ops', status: 'revoked' },
    ]);
    expect(await listApiKeys(parts, { agent: 'helper' })).toEqual([b]);
    expect(await listApiKeys(parts, { agent: 'nobody' })).toEqual([]);
  });
});

describe('revokeApiKey', () => {
  it('revokes once: the first call revokes and is audited, later ones change nothing and are not', async () => {
    const { parts, audit, sink } = setup();
    const { key, secret } = await mintApiKey(parts, { agent: 'bot', name: 'ci', by: 'alice' });
    const at = NOW + 5000;
    const revokedView = { ...key, revokedAt: at, revokedBy: 'bob', status: 'revoked' };
    expect(await revokeApiKey({ ...parts, now: at }, key.id, 'bob')).toStrictEqual({ key: revokedView, revoked: true });
    await expect(resolvePrincipal(parts.config, parts.store, secret, at)).rejects.toMatchObject({ code: 'auth.invalid', message: 'the API key was revoked' });
    // Again, by the same operator later, by another at the same time, by another later: no change.
    expect(await revokeApiKey({ ...parts, now: at + 1 }, key.id, 'bob')).toStrictEqual({ key: revokedView, revoked: false });
    expect(await revokeApiKey({ ...parts, now: at }, key.id, 'carol')).toStrictEqual({ key: revokedView, revoked: false });
    expect(await revokeApiKey({ ...parts, now: at + 1 }, key.id, 'carol')).toStrictEqual({ key: revokedView, revoked: false });
    expect((await events(audit, sink)).slice(1)).toEqual([
      {
        type: 'key.revoked',
        time: at,
        agent: 'bot',
        tenant: 'acme',
        action: 'key.revoke',
        resource: key.id,
        details: { by: 'bob', hint: key.hint, name: 'ci' },
      },
    ]);
  });

  // Regression: the store's revoke now says whether this call changed the key; comparing the stored time
  // and operator with its own made a doubled request within one millisecond a second, audited revocation.
  it('a repeat by the same operator in the same ms is not a second revocation', async () => {
    const { parts, audit, sink } = setup();
    const { key } = await mintApiKey(parts, { agent: 'helper', by: 'ops' });
    expect((await revokeApiKey(parts, key.id, 'ops'))?.revoked).toBe(true);
    expect((await revokeApiKey(parts, key.id, 'ops'))?.revoked).toBe(false);
    expect((await events(audit, sink)).filter((e) => e.type === 'key.revoked')).toHaveLength(1);
  });

  it('an unknown id: undefined, nothing audited', async () => {
    const { parts, audit, sink } = setup();
    expect(await revokeApiKey(parts, 'mk_nope', 'ops')).toBeUndefined();
    expect(await events(audit, sink)).toEqual([]);
  });

  it('a key whose agent has left the config is revoked, audited without a tenant', async () => {
    const { parts, audit, sink } = setup();
    const { key } = await mintApiKey(parts, { agent: 'helper', by: 'ops' });
    const without = config();
    delete without.agents.helper;
    const result = await revokeApiKey({ ...parts, config: without, now: NOW + 1 }, key.id, 'ops');
    expect(result).toStrictEqual({ key: { ...key, revokedAt: NOW + 1, revokedBy: 'ops', status: 'revoked' }, revoked: true });
    const [revocation] = (await events(audit, sink)).slice(1);
    expect(revocation).toEqual({
      type: 'key.revoked',
      time: NOW + 1,
      agent: 'helper',
      action: 'key.revoke',
      resource: key.id,
      details: { by: 'ops', hint: key.hint },
    });
    expect(Object.hasOwn(revocation!, 'tenant')).toBe(false);
  });

  it('without an audit log it still revokes', async () => {
    const { parts } = setup();
    const { key } = await mintApiKey(parts, { agent: 'bot', by: 'ops' });
    expect(await revokeApiKey({ store: parts.store, config: parts.config, now: NOW }, key.id, 'ops')).toStrictEqual({
      key: { ...key, revokedAt: NOW, revokedBy: 'ops', status: 'revoked' },
      revoked: true,
    });
  });
});

describe('resolvePrincipal with a minted key', () => {
  it('a key whose agent has left the config is refused, by name, not resolved to nobody', async () => {
    const { parts, store } = setup();
    const { secret } = await mintApiKey(parts, { agent: 'helper', by: 'ops' });
    const without = config();
    delete without.agents.helper;
    expect(await refusal(resolvePrincipal(without, store, secret, NOW))).toMatchObject({
      code: 'auth.invalid',
      message: `the API key's agent "helper" is not in the config`,
    });
    // The agent still in the config still resolves.
    expect(await resolvePrincipal(parts.config, store, secret, NOW)).toMatchObject({ agent: { name: 'helper' } });
  });

  it('a store that cannot be read fails closed, naming the API keys', async () => {
    const { parts, store } = setup();
    const { secret } = await mintApiKey(parts, { agent: 'bot', by: 'ops' });
    const broken = { ...store, apiKeys: { ...store.apiKeys, findByHash: async () => Promise.reject(new Error('disk gone')) } } as Store;
    expect(await refusal(resolvePrincipal(parts.config, broken, secret, NOW))).toMatchObject({
      code: 'store.unavailable',
      message: 'API keys could not be read: disk gone',
    });
    // A config key needs no store read and still works.
    expect(await resolvePrincipal(parts.config, broken, 'sk-test-bot-0001', NOW)).toMatchObject({ agent: { name: 'bot' } });
  });
});
