/**
 * The MCP gateway authenticates the same way: a minted key's agent gets its tools, and once the key
 * is revoked the next request (even on an open session) is refused with 401.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintApiKey, revokeApiKey } from '../../src/runtime/api-keys.ts';
import { connectClient, mcpConfig, startGateway, type TestGateway } from '../mcp/helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('MCP with a minted key', () => {
  it('lists and calls tools as the key’s agent, and refuses the key after it is revoked', async () => {
    gw = await startGateway(mcpConfig({ allow: { tools: ['demo.search'] } }));
    const parts = () => ({ store: gw!.guard.store, config: gw!.guard.config, now: Date.now() });
    const { secret, key } = await mintApiKey(parts(), { agent: 'bot', by: 'test' });
    const { client } = await connectClient(gw, { key: secret });
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(['search']);
    const result = await client.callTool({ name: 'search', arguments: { query: 'x' } });
    expect(result.isError).toBeFalsy();
    await revokeApiKey(parts(), key.id, 'test');
    await expect(client.listTools()).rejects.toThrow(/401|revoked/);
    const res = await fetch(`${gw.url}/mcp/demo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(JSON.stringify(await res.json())).toContain('auth.invalid');
    await client.close().catch(() => {});
  });
});
