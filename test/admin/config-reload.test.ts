import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCheckedConfig } from '../../src/wiring/check-config.ts';
import { BOT_KEY, OTHER_KEY, ask, closeAll, gatewayConfig, startGateway, type TestGateway } from '../gateway/helpers.ts';
import { ADMIN_TOKEN, admin } from './helpers.ts';

const NEW_KEY = 'sk-test-added-0001';
const dirs: string[] = [];

afterEach(async () => {
  await closeAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The test config as a file: two agents on the simulator, the admin API on, the memory audit log. */
function configText(change: { otherKeys?: string[]; botKeys?: string[]; botMaxSteps?: number; store?: unknown } = {}): string {
  const base = gatewayConfig({}, { server: { adminToken: ADMIN_TOKEN }, audit: { sink: 'memory' } } as never) as unknown as Record<string, any>;
  base.agents.bot.keys = change.botKeys ?? [BOT_KEY];
  base.agents.other.keys = change.otherKeys ?? [OTHER_KEY];
  if (change.botMaxSteps) base.agents.bot.limits = { maxSteps: change.botMaxSteps };
  if (change.store) base.store = change.store;
  return JSON.stringify(base, null, 2);
}

async function start(): Promise<{ gw: TestGateway; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fmguard-reload-'));
  dirs.push(dir);
  const file = join(dir, 'fmguard.yaml');
  writeFileSync(file, configText());
  // Slow answers, so reloads happen while requests are in flight.
  const gw = await startGateway({ config: loadCheckedConfig(file) as never, sim: { firstTokenLatencyMs: 40 }, guard: { configFile: file, background: false } });
  return { gw, file };
}

const client = (gw: TestGateway, key: string, run?: string) =>
  new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: run ? { 'x-fmguard-run': run } : undefined });

describe('POST /admin/config/reload', () => {
  it('under load: no request fails, a new key works, a removed key gets 401, a changed limit applies to new runs', async () => {
    const { gw, file } = await start();
    // An OTHER_KEY request in flight when its key is removed finishes under the config it started with.
    const inFlight = client(gw, OTHER_KEY).chat.completions.create(ask('started before the reload'));
    let stop = false;
    const failures: unknown[] = [];
    let done = 0;
    const loop = async () => {
      while (!stop) {
        try {
          await client(gw, BOT_KEY).chat.completions.create(ask('under load'));
          done++;
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await new Promise((r) => setTimeout(r, 20));

    writeFileSync(file, configText({ otherKeys: [], botKeys: [BOT_KEY, NEW_KEY], botMaxSteps: 1 }));
    const res = await admin(gw, 'POST', '/admin/config/reload', { by: 'test' });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ reloaded: true, changed: ['agents'], restartOnly: [] });
    // Reload again and again while the loop runs: each swap is atomic.
    for (let i = 0; i < 5; i++) expect((await admin(gw, 'POST', '/admin/config/reload', {})).status).toBe(200);

    expect((await inFlight).choices[0]!.message.content).toBeTruthy();
    // The new key works at once; the removed one is refused.
    expect((await client(gw, NEW_KEY).chat.completions.create(ask('new key'))).choices).toHaveLength(1);
    const refused = await client(gw, OTHER_KEY)
      .chat.completions.create(ask('removed key'))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    // The new limit (one step per run) applies to a run started after the reload.
    const run = client(gw, BOT_KEY, 'after-reload');
    await run.chat.completions.create(ask('first step'));
    const second = await run.chat.completions.create(ask('second step')).catch((e: unknown) => e);
    expect((second as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    expect(JSON.stringify((second as InstanceType<typeof OpenAI.APIError>).error)).toContain('limit.steps');

    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(0);
  });

  it('refuses a bad file with the errors of `config check`; the old config keeps serving', async () => {
    const { gw, file } = await start();
    writeFileSync(file, 'agents:\n  bot:\n    tenant: 42\n');
    let expected = '';
    try {
      loadCheckedConfig(file);
    } catch (error) {
      expected = (error as Error).message;
    }
    expect(expected).not.toBe('');
    const res = await admin(gw, 'POST', '/admin/config/reload', {});
    expect(res.status).toBe(400);
    expect(res.json.error.message).toBe(expected);
    expect((await client(gw, OTHER_KEY).chat.completions.create(ask('still served'))).choices).toHaveLength(1);
    // Audited, the refusal included.
    const audit = await admin(gw, 'GET', '/admin/audit?type=admin.action');
    const events = audit.json.events as Array<Record<string, any>>;
    expect(events.some((e) => e.action === 'config.reload' && e.details?.ok === false)).toBe(true);
  });

  it('refuses a change of store with a clear error, and a guard started without a file', async () => {
    const { gw, file } = await start();
    writeFileSync(file, configText({ store: { kind: 'sqlite', path: join(file, '..', 'state.db') } }));
    const res = await admin(gw, 'POST', '/admin/config/reload', {});
    expect(res.status).toBe(400);
    expect(res.json.error.message).toMatch(/^store: the store .* cannot change while fmguard runs/);
    expect((await client(gw, OTHER_KEY).chat.completions.create(ask('still served'))).choices).toHaveLength(1);

    const plain = await startGateway({ config: gatewayConfig({}, { server: { adminToken: ADMIN_TOKEN } } as never) });
    const none = await admin(plain, 'POST', '/admin/config/reload', {});
    expect(none.status).toBe(400);
    expect(none.json.error.message).toMatch(/not started from a config file/);
  });
});
