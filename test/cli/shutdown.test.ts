import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from './serve-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-shutdown-'));
let serve: ServeProcess | undefined;
afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await serve?.exited;
  rmSync(dir, { recursive: true, force: true });
});

const KEY = 'sk-shutdown-bot-0001';
// 20 tokens a second: `[sim:long 40]` takes about two seconds (within the grace), `[sim:long 1000]` fifty.
const CONFIG = `store: { kind: sqlite, path: state.db }
providers: { sim: { kind: simulated, tokensPerSecond: 20 } }
models: { sim-small: { provider: sim, inputPerMTok: 1, outputPerMTok: 4 } }
tenants: { acme: { budgets: [{ period: day, maxCostUsd: 100 }] } }
agents:
  bot: { tenant: acme, keys: [${KEY}], allow: { models: ["*"] }, timeouts: { model: { totalMs: 120000, idleMs: 60000 } } }
defaults: { retry: [] }
server: { shutdownGraceMs: 6000, adminToken: admin-shutdown-token-0001 }
`;

interface Answer {
  what: string;
  status: number;
  run: string | null;
  body: string;
}

function call(url: string, what: string, tokens: number, stream: boolean): Promise<Answer> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    // A named run each: a run of its own (no x-fmguard-run) is never stored, so /admin/runs would not list it.
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-fmguard-run': `shutdown-${what.replace(/ /g, '-')}` },
    body: JSON.stringify({ model: 'sim-small', stream, messages: [{ role: 'user', content: `[sim:long ${tokens}] ${what}` }] }),
  }).then(async (res) => ({ what, status: res.status, run: res.headers.get('x-fmguard-run'), body: await res.text() }));
}

function dataEvents(body: string): string[] {
  return body
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));
}

describe('graceful shutdown', { timeout: 180_000 }, () => {
  it('on SIGTERM: in-flight work finishes within the grace, the rest is answered with gateway.shutting_down, the audit keeps every event, exit 0', async () => {
    serve = await startServe(dir, CONFIG);
    const started = Date.now();
    const calls = [
      call(serve.url, 'quick plain', 40, false),
      call(serve.url, 'quick stream', 40, true),
      call(serve.url, 'slow plain', 1000, false),
      call(serve.url, 'slow stream', 1000, true),
    ];
    // Once every call is running (its run started), stop the server.
    for (;;) {
      const res = await fetch(`${serve.url}/admin/runs?status=running`, { headers: { authorization: 'Bearer admin-shutdown-token-0001' } });
      if (((await res.json()) as { runs: unknown[] }).runs.length === 4) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    serve.child.kill('SIGTERM');
    const answers = await Promise.all(calls);
    const code = await serve.exited;
    const elapsed = Date.now() - started;
    const [quickPlain, quickStream, slowPlain, slowStream] = answers as [Answer, Answer, Answer, Answer];

    expect(quickPlain.status).toBe(200);
    expect((JSON.parse(quickPlain.body) as { choices: unknown[] }).choices).toHaveLength(1);
    expect(quickStream.status).toBe(200);
    expect(dataEvents(quickStream.body).at(-1)).toBe('[DONE]');

    expect(slowPlain.status).toBe(503);
    const refused = JSON.parse(slowPlain.body) as { error: { code: string } };
    expect(refused.error.code).toBe('gateway.shutting_down');
    expect(slowStream.status).toBe(200);
    const events = dataEvents(slowStream.body);
    const errors = events.filter((e) => e.includes('"error"'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('gateway.shutting_down');
    expect(events.length).toBeGreaterThan(1);

    expect(code, serve.stderr()).toBe(0);
    expect(serve.stderr()).not.toContain('audit log is closed');
    expect(serve.stderr()).not.toContain('error');
    // Well under the slow calls' 50 s: the grace, then the cut.
    expect(elapsed).toBeLessThan(40_000);

    const db = new Database(join(dir, 'state.db'), { readonly: true });
    try {
      const reserved = db.prepare('SELECT COALESCE(SUM(reserved), 0) AS r FROM fm_ledger').get() as { r: number };
      expect(reserved.r).toBe(0);
      expect((db.prepare('SELECT COUNT(*) AS n FROM fm_reservations').get() as { n: number }).n).toBe(0);
      const rows = db.prepare('SELECT type, run, code FROM audit_events ORDER BY seq').all() as Array<{
        type: string;
        run: string | null;
        code: string | null;
      }>;
      for (const answer of answers) {
        const mine = rows.filter((r) => r.run === `${answer.run}@bot`).map((r) => (r.code ? `${r.type} ${r.code}` : r.type));
        const slow = answer.what.startsWith('slow');
        expect(mine, answer.what).toEqual(['run.started', slow ? 'call.failed gateway.shutting_down' : 'call.allowed']);
      }
    } finally {
      db.close();
    }
  });
});
