/**
 * Two gateways sharing one store (one Redis; one SQLite file), each with its own connection as a
 * second replica would have: a key minted on one is served by the other, and once revoked on one it
 * is refused by both from the very next request (each looks a minted key up in the store on every
 * request; nothing is cached that a revocation would have to reach).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeAll } from '../gateway/helpers.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { admin, chatWith, mint, startKeyGateway } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-keys-replicas-'));
const prefixes: string[] = [];
afterEach(closeAll);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const p of prefixes) await deleteKeys(p);
});

const stores: Array<[string, () => Record<string, unknown>]> = [
  [
    'redis',
    () => {
      const prefix = uniquePrefix('keys');
      prefixes.push(prefix);
      return { kind: 'redis', url: REDIS_URL, prefix };
    },
  ],
  ['sqlite', () => ({ kind: 'sqlite', path: join(dir, `k${prefixes.length}-${Math.random().toString(36).slice(2)}.db`) })],
];

describe.each(stores)('two gateways on one %s store', (kind, storeConfig) => {
  it('a key minted on one is served by both, and refused by both from the next request after it is revoked on one', async () => {
    const store = storeConfig();
    const a = await startKeyGateway({ store });
    const b = await startKeyGateway({ store });
    const { secret, id } = await mint(a, { agent: 'bot' });
    expect((await chatWith(b, secret)).ok).toBe(true);
    expect((await chatWith(a, secret)).ok).toBe(true);

    const t0 = performance.now();
    expect((await admin(a, 'DELETE', `/admin/keys/${id}`)).json.revoked).toBe(true);
    const revokedAt = performance.now();
    // The very first request after the revocation, on the other replica, and on the same one.
    const onB = await chatWith(b, secret);
    const seenOnB = performance.now();
    expect(onB).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    expect(await chatWith(a, secret)).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    console.log(
      `[keys] ${kind}: revoke answered in ${(revokedAt - t0).toFixed(1)} ms; the other replica's next request refused ${(seenOnB - revokedAt).toFixed(1)} ms later (its whole round trip)`,
    );
    // The list on the other replica says so too.
    expect((await admin(b, 'GET', `/admin/keys/${id}`)).json).toMatchObject({ status: 'revoked', revokedBy: 'admin' });
  });

  it('a key the other replica has just served five times is refused there by its next request after the revocation', async () => {
    const store = storeConfig();
    const a = await startKeyGateway({ store });
    const b = await startKeyGateway({ store });
    const { secret, id } = await mint(b, { agent: 'bot' });
    // B has just served the key many times (anything it could cache is warm).
    for (let i = 0; i < 5; i++) expect((await chatWith(b, secret)).ok).toBe(true);
    await admin(a, 'POST', `/admin/keys/${id}/revoke`, { by: 'alice' });
    expect(await chatWith(b, secret)).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
  });
});
