import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from './serve-process.ts';
import { runCli } from './helpers.ts';

const TOKEN = 'adm-reload-cli-0001';
const dirs: string[] = [];
const procs: ServeProcess[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function config(keys: string[]): string {
  return JSON.stringify({
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys, allow: { models: ['*'] } } },
    server: { adminToken: TOKEN },
  });
}

async function chat(url: string, key: string): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  return res.status;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('fmguard reload and SIGHUP', () => {
  it('SIGHUP reloads the file; a bad file is refused and the old config keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmguard-hup-'));
    dirs.push(dir);
    const serve = await startServe(dir, config(['sk-hup-old-0001']));
    procs.push(serve);
    const file = join(dir, 'fmguard.yaml');
    expect(await chat(serve.url, 'sk-hup-new-0001')).toBe(401);

    writeFileSync(file, config(['sk-hup-new-0001']));
    serve.child.kill('SIGHUP');
    await until(() => serve.stdout().includes('SIGHUP: config reloaded'), 'the reload line');
    expect(await chat(serve.url, 'sk-hup-new-0001')).toBe(200);
    expect(await chat(serve.url, 'sk-hup-old-0001')).toBe(401);

    writeFileSync(file, 'agents: [');
    serve.child.kill('SIGHUP');
    await until(() => serve.stderr().includes('reload refused'), 'the refusal');
    expect(await chat(serve.url, 'sk-hup-new-0001')).toBe(200);
  }, 120_000);

  it('`fmguard reload` calls the admin route: exit 0 when reloaded, exit 1 with the config errors when refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmguard-reload-cli-'));
    dirs.push(dir);
    const serve = await startServe(dir, config(['sk-cli-old-0001']));
    procs.push(serve);
    const file = join(dir, 'fmguard.yaml');

    writeFileSync(file, config(['sk-cli-new-0001']));
    const ok = await runCli(['reload', '--url', serve.url, '--token', TOKEN], { cwd: process.cwd() });
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/^reloaded; changed: agents/) });
    expect(await chat(serve.url, 'sk-cli-new-0001')).toBe(200);
    expect(await chat(serve.url, 'sk-cli-old-0001')).toBe(401);

    writeFileSync(file, config(['sk-cli-new-0001']).replace('"provider":"sim","inputPerMTok"', '"provider":"nope","inputPerMTok"'));
    const bad = await runCli(['reload', '--url', serve.url, '--token', TOKEN], { cwd: process.cwd() });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/reload refused \(HTTP 400\)[\s\S]*nope/);
    expect(await chat(serve.url, 'sk-cli-new-0001')).toBe(200);
  }, 120_000);
});
