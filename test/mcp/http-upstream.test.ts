import { afterEach, describe, expect, it } from 'vitest';
import { createDemoWorld, serveDemoToolsHttp, type DemoHttpServer } from '../../src/demo/tools/index.ts';
import { connectClient, fmguardOf, mcpConfig, startGateway, textOf, until, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
let upstream: DemoHttpServer | undefined;
afterEach(async () => {
  await gw?.close();
  await upstream?.close();
  gw = undefined;
  upstream = undefined;
});

describe('MCP gateway: HTTP tool servers', () => {
  it('proxies to a Streamable HTTP server, and a timeout cancels the call there', async () => {
    upstream = await serveDemoToolsHttp();
    gw = await startGateway(mcpConfig({ timeouts: { tool: { totalMs: 300 } } }, { toolServers: { remote: { kind: 'http', url: upstream.url } } }));
    const { client } = await connectClient(gw, { server: 'remote' });
    expect((await client.listTools()).tools).toHaveLength(7);
    expect(textOf(await client.callTool({ name: 'search', arguments: { query: 'refund' } }))).toContain('refund');
    const slow = await client.callTool({ name: 'sleep', arguments: { ms: 10_000 } });
    expect(fmguardOf(slow)?.code).toBe('timeout.tool');
    await until(() => upstream!.world.sleeps[0]?.outcome === 'cancelled', 5000, 'the upstream cancellation');
    await client.close();
  });

  it('an upstream that restarted (and forgot our session) is reconnected; a retry policy hides the blip', async () => {
    const world = createDemoWorld();
    upstream = await serveDemoToolsHttp({ world });
    const port = Number(new URL(upstream.url).port);
    const retry = [{ errorEquals: ['upstream.error'], intervalMs: 10, maxAttempts: 2 }];
    // The server's tools are declared safe to repeat, so its own retry applies (tools are never retried by default).
    gw = await startGateway(mcpConfig({}, { toolServers: { remote: { kind: 'http', url: upstream.url, idempotent: true, retry } } }));
    const { client } = await connectClient(gw, { server: 'remote' });
    await client.callTool({ name: 'search', arguments: { query: 'a' } });
    await upstream.close();
    upstream = await serveDemoToolsHttp({ world, port });
    const result = await client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.md' } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('Acme support');
    expect(gw.handler.status().find((s) => s.name === 'remote')).toMatchObject({ state: 'ready', restarts: 1 });
    await client.close();
  });

  it('an upstream that is down: upstream.error as a tool result, and the gateway keeps serving', async () => {
    upstream = await serveDemoToolsHttp();
    const url = upstream.url;
    await upstream.close();
    upstream = undefined;
    gw = await startGateway(mcpConfig({}, { toolServers: { demo: { kind: 'builtin' }, remote: { kind: 'http', url } } }));
    const { client } = await connectClient(gw, { server: 'remote' });
    await expect(client.listTools()).rejects.toMatchObject({ data: { code: 'upstream.error' } });
    const call = await client.callTool({ name: 'search', arguments: { query: 'a' } });
    expect(fmguardOf(call)).toMatchObject({ code: 'upstream.error' });
    const demo = await connectClient(gw);
    expect(textOf(await demo.client.callTool({ name: 'search', arguments: { query: 'refund' } }))).toContain('refund');
    await Promise.all([client.close(), demo.client.close()]);
  });

  it("an upstream's failures feed its server's breaker: once open, calls are refused with breaker.open without reaching it", async () => {
    upstream = await serveDemoToolsHttp();
    const url = upstream.url;
    await upstream.close();
    upstream = undefined;
    gw = await startGateway(
      mcpConfig(
        { limits: { maxConsecutiveErrors: 10 } },
        { toolServers: { remote: { kind: 'http', url } }, breakers: { overrides: { 'server:remote': { failureThreshold: 2, cooldownMs: 60_000 } } } },
      ),
    );
    const { client } = await connectClient(gw, { server: 'remote' });
    const codes: unknown[] = [];
    for (let i = 0; i < 4; i++) codes.push(fmguardOf(await client.callTool({ name: 'search', arguments: { query: `q${i}` } }))?.code);
    expect(codes).toEqual(['upstream.error', 'upstream.error', 'breaker.open', 'breaker.open']);
    const open = await client.callTool({ name: 'search', arguments: { query: 'again' } });
    expect(fmguardOf(open)).toMatchObject({ code: 'breaker.open', scope: 'server:remote' });
    await client.close();
  });
});
