import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDemoToolServer,
  createDemoWorld,
  createGuard,
  FMGUARD_JSONRPC_ERROR,
  frameworkConfig,
  mcp,
  rejection,
  type DemoWorld,
  type Guard,
} from './helpers.ts';

const { guardMcpClient } = mcp;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function guardFor(agent: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Guard {
  const guard = createGuard({ config: frameworkConfig(agent, { toolServers: { demo: { kind: 'builtin' } }, ...extra }) });
  closers.push(() => guard.close());
  return guard;
}

/** A real MCP client connected to a real MCP server over the SDK's in-memory transport pair. */
async function connect(server: Server): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(clientSide);
  closers.push(async () => {
    await client.close();
    await server.close();
  });
  return client;
}

async function demoClient(world: DemoWorld = createDemoWorld()): Promise<Client> {
  return connect(createDemoToolServer({ world }));
}

const text = (result: CallToolResult) => (result.content[0] as { text: string }).text;

describe('fmguard/mcp-client', () => {
  it('listTools shows only the tools the agent’s policy lets it call', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const client = guardMcpClient(await demoClient(), run, { server: 'demo' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['read_file', 'search', 'send_email', 'sleep']);
  });

  it('callTool runs an allowed tool on the server, counted on the run', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const world = createDemoWorld();
    const client = guardMcpClient(await demoClient(world), run, { server: 'demo' });
    const result = (await client.callTool({ name: 'read_file', arguments: { path: '/docs/refund-policy.md' } })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toContain('Refund policy');
    expect(world.calls).toEqual(['read_file']);
    expect((await run.usage()).toolCalls).toBe(1);
  });

  it('a forbidden tool is refused as an isError result the model can read, and never reaches the server', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const world = createDemoWorld();
    const client = guardMcpClient(await demoClient(world), run, { server: 'demo' });
    const result = (await client.callTool({ name: 'delete_file', arguments: { path: '/docs/readme.md' } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^policy\.denied: /);
    expect(result.structuredContent).toMatchObject({ fmguard: { code: 'policy.denied', retryable: false } });
    expect(world.calls).toEqual([]);
    expect(world.files.has('/docs/readme.md')).toBe(true);
  });

  it('the policy judges the call’s arguments; an approval is asked for, and the identical call passes once approved', async () => {
    const guard = guardFor({}, { policies: { global: 'policies/demo-guardrails.cedar' } });
    const run = await guard.startRun({ agent: 'bot' });
    const world = createDemoWorld();
    const client = guardMcpClient(await demoClient(world), run, { server: 'demo' });
    const outside = (await client.callTool({ name: 'send_email', arguments: { to: 'someone@elsewhere.net', subject: 'hi', body: 'data' } })) as CallToolResult;
    expect(outside.structuredContent).toMatchObject({ fmguard: { code: 'policy.denied' } });

    const mail = { name: 'send_email', arguments: { to: 'ada@example.com', subject: 'Refund', body: 'Approved.' } };
    const pending = (await client.callTool(mail)) as CallToolResult;
    expect(pending.structuredContent).toMatchObject({ fmguard: { code: 'approval.required' } });
    expect(world.outbox).toHaveLength(0);
    const approvalId = (pending.structuredContent as { fmguard: { approvalId: string } }).fmguard.approvalId;
    await guard.approve(approvalId, 'test');
    const sent = (await client.callTool(mail)) as CallToolResult;
    expect(sent.isError).toBeFalsy();
    expect(world.outbox).toHaveLength(1);
  });

  it('a slow tool is timed out and its request cancelled on the server', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const world = createDemoWorld();
    const client = guardMcpClient(await demoClient(world), run, { server: 'demo', timeoutMs: 150 });
    const result = (await client.callTool({ name: 'sleep', arguments: { ms: 60_000 } })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ fmguard: { code: 'timeout.tool' } });
    await expect.poll(() => world.sleeps[0]?.outcome).toBe('cancelled');
  });

  it('the same call repeated is stopped by the loop detector: the run ends with McpError -32010', async () => {
    const guard = guardFor({ limits: { maxIdenticalToolCalls: 3 } });
    const run = await guard.startRun({ agent: 'bot' });
    const world = createDemoWorld();
    const client = guardMcpClient(await demoClient(world), run, { server: 'demo' });
    const call = { name: 'search', arguments: { query: 'refund' } };
    for (let i = 0; i < 3; i++) expect(((await client.callTool(call)) as CallToolResult).isError).toBeFalsy();
    const error = await rejection(client.callTool(call));
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(FMGUARD_JSONRPC_ERROR);
    expect((error as McpError).data).toMatchObject({ code: 'loop.repeated_tool_call' });
    expect(world.calls).toHaveLength(3);
    // The run is over: any further call is refused the same way.
    const after = await rejection(client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.md' } }));
    expect((after as McpError).data).toMatchObject({ code: 'loop.repeated_tool_call' });
  });

  it('the run’s tool-call limit stops further calls with limit.tool_calls', async () => {
    const guard = guardFor({ limits: { maxToolCalls: 2 } });
    const run = await guard.startRun({ agent: 'bot' });
    const client = guardMcpClient(await demoClient(), run, { server: 'demo' });
    await client.callTool({ name: 'search', arguments: { query: 'a' } });
    await client.callTool({ name: 'search', arguments: { query: 'b' } });
    const error = await rejection(client.callTool({ name: 'search', arguments: { query: 'c' } }));
    expect((error as McpError).data).toMatchObject({ code: 'limit.tool_calls', limit: 2 });
  });

  it('a kill cancels a call in flight on the server and refuses the rest', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const world = createDemoWorld();
    const client = guardMcpClient(await demoClient(world), run, { server: 'demo' });
    const inFlight = client.callTool({ name: 'sleep', arguments: { ms: 60_000 } });
    await expect.poll(() => world.sleeps.length).toBe(1);
    await guard.kill(`run:${run.id}`, 'operator pressed stop');
    const error = await rejection(inFlight);
    expect((error as McpError).data).toMatchObject({ code: 'kill.switch' });
    await expect.poll(() => world.sleeps[0]?.outcome).toBe('cancelled');
  });

  it('a failing server call is retried by fmguard’s retry policy', async () => {
    // Tools are retried only when the config gives them a retry and marks them idempotent (the agent's
    // `retry` is for model calls). The flaky server is the caller's own client, declared here for its settings.
    const guard = guardFor(
      { allow: { models: ['*'], tools: ['flaky.*'] } },
      {
        toolServers: {
          demo: { kind: 'builtin' },
          flaky: {
            kind: 'http',
            url: 'http://127.0.0.1:9/mcp',
            tools: { fetch: { idempotent: true, retry: [{ errorEquals: ['upstream.error'], intervalMs: 1, maxAttempts: 3 }] } },
          },
        },
      },
    );
    const run = await guard.startRun({ agent: 'bot' });
    let calls = 0;
    const server = new Server({ name: 'flaky', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [{ name: 'fetch', inputSchema: { type: 'object' } }] }));
    server.setRequestHandler(CallToolRequestSchema, () => {
      if (++calls < 3) throw new Error('upstream hiccup');
      return { content: [{ type: 'text', text: 'finally' }] };
    });
    const client = guardMcpClient(await connect(server), run, { server: 'flaky' });
    const result = (await client.callTool({ name: 'fetch', arguments: {} })) as CallToolResult;
    expect(text(result)).toBe('finally');
    expect(calls).toBe(3);
  });

  it('everything else is the client itself', async () => {
    const guard = guardFor();
    const run = await guard.startRun({ agent: 'bot' });
    const raw = await demoClient();
    const client = guardMcpClient(raw, run, { server: 'demo' });
    expect(client.getServerVersion()?.name).toBe('fmguard-demo-tools');
    await expect(client.ping()).resolves.toBeDefined();
  });
});
