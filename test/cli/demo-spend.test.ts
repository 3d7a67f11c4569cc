import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fmguard-demo-spend-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { cwd: dir, timeout: 120_000 });

/** `fmguard serve -p 0` on a config file; resolves to its URL. */
function serve(file: string): Promise<string> {
  const child = spawn(process.execPath, [BIN, 'serve', '--config', file, '--port', '0'], { cwd: dir });
  children.push(child);
  return new Promise((ready, fail) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) ready(found[1]!);
    });
    child.on('exit', (code) => fail(new Error(`serve exited ${code}`)));
  });
}

// The demo's models served by an OpenAI-kind provider: real money, were the upstream real. Nothing listens
// at its URL, so a call that got through would fail: the test shows none is made.
const PAID = `server: { adminToken: admin-token-for-the-demo-test }
store: { kind: memory }
providers: { up: { kind: openai, baseUrl: "http://127.0.0.1:9/v1", apiKey: sk-upstream-0000 } }
models:
  sim-small: { provider: up, inputPerMTok: 0.15, outputPerMTok: 0.6 }
  sim-large: { provider: up, inputPerMTok: 2.5, outputPerMTok: 10 }
  sim-frontier: { provider: up, inputPerMTok: 15, outputPerMTok: 75 }
tenants: { acme: { budgets: [{ period: day, maxCostUsd: 2 }] } }
agents:
  bot: { tenant: acme, keys: [sk-demo-spend-0001], limits: { maxCostUsd: 0.5 }, allow: { models: [sim-*] } }
`;

describe('fmguard demo --url asks before spending real money', { timeout: 300_000 }, () => {
  it('models that are not simulated: prints the projected cost and exits 3 without sending a call, unless --yes', async () => {
    const file = join(dir, 'paid.yaml');
    writeFileSync(file, PAID);
    const url = await serve(file);
    const r = await cli(['demo', '--url', url, '--key', 'sk-demo-spend-0001', '--admin-token', 'admin-token-for-the-demo-test']);
    expect(r.code).toBe(3);
    expect(r.err).toContain('model sim-small is served by provider up (openai)');
    // 6 runs × $0.5 + the 50-run race capped by the tenant's $2 day budget.
    expect(r.err).toContain('projected cost, at most: $5.00');
    expect(r.err).toContain('--yes');
    const runs = await fetch(`${url}/admin/runs`, { headers: { authorization: 'Bearer admin-token-for-the-demo-test' } });
    expect(((await runs.json()) as { runs: unknown[] }).runs).toEqual([]);

    const json = await cli(['demo', '--url', url, '--key', 'sk-demo-spend-0001', '--admin-token', 'admin-token-for-the-demo-test', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out)).toMatchObject({ needsConfirmation: true, projectedUsd: 5 });

    // --yes goes ahead: the call reaches the (absent) upstream and fails there.
    const yes = await cli([
      'demo',
      '--url',
      url,
      '--key',
      'sk-demo-spend-0001',
      '--admin-token',
      'admin-token-for-the-demo-test',
      '--only',
      'tool-call',
      '--yes',
      '--json',
    ]);
    expect(yes.code).not.toBe(3);
    expect(JSON.parse(yes.out).rows).toHaveLength(1);
    expect(JSON.parse(yes.out).rows[0].runs).toHaveLength(1);

    // Without the admin token the config cannot be read: nothing is assumed simulated.
    const blind = await cli(['demo', '--url', url, '--key', 'sk-demo-spend-0001']);
    expect(blind.code).toBe(3);
    expect(blind.err).toContain('cannot tell whether');
  });

  it('the shipped example (simulated models) runs without --yes', async () => {
    cpSync(join(ROOT, 'fmguard.example.yaml'), join(dir, 'fmguard.example.yaml'));
    cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
    const url = await serve(join(dir, 'fmguard.example.yaml'));
    const r = await cli(['demo', '--url', url, '--key', 'sk-fmguard-demo-0001', '--admin-token', 'fmguard-demo-admin-token', '--only', 'tool-call', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).rows[0]).toMatchObject({ scenario: 'tool-call loop', stopCode: 'loop.repeated_tool_call' });
  });
});
