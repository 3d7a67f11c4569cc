/**
 * `npm start` on a fresh clone: the package.json start script, on the shipped example config, with no
 * key and no service to start by hand. Run from a copy of the example (its SQLite store lives beside
 * the config), with `-p 0` added so that the test never collides with a gateway on the default port.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fmguard-npm-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start', () => {
  it('serves the shipped example: the printed demo key works with the official client; SIGTERM exits 0', { timeout: 120_000 }, async () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: { start: string } };
    const [node, bin, ...args] = pkg.scripts.start.split(' ');
    expect([node, bin]).toEqual(['node', 'bin/fmguard.js']);
    cpSync(new URL('fmguard.example.yaml', root), join(dir, 'fmguard.example.yaml'));
    cpSync(new URL('policies', root), join(dir, 'policies'), { recursive: true });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FMGUARD_')));
    const child = spawn(process.execPath, [new URL(bin!, root).pathname, ...args, '-p', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const start = Date.now();
      while (!/demo agent key[^\n]*: (\S+)/.test(out)) {
        if (Date.now() - start > 60_000 || child.exitCode !== null) throw new Error(`no startup banner: ${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(out)![1]!;
      const key = /demo agent key[^\n]*: (\S+)/.exec(out)![1]!;
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
      const answer = await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'Hello' }] });
      expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
      // Only the example's keys get in.
      const stranger = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-not-a-key', maxRetries: 0 });
      const refused = await stranger.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'Hello' }] }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 401 });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(err).not.toMatch(/Error|at .*\.js:\d+/);
  });
});
