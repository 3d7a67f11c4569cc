import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, fmguardOf, KEY, listAuthorizer, mcpConfig, OTHER_KEY, startGateway, textOf, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${KEY}` };
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

async function post(path: string, body: string, headers: Record<string, string> = MCP_HEADERS) {
  const res = await fetch(`${gw!.url}${path}`, { method: 'POST', headers, body });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as { error?: { code: number; message: string; data?: { code?: string } }; result?: unknown },
  };
}

describe('MCP gateway: bad input gets a clear error', () => {
  it('an unknown tool server is a 404 naming it', async () => {
    gw = await startGateway(mcpConfig());
    const res = await post('/mcp/nope', LIST);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-fmguard-code')).toBe('request.invalid');
    expect(res.body.error?.message).toBe('no MCP tool server named "nope" on this gateway (use /mcp/{server})');
    expect((await post('/mcp/', LIST)).status).toBe(404);
    expect((await post('/mcp/demo/extra', LIST)).status).toBe(404);
  });

  it('the official client gets the 404 for an unknown server', async () => {
    gw = await startGateway(mcpConfig());
    await expect(connectClient(gw, { server: 'nope' })).rejects.toThrow(/Error POSTing to endpoint.*no MCP tool server named/);
  });

  it('a missing or unknown key is a 401', async () => {
    gw = await startGateway(mcpConfig());
    const { authorization: _, ...anonymous } = MCP_HEADERS;
    const none = await post('/mcp/demo', LIST, anonymous);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(none.body.error).toMatchObject({ message: 'missing API key', data: { code: 'auth.invalid' } });
    const wrong = await post('/mcp/demo', LIST, { ...MCP_HEADERS, authorization: 'Bearer sk-not-a-key-0000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.message).toBe('unknown API key');
  });

  it('an unknown tool is a JSON-RPC invalid-params error naming it', async () => {
    gw = await startGateway(mcpConfig());
    const { client } = await connectClient(gw);
    const error = await client.callTool({ name: 'launch_rockets', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -32602, data: { code: 'request.invalid', tool: 'demo.launch_rockets' } });
    expect((error as Error).message).toContain('unknown tool "launch_rockets" on MCP server "demo"');
    await client.close();
  });

  it('arguments that fail the tool schema: request.invalid saying what is wrong, and the tool never runs', async () => {
    // Each bad call counts as a failed call (three in a row would end the run by default).
    gw = await startGateway(mcpConfig({ limits: { maxConsecutiveErrors: 10 } }));
    const { client } = await connectClient(gw);
    const missing = await client.callTool({ name: 'read_file', arguments: {} });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toBe("request.invalid: arguments for demo.read_file do not match its input schema: arguments must have required property 'path'");
    expect(fmguardOf(missing)).toMatchObject({ code: 'request.invalid', param: 'arguments' });
    const wrongType = await client.callTool({ name: 'search', arguments: { query: 'x', limit: 500 } });
    expect(textOf(wrongType)).toContain('arguments/limit must be <= 50');
    const extra = await client.callTool({ name: 'sleep', arguments: { ms: 1, evil: true } });
    expect(textOf(extra)).toContain('must NOT have additional properties');
    expect(gw.world.calls).toEqual([]);
    await client.close();
  });

  it('malformed JSON is the SDK parse error; a non-JSON-RPC body too', async () => {
    gw = await startGateway(mcpConfig());
    const broken = await post('/mcp/demo', '{"jsonrpc": "2.0", ');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatchObject({ code: -32700, message: 'Parse error: Invalid JSON' });
    const notRpc = await post('/mcp/demo', JSON.stringify({ hello: 'world' }));
    expect(notRpc.status).toBe(400);
    expect(notRpc.body.error).toMatchObject({ code: -32700, message: 'Parse error: Invalid JSON-RPC message' });
  });

  it('a body over the limit is a 413', async () => {
    gw = await startGateway(mcpConfig(), { maxBodyBytes: 1024 });
    const res = await post(
      '/mcp/demo',
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search', arguments: { query: 'x'.repeat(5000) } } }),
    );
    expect(res.status).toBe(413);
  });

  it("another agent's session id is not found, and a bad run id is a JSON-RPC error", async () => {
    gw = await startGateway(mcpConfig(), { authorizer: listAuthorizer({ bot: { allow: ['demo.*'] }, other: { allow: ['demo.*'] } }) });
    const { client, transport } = await connectClient(gw);
    const hijack = await post('/mcp/demo', LIST, { ...MCP_HEADERS, authorization: `Bearer ${OTHER_KEY}`, 'mcp-session-id': transport.sessionId! });
    expect(hijack.status).toBe(404);
    expect(hijack.body.error?.message).toBe('Session not found');
    await client.close();

    const bad = await connectClient(gw, { headers: { 'x-fmguard-run': 'not a valid id!' } });
    await expect(bad.client.callTool({ name: 'search', arguments: { query: 'x' } })).rejects.toMatchObject({ data: { code: 'request.invalid', param: 'run' } });
    await bad.client.close();

    // A run that belongs to another agent (named by its scoped id; the bare name would be other's own run).
    const mine = await connectClient(gw, { headers: { 'x-fmguard-run': 'owned-by-bot' } });
    await mine.client.callTool({ name: 'search', arguments: { query: 'x' } });
    const theirs = await connectClient(gw, { key: OTHER_KEY, headers: { 'x-fmguard-run': 'owned-by-bot@bot' } });
    await expect(theirs.client.callTool({ name: 'search', arguments: { query: 'x' } })).rejects.toMatchObject({ data: { code: 'auth.invalid' } });
    await Promise.all([mine.client.close(), theirs.client.close()]);
  });
});
