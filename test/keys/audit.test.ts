/**
 * Minting and revoking are audited (`key.created`, `key.revoked`, in the SQLite store's own audit
 * log), and the secret is nowhere: not in an audit row, not in a byte of the database file.
 */
import { readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeAll } from '../gateway/helpers.ts';
import { admin, chatWith, mint, startKeyGateway } from './helpers.ts';
import { hashApiKey } from '../../src/runtime/principal.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-keys-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('minted keys in the audit log', () => {
  it('records key.created and key.revoked with who and which key, and never the secret (rows and file bytes)', async () => {
    const path = join(dir, 'state.db');
    // No audit section: the SQLite store's own audit log, in the same file.
    const gw = await startKeyGateway({ store: { kind: 'sqlite', path }, audit: {} });
    const { secret, id } = await mint(gw, { agent: 'bot', name: 'nightly', budgets: [{ period: 'day', maxCostUsd: 2 }], by: 'alice' });
    expect((await chatWith(gw, secret)).ok).toBe(true);
    await admin(gw, 'POST', `/admin/keys/${id}/revoke`, { by: 'bob' });
    await admin(gw, 'POST', `/admin/keys/${id}/revoke`, { by: 'carol' });
    expect((await chatWith(gw, secret)).ok).toBe(false);

    const created = (await admin(gw, 'GET', '/admin/audit?type=key.created')).json.events;
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      type: 'key.created',
      agent: 'bot',
      tenant: 'acme',
      resource: id,
      details: { by: 'alice', name: 'nightly', hint: secret.slice(0, 10), budgets: [{ period: 'day', maxCostUsd: 2 }] },
    });
    const revoked = (await admin(gw, 'GET', '/admin/audit?type=key.revoked')).json.events;
    // The second revocation changed nothing and is not an event.
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ type: 'key.revoked', agent: 'bot', resource: id, details: { by: 'bob' } });
    const all = (await admin(gw, 'GET', '/admin/audit?limit=10000')).json.events;
    expect(all.some((e: { type: string }) => e.type === 'call.allowed')).toBe(true);
    expect(JSON.stringify(all)).not.toContain(secret);
    expect(JSON.stringify(all)).not.toContain(secret.slice(10));
    expect((await admin(gw, 'GET', '/admin/audit/verify')).json).toMatchObject({ ok: true });

    await closeAll();
    // Every file SQLite wrote (the database, its WAL and shared memory).
    const files = readdirSync(dir).filter((f) => f.startsWith('state.db'));
    expect(files).toContain('state.db');
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    expect(bytes.includes(Buffer.from(secret.slice(10)))).toBe(false);
    // What the store does keep is the hash: the search reads the right bytes.
    expect(bytes.includes(Buffer.from(hashApiKey(secret)))).toBe(true);
  });
});
