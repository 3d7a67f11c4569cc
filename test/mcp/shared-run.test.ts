import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, KEY, mcpConfig, startGateway, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const ask = (text: string) => ({ model: 'sim-small', messages: [{ role: 'user' as const, content: text }] });

describe('MCP gateway: one run across model and tool calls', () => {
  it('model calls and MCP tool calls with the same run id count in one run', async () => {
    gw = await startGateway(mcpConfig());
    const run = await gw.guard.startRun({ key: KEY, id: 'shared-run-1' });
    await run.callModel(ask('Which files mention refunds?'));
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'shared-run-1' } });
    await client.callTool({ name: 'search', arguments: { query: 'refund' } });
    await client.callTool({ name: 'read_file', arguments: { path: '/docs/refund-policy.md' } });
    await run.callModel(ask('Summarise the refund policy.'));
    const usage = await run.usage();
    expect(usage.steps).toBe(2);
    expect(usage.toolCalls).toBe(2);
    expect(usage.totalTokens).toBeGreaterThan(0);
    await client.close();
  });

  it('a loop caught on the tool side stops the model side of the run', async () => {
    gw = await startGateway(mcpConfig({ limits: { maxIdenticalToolCalls: 2 } }));
    const run = await gw.guard.startRun({ key: KEY, id: 'shared-run-2' });
    await run.callModel(ask('go'));
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'shared-run-2' } });
    const call = () => client.callTool({ name: 'search', arguments: { query: 'same' } });
    await call();
    await call();
    await expect(call()).rejects.toMatchObject({ data: { code: 'loop.repeated_tool_call' } });
    await expect(run.callModel(ask('again'))).rejects.toMatchObject({ code: 'loop.repeated_tool_call' });
    await client.close();
  });

  it('a run stopped by its owner refuses the MCP side with kill.switch', async () => {
    gw = await startGateway(mcpConfig());
    const run = await gw.guard.startRun({ key: KEY, id: 'shared-run-3' });
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'shared-run-3' } });
    await client.callTool({ name: 'search', arguments: { query: 'a' } });
    await run.stop('the task is done');
    await expect(client.callTool({ name: 'search', arguments: { query: 'b' } })).rejects.toMatchObject({ data: { code: 'kill.switch' } });
    await client.close();
  });

  it('x-fmguard-parent-run makes the MCP run a sub-run: its tool calls count against the parent too', async () => {
    gw = await startGateway(mcpConfig({ limits: { maxToolCalls: 2 } }));
    const parent = await gw.guard.startRun({ key: KEY, id: 'parent-run-1' });
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'child-run-1', 'x-fmguard-parent-run': 'parent-run-1' } });
    await client.callTool({ name: 'search', arguments: { query: 'a' } });
    await parent.callTool({ tool: 'local.echo', args: { x: 1 }, execute: (a) => a });
    await expect(client.callTool({ name: 'search', arguments: { query: 'b' } })).rejects.toMatchObject({ data: { code: 'limit.tool_calls' } });
    expect((await parent.usage()).toolCalls).toBe(2);
    const child = await gw.guard.startRun({ key: KEY, id: 'child-run-1' });
    expect(child.parentId).toBe('parent-run-1@bot');
    expect(child.depth).toBe(1);
    await client.close();
  });
});
