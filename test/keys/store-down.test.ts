/**
 * A minted key is looked up in the store; when the store cannot answer, the request is refused with
 * `store.unavailable` (503, retry later), never let in and never told its key is bad. Anything not
 * shaped like a minted secret is refused at once, without a store read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../src/backends/redis/index.ts';
import { closeAll } from '../gateway/helpers.ts';
import { chatWith, startKeyGateway } from './helpers.ts';

afterEach(closeAll);

describe('minted keys when the store is away', () => {
  it('refuses a minted-looking key with 503 store.unavailable, and other unknown keys with 401 auth.invalid', async () => {
    // Nothing listens on port 1: every store call fails within the command timeout.
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 100, commandTimeoutMs: 200, prefix: 'fmguard-keys-down:' });
    const gw = await startKeyGateway({ guard: { store, audit: false } });
    const minted = await chatWith(gw, `fmg_${'b'.repeat(43)}`);
    expect(minted).toMatchObject({ ok: false, status: 503, code: 'store.unavailable' });
    expect(await chatWith(gw, 'sk-not-a-key-at-all')).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
  });
});
