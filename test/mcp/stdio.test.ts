import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamStatus } from '../../src/mcp/index.ts';
import { connectClient, fmguardOf, mcpConfig, startGateway, textOf, until, type TestGateway } from './helpers.ts';

const STDIO_MAIN = fileURLToPath(new URL('../../src/demo/tools/stdio-main.ts', import.meta.url));
const stdioServer = { kind: 'stdio' as const, command: process.execPath, args: ['--import', 'tsx', STDIO_MAIN] };

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

function files(): UpstreamStatus {
  return gw!.handler.status().find((s) => s.name === 'files')!;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The demo server's events (JSON lines on its stderr). */
function events(): Array<{ pid: number; type: string; sleep?: { outcome: string; elapsedMs: number; reason?: string } }> {
  return (files().stderrTail ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe('MCP gateway: stdio tool servers', () => {
  it('spawns the server on first use, lists and calls its tools, and stops it on close', async () => {
    gw = await startGateway(mcpConfig({}, { toolServers: { files: stdioServer } }));
    expect(files().state).toBe('idle');
    const { client } = await connectClient(gw, { server: 'files' });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('read_file');
    const result = await client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.md' } });
    expect(textOf(result)).toContain('Acme support');
    const pid = files().pid!;
    expect(alive(pid)).toBe(true);
    await client.close();
    await gw.close();
    gw = undefined;
    await until(() => !alive(pid), 5000, 'the tool server to exit');
  });

  it('a timeout cancels the call inside the stdio server, which stays up and idle', async () => {
    gw = await startGateway(mcpConfig({ timeouts: { tool: { totalMs: 500 } } }, { toolServers: { files: stdioServer } }));
    const { client } = await connectClient(gw, { server: 'files' });
    const result = await client.callTool({ name: 'sleep', arguments: { ms: 30_000 } });
    expect(fmguardOf(result)?.code).toBe('timeout.tool');
    await until(() => events().some((e) => e.type === 'sleep.ended'), 5000, 'the server to report the sleep ended');
    const ended = events().find((e) => e.type === 'sleep.ended')!;
    expect(ended.sleep).toMatchObject({ outcome: 'cancelled' });
    expect(ended.sleep!.elapsedMs).toBeLessThan(3000);
    expect(ended.sleep!.reason).toMatch(/timeout/);
    // Not restarted: the same process carries on.
    expect(files()).toMatchObject({ state: 'ready', restarts: 0 });
    expect(textOf(await client.callTool({ name: 'sleep', arguments: { ms: 1 } }))).toBe('slept 1 ms');
    await client.close();
  });

  it('a tool server killed mid-call: the call fails with upstream.error, the server is restarted, the gateway keeps serving', async () => {
    gw = await startGateway(mcpConfig({ limits: { maxConsecutiveErrors: 5 } }, { toolServers: { demo: { kind: 'builtin' }, files: stdioServer } }));
    const { client } = await connectClient(gw, { server: 'files' });
    const slow = client.callTool({ name: 'sleep', arguments: { ms: 30_000 } });
    await until(() => events().some((e) => e.type === 'sleep.started'), 10_000, 'the sleep to start');
    const first = files().pid!;
    process.kill(first, 'SIGKILL');

    const failed = await slow;
    expect(failed.isError).toBe(true);
    expect(fmguardOf(failed)).toMatchObject({ code: 'upstream.error', server: 'files' });
    expect(textOf(failed)).toMatch(/^upstream\.error: tool server "files" failed/);

    // Restarted at once (a first crash), with a new process.
    await until(() => files().state === 'ready' && files().pid !== first, 10_000, 'the restart');
    expect(files().restarts).toBe(1);
    expect(textOf(await client.callTool({ name: 'read_file', arguments: { path: '/notes/todo.txt' } }))).toContain('ticket 4711');
    // The rest of the gateway never noticed.
    const demo = await connectClient(gw, { server: 'demo' });
    expect(textOf(await demo.client.callTool({ name: 'search', arguments: { query: 'refund' } }))).toContain('refund');
    await Promise.all([client.close(), demo.client.close()]);
  });

  it('a server that keeps crashing is retried with growing delays; its calls fail fast with upstream.error', async () => {
    const crashing = { kind: 'stdio' as const, command: process.execPath, args: ['-e', 'process.exit(3)'] };
    gw = await startGateway(mcpConfig({ limits: { maxConsecutiveErrors: 10 } }, { toolServers: { demo: { kind: 'builtin' }, broken: crashing } }), {
      backoff: { baseMs: 100, maxMs: 400 },
    });
    const { client } = await connectClient(gw, { server: 'broken' });
    // It never came up, so even the tool list is an upstream failure (a JSON-RPC error).
    await expect(client.listTools()).rejects.toMatchObject({ data: { code: 'upstream.error' } });
    const call = await client.callTool({ name: 'read_file', arguments: { path: '/x' } });
    expect(fmguardOf(call)?.code).toBe('upstream.error');
    const broken = () => gw!.handler.status().find((s) => s.name === 'broken')!;
    await until(() => broken().consecutiveFailures >= 4, 10_000, 'several restart attempts');
    expect(broken().state).not.toBe('ready');
    const demo = await connectClient(gw, { server: 'demo' });
    expect((await demo.client.listTools()).tools.length).toBe(7);
    await Promise.all([client.close(), demo.client.close()]);
  });
});
