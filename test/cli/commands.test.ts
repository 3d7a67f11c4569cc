/**
 * The README's command table, each command run through bin/fmguard.js as a user runs it: the ones
 * test/cli/cli.test.ts does not cover (sim, demo-tools, breakers, unkill, audit tail, approvals deny).
 * Checks are on effects (the store, an HTTP answer, an MCP tool list), not on the exact wording.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import OpenAI from 'openai';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createGuard, loadConfigFile } from '../../src/index.ts';
import { openStore } from '../../src/wiring/store.ts';
import { BIN, runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-cli-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

const cli = (...args: string[]) => runCli(args, { cwd: dir });

/** Starts a long-running command and resolves with the first http:// URL it prints. */
function serve(...args: string[]): Promise<string> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} printed no URL in 60 s: ${out} ${err}`)), 60_000);
    child.stdout!.on('data', (data: Buffer) => {
      out += data;
      const url = /(http:\/\/[\d.]+:\d+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.stderr!.on('data', (data: Buffer) => (err += data));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
}

const configFile = join(dir, 'fmguard.yaml');
writeFileSync(
  configFile,
  `store: { kind: sqlite, path: state.db }
providers: { sim: { kind: simulated } }
models: { sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
toolServers: { demo: { kind: builtin } }
tenants: { acme: {} }
agents:
  bot:
    tenant: acme
    keys: [sk-cli-commands-0001]
    allow: { models: [sim-*], tools: [demo.*] }
    approve: { tools: [demo.send_email] }
`,
);

describe('the README command table, through bin/fmguard.js', { timeout: 120_000 }, () => {
  it('fmguard sim --port 0 serves the simulated model to the official openai client', async () => {
    const url = await serve('sim', '--port', '0');
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }] });
    expect(answer.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(answer.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('fmguard demo-tools serves the demo tools over stdio and over HTTP (--http --port 0)', async () => {
    const stdio = new Client({ name: 'cli-test', version: '1.0.0' });
    await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'demo-tools'], cwd: dir, stderr: 'pipe' }));
    const overStdio = (await stdio.listTools()).tools.map((t) => t.name);
    await stdio.close();
    expect(overStdio).toEqual(expect.arrayContaining(['search', 'read_file', 'send_email']));

    const url = await serve('demo-tools', '--http', '--port', '0');
    const http = new Client({ name: 'cli-test', version: '1.0.0' });
    await http.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
    expect((await http.listTools()).tools.map((t) => t.name).sort()).toEqual([...overStdio].sort());
    const result = await http.callTool({ name: 'search', arguments: { query: 'budget' } });
    expect(result.isError).not.toBe(true);
    await http.close();
  });

  it('breakers open|list|close|reset change the breaker every process sees', async () => {
    const store = openStore(loadConfigFile(configFile));
    try {
      expect((await cli('breakers', 'open', 'provider:sim', '-c', configFile, '--reason', 'drill')).code).toBe(0);
      expect((await store.breakers.get('provider:sim'))?.state.kind).toBe('open');
      expect((await cli('breakers', 'list', '-c', configFile)).out).toContain('provider:sim');
      expect((await cli('breakers', 'close', 'provider:sim', '-c', configFile)).code).toBe(0);
      expect((await store.breakers.get('provider:sim'))?.state.kind).toBe('closed');
      expect((await cli('breakers', 'reset', 'provider:sim', '-c', configFile)).code).toBe(0);
      const reset = await store.breakers.get('provider:sim');
      expect(reset === undefined || (reset.state.kind === 'closed' && reset.state.failures === 0)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('kill then unkill: the switch is on, then off, for every process', async () => {
    const store = openStore(loadConfigFile(configFile));
    try {
      expect((await cli('kill', 'agent:bot', '-c', configFile, '--reason', 'drill')).code).toBe(0);
      expect([...(await store.kills.list()).keys()]).toContain('agent:bot');
      expect((await cli('unkill', 'agent:bot', '-c', configFile)).code).toBe(0);
      expect([...(await store.kills.list()).keys()]).not.toContain('agent:bot');
    } finally {
      await store.close();
    }
  });

  it('approvals deny refuses the call for good; audit tail shows the latest events', async () => {
    const guard = createGuard({ config: loadConfigFile(configFile) });
    try {
      const run = await guard.startRun({ agent: 'bot' });
      const send = () => run.callTool({ tool: 'demo.send_email', args: { to: 'b@example.com' }, execute: () => 'sent' });
      const refused = (await send().catch((e: unknown) => e)) as { code: string; details: { approvalId: string } };
      expect(refused.code).toBe('approval.required');
      const id = refused.details.approvalId;
      const denied = await cli('approvals', 'deny', id, '-c', configFile, '--by', 'bob');
      expect(denied.code).toBe(0);
      expect(denied.out).toContain(id);
      const again = (await send().catch((e: unknown) => e)) as { code: string };
      expect(again.code).toBe('approval.denied');
    } finally {
      await guard.close();
    }
    const tail = await cli('audit', 'tail', '-c', configFile, '-n', '5');
    expect(tail.code).toBe(0);
    expect(tail.out).toContain('approval');
    expect(tail.out.trim().split('\n').length).toBeGreaterThanOrEqual(1);
  });
});
