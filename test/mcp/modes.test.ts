import { afterEach, describe, expect, it } from 'vitest';
import type { GuardEvent } from '../../src/runtime/events.ts';
import { connectClient, KEY, mcpConfig, startGateway, textOf, until, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEY}` };
const SEARCH = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'search', arguments: { query: 'refund' } } });

function runStarts(gateway: TestGateway): string[] {
  const ids: string[] = [];
  gateway.guard.on((e: GuardEvent) => {
    if (e.type === 'run.started') ids.push(e.run.id);
  });
  return ids;
}

describe('MCP gateway: session mode', () => {
  it('initialize opens a session; calls without x-fmguard-run share the session run, which ends with the session', async () => {
    gw = await startGateway(mcpConfig({ limits: { maxIdenticalToolCalls: 2 } }));
    const runs = runStarts(gw);
    const { client, transport } = await connectClient(gw);
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(gw.handler.sessionCount).toBe(1);
    const call = () => client.callTool({ name: 'search', arguments: { query: 'refund' } });
    await call();
    await call();
    // One run for the session, so the repetition is seen across calls.
    await expect(call()).rejects.toMatchObject({ data: { code: 'loop.repeated_tool_call' } });
    expect(runs).toHaveLength(1);
    await transport.terminateSession();
    await until(() => gw!.handler.sessionCount === 0, 5000, 'the session to close');
    await client.close();
  });

  it('a session ends its run when the client deletes it', async () => {
    gw = await startGateway(mcpConfig());
    const runs = runStarts(gw);
    const { client, transport } = await connectClient(gw);
    await client.callTool({ name: 'search', arguments: { query: 'refund' } });
    await transport.terminateSession();
    await until(async () => (await gw!.guard.store.runs.get(runs[0]!))?.status === 'completed', 5000, 'the run to end');
    await client.close();
  });

  it('idle sessions are closed', async () => {
    gw = await startGateway(mcpConfig(), { sessionIdleMs: 1000 });
    const { client } = await connectClient(gw);
    expect(gw.handler.sessionCount).toBe(1);
    await until(() => gw!.handler.sessionCount === 0, 8000, 'the idle session to close');
    await client.close();
  });

  it('mode "session" refuses requests without a session', async () => {
    gw = await startGateway(mcpConfig(), { mode: 'session' });
    const res = await fetch(`${gw.url}/mcp/demo`, { method: 'POST', headers: HEADERS, body: SEARCH });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('Bad Request: Mcp-Session-Id header is required');
  });
});

describe('MCP gateway: stateless mode', () => {
  it('mode "stateless": no session id, and each call without x-fmguard-run is a run of its own', async () => {
    gw = await startGateway(mcpConfig({ limits: { maxIdenticalToolCalls: 2 } }), { mode: 'stateless' });
    const runs = runStarts(gw);
    const { client, transport } = await connectClient(gw);
    expect(transport.sessionId).toBeUndefined();
    expect(gw.handler.sessionCount).toBe(0);
    for (let i = 0; i < 3; i++) expect(textOf(await client.callTool({ name: 'search', arguments: { query: 'refund' } }))).toContain('refund');
    expect(runs).toHaveLength(3);
    // Each of those runs ended with its call.
    for (const id of runs) expect((await gw.guard.store.runs.get(id))?.status).toBe('completed');
    expect((await client.listTools()).tools.length).toBe(7);
    await client.close();
  });

  it('stateless calls that name a run share it (limits and loop detection apply across requests)', async () => {
    gw = await startGateway(mcpConfig({ limits: { maxIdenticalToolCalls: 2 } }), { mode: 'stateless' });
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'stateless-run-1' } });
    await client.callTool({ name: 'search', arguments: { query: 'refund' } });
    await client.callTool({ name: 'search', arguments: { query: 'refund' } });
    await expect(client.callTool({ name: 'search', arguments: { query: 'refund' } })).rejects.toMatchObject({
      data: { code: 'loop.repeated_tool_call', runId: 'stateless-run-1@bot' },
    });
    await client.close();
  });

  it('mode "auto": a client asks for stateless with x-fmguard-mcp-mode, or simply skips initialize', async () => {
    gw = await startGateway(mcpConfig());
    const { client, transport } = await connectClient(gw, { headers: { 'x-fmguard-mcp-mode': 'stateless' } });
    expect(transport.sessionId).toBeUndefined();
    expect(textOf(await client.callTool({ name: 'read_file', arguments: { path: '/notes/todo.txt' } }))).toContain('ticket 4711');
    await client.close();

    const res = await fetch(`${gw.url}/mcp/demo`, { method: 'POST', headers: { ...HEADERS, 'x-fmguard-run': 'raw-1' }, body: SEARCH });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(res.headers.get('x-fmguard-run')).toBe('raw-1');
    const body = (await res.json()) as { id: number; result: { content: Array<{ text: string }> } };
    expect(body.id).toBe(7);
    expect(body.result.content[0]!.text).toContain('/docs/refund-policy.md');
  });

  it('a stateless client that hangs up cancels its call upstream', async () => {
    gw = await startGateway(mcpConfig(), { mode: 'stateless' });
    const controller = new AbortController();
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'sleep', arguments: { ms: 20_000 } } });
    const pending = fetch(`${gw.url}/mcp/demo`, { method: 'POST', headers: HEADERS, body, signal: controller.signal }).catch(() => undefined);
    await until(() => gw!.world.sleeps.length === 1, 5000, 'the sleep to start');
    controller.abort();
    await pending;
    await until(() => gw!.world.sleeps[0]!.outcome === 'cancelled', 5000, 'the upstream cancellation');
  });

  it('GET without a session is 405 (stateless requests are POSTs)', async () => {
    gw = await startGateway(mcpConfig());
    const res = await fetch(`${gw.url}/mcp/demo`, { headers: { ...HEADERS, accept: 'text/event-stream' } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    await res.body?.cancel();
  });
});
