/**
 * `fmguard keys create|list|revoke` through bin/fmguard.js (build dist first), on the store the
 * config names (a SQLite file), with a gateway on that file serving the key and then refusing it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.ts';
import { runCli } from '../cli/helpers.ts';
import { closeAll, startGateway } from '../gateway/helpers.ts';
import { chatWith } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-keys-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(closeAll);

const cli = (...args: string[]) => runCli(args, { cwd: dir });

const config = join(dir, 'fmguard.yaml');
writeFileSync(
  config,
  `store: { kind: sqlite, path: ${join(dir, 'state.db')} }
providers: { sim: { kind: simulated } }
models: { sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
tenants: { acme: {} }
agents:
  bot: { tenant: acme, keys: [sk-cli-config-key-1], allow: { models: ['*'] } }
`,
);

describe('fmguard keys', () => {
  it('creates a key (shown once), lists it without the secret, and revokes it; a gateway on the same store follows', async () => {
    const created = await cli('keys', 'create', '--agent', 'bot', '--name', 'from-cli', '--expires', '30d', '--daily-usd', '3', '--json', '-c', config);
    expect(created.code).toBe(0);
    const { secret, key } = JSON.parse(created.out) as { secret: string; key: { id: string; expiresAt: number; budgets: unknown[]; createdBy: string } };
    expect(secret).toMatch(/^fmg_/);
    expect(key).toMatchObject({ createdBy: 'cli', budgets: [{ period: 'day', maxCostUsd: 3 }] });
    expect(key.expiresAt).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(created.err).not.toContain(secret);

    const gw = await startGateway({ config: loadConfigFile(config) as never, guard: { background: false } });
    expect((await chatWith(gw, secret)).ok).toBe(true);

    const table = await cli('keys', 'list', '-c', config);
    expect(table.code).toBe(0);
    const [header, row] = table.out.trim().split('\n');
    expect(header).toMatch(/^ID\s+AGENT\s+NAME\s+HINT\s+STATUS\s+CREATED\s+EXPIRES$/);
    expect(row).toContain(key.id);
    expect(row).toContain('active');
    const listed = await cli('keys', 'list', '--agent', 'bot', '--json', '-c', config);
    expect(JSON.parse(listed.out).keys.map((k: { id: string }) => k.id)).toEqual([key.id]);
    for (const out of [table.out, listed.out]) expect(out).not.toContain(secret.slice(10));

    const revoked = await cli('keys', 'revoke', key.id, '-c', config);
    expect(revoked).toMatchObject({ code: 0 });
    expect(revoked.out).toContain(`revoked ${key.id}`);
    expect(await chatWith(gw, secret)).toMatchObject({ ok: false, status: 401, code: 'auth.invalid' });
    expect((await chatWith(gw, 'sk-cli-config-key-1')).ok).toBe(true);
    expect((await cli('keys', 'list', '-c', config)).out).toContain('revoked');
    expect((await cli('keys', 'revoke', 'mk_nope', '-c', config)).code).toBe(1);
    expect((await cli('keys', 'create', '--agent', 'ghost', '-c', config)).code).toBe(1);
    const memoryConfig = join(dir, 'memory.yaml');
    writeFileSync(memoryConfig, readFileSync(config, 'utf8').replace(/^store: .*$/m, 'store: { kind: memory }'));
    const onMemory = await cli('keys', 'create', '--agent', 'bot', '-c', memoryConfig);
    expect(onMemory.code).toBe(1);
    expect(onMemory.err).toContain('POST /admin/keys');

    // The CLI wrote to the store's own audit log: created and revoked, never the secret.
    const events = await gw.guard.audit!.sink.query({ type: ['key.created', 'key.revoked'], order: 'asc' });
    expect(events.map((e) => [e.type, e.details?.by])).toEqual([
      ['key.created', 'cli'],
      ['key.revoked', 'cli'],
    ]);
    expect(readFileSync(join(dir, 'state.db')).includes(Buffer.from(secret.slice(10)))).toBe(false);
  });
});
