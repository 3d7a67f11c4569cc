import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, fmguardOf, mcpConfig, startGateway, textOf, until, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('MCP gateway: tool timeouts cancel the upstream call', () => {
  it('timeout.tool comes back as an isError result and the built-in tool sees the cancellation', async () => {
    gw = await startGateway(mcpConfig({ timeouts: { tool: { totalMs: 300 } } }));
    const { client } = await connectClient(gw);
    const started = Date.now();
    const result = await client.callTool({ name: 'sleep', arguments: { ms: 10_000 } });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^timeout\.tool: tool call exceeded its timeout of 300 ms/);
    expect(fmguardOf(result)).toMatchObject({ code: 'timeout.tool', limit: 300, retryable: true });
    // The tool's own abort signal fired (MCP notifications/cancelled), so it stopped working.
    await until(() => gw!.world.sleeps[0]?.outcome === 'cancelled', 5000, 'the cancellation');
    expect(gw.world.sleeps[0]!.reason).toMatch(/timeout/);
    expect(gw.world.sleeps[0]!.elapsedMs).toBeLessThan(2000);
    // The run goes on.
    const next = await client.callTool({ name: 'sleep', arguments: { ms: 1 } });
    expect(next.isError).toBeFalsy();
    await client.close();
  });

  it("a tool's own timeout from the config (toolServers.demo.tools.sleep.timeoutMs) wins over the agent's", async () => {
    gw = await startGateway(
      mcpConfig({ timeouts: { tool: { totalMs: 30_000 } } }, { toolServers: { demo: { kind: 'builtin', tools: { sleep: { timeoutMs: 200 } } } } }),
    );
    const { client } = await connectClient(gw);
    const result = await client.callTool({ name: 'sleep', arguments: { ms: 10_000 } });
    expect(fmguardOf(result)).toMatchObject({ code: 'timeout.tool', limit: 200 });
    await until(() => gw!.world.sleeps[0]?.outcome === 'cancelled', 5000, 'the cancellation');
    await client.close();
  });

  it('a client that cancels its call cancels it upstream too', async () => {
    gw = await startGateway(mcpConfig());
    const { client } = await connectClient(gw);
    const controller = new AbortController();
    const call = client.callTool({ name: 'sleep', arguments: { ms: 10_000 } }, undefined, { signal: controller.signal });
    await until(() => gw!.world.sleeps.length === 1, 5000, 'the sleep to start');
    controller.abort('the user pressed stop');
    await expect(call).rejects.toThrow();
    await until(() => gw!.world.sleeps[0]!.outcome === 'cancelled', 5000, 'the upstream cancellation');
    await client.close();
  });

  it('consecutive failures end the run with loop.repeated_error (a JSON-RPC error)', async () => {
    gw = await startGateway(mcpConfig({ timeouts: { tool: { totalMs: 100 } }, limits: { maxConsecutiveErrors: 2 } }));
    const { client } = await connectClient(gw);
    // maxConsecutiveErrors: 2 allows two failures in a row; the third ends the run.
    const first = await client.callTool({ name: 'sleep', arguments: { ms: 5000 } });
    expect(fmguardOf(first)?.code).toBe('timeout.tool');
    const second = await client.callTool({ name: 'sleep', arguments: { ms: 6000 } });
    expect(fmguardOf(second)?.code).toBe('timeout.tool');
    const third = client.callTool({ name: 'sleep', arguments: { ms: 7000 } });
    await expect(third).rejects.toMatchObject({ data: { code: 'loop.repeated_error', limit: 2 } });
    await client.close();
  });
});
