import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientUpstream, connectInProcess, truncateResult } from '../../src/mcp/index.ts';
import { connectClient, listAuthorizer, mcpConfig, startGateway, textOf, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('truncateResult', () => {
  it('returns a result within the limit as it is', () => {
    const result = { content: [{ type: 'text' as const, text: 'short' }] };
    expect(truncateResult(result, 1000)).toBe(result);
  });

  it('cuts the text that crosses the limit, drops later blocks and says so', () => {
    const result = {
      content: [
        { type: 'text' as const, text: 'a'.repeat(300) },
        { type: 'text' as const, text: 'b'.repeat(5000) },
        { type: 'image' as const, data: 'A'.repeat(4000), mimeType: 'image/png' },
      ],
    };
    const out = truncateResult(result, 1024);
    const texts = out.content.map((c) => (c.type === 'text' ? c.text : c.type));
    expect(texts[0]).toBe('a'.repeat(300));
    expect(texts[1]).toBe('b'.repeat(1024 - 256 - 300));
    expect(texts[2]).toBe('[fmguard: the tool result was 9300 bytes, over the limit of 1024; it was cut; 1 content block(s) omitted]');
    expect(out._meta).toEqual({ fmguard: { truncated: true, originalBytes: 9300, limitBytes: 1024 } });
    const size = out.content.reduce((n, c) => n + (c.type === 'text' ? Buffer.byteLength(c.text) : 0), 0);
    expect(size).toBeLessThanOrEqual(1024);
  });

  it('never splits a multi-byte character', () => {
    const out = truncateResult({ content: [{ type: 'text', text: '€'.repeat(1000) }] }, 512);
    const first = out.content[0]!;
    expect(first.type === 'text' && first.text).toBe('€'.repeat(85)); // 256 bytes of room, 3 bytes each
  });

  it('drops structured content that does not fit; for a typed tool the result becomes an error', () => {
    const result = { content: [{ type: 'text' as const, text: 'ok' }], structuredContent: { rows: 'x'.repeat(5000) } };
    expect(truncateResult(result, 1024).structuredContent).toBeUndefined();
    expect(truncateResult(result, 1024).isError).toBeUndefined();
    expect(truncateResult(result, 1024, true).isError).toBe(true);
  });
});

/** An in-process server with one typed tool (an outputSchema), to see how refusals and truncation treat it. */
function typedServer(): Server {
  const server = new Server({ name: 'typed', version: '0' }, { capabilities: { tools: {} } });
  const tool = {
    name: 'weather',
    inputSchema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
    outputSchema: { type: 'object' as const, properties: { report: { type: 'string' } }, required: ['report'] },
  };
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [tool] }));
  server.setRequestHandler(CallToolRequestSchema, (request) => {
    const report = request.params.arguments?.city === 'Big' ? 'sunny '.repeat(2000) : 'sunny';
    return { content: [{ type: 'text', text: report }], structuredContent: { report } };
  });
  return server;
}

describe('MCP gateway: result size', () => {
  it('a large tool result is truncated with a note before it reaches the model', async () => {
    gw = await startGateway(mcpConfig(), { maxResultBytes: 2000 });
    gw.world.files.set('/big.log', 'line of log output\n'.repeat(20_000));
    const { client } = await connectClient(gw);
    const result = await client.callTool({ name: 'read_file', arguments: { path: '/big.log' } });
    const text = textOf(result);
    expect(Buffer.byteLength(text)).toBeLessThan(2100);
    expect(text).toContain('[fmguard: the tool result was 380000 bytes, over the limit of 2000; it was cut]');
    expect(result._meta).toMatchObject({ fmguard: { truncated: true, originalBytes: 380000, limitBytes: 2000 } });
    await client.close();
  });

  it('for a tool with an outputSchema, refusals and cut results stay acceptable to the official client', async () => {
    const typed = new ClientUpstream({ name: 'typed', kind: 'builtin', connect: () => connectInProcess(typedServer) });
    gw = await startGateway(mcpConfig(), {
      upstreams: { typed },
      maxResultBytes: 1000,
      authorizer: listAuthorizer({ bot: { allow: ['typed.weather'] }, other: {} }),
    });
    const { client } = await connectClient(gw, { server: 'typed' });
    await client.listTools(); // the client learns the output schema and checks results against it
    const ok = await client.callTool({ name: 'weather', arguments: { city: 'Oslo' } });
    expect(ok.structuredContent).toEqual({ report: 'sunny' });
    const cut = await client.callTool({ name: 'weather', arguments: { city: 'Big' } });
    expect(cut.isError).toBe(true);
    expect(textOf(cut)).toContain('structured content omitted');

    const other = await connectClient(gw, { server: 'typed', key: 'sk-test-mcp-other-1' });
    await other.client.listTools();
    const denied = await other.client.callTool({ name: 'weather', arguments: { city: 'Oslo' } });
    expect(denied.isError).toBe(true);
    expect(denied.structuredContent).toBeUndefined();
    expect(denied._meta).toMatchObject({ fmguard: { code: 'policy.denied' } });
    await Promise.all([client.close(), other.client.close()]);
  });
});
