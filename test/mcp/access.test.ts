import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOOLS } from '../../src/demo/tools/index.ts';
import { FMGUARD_JSONRPC_ERROR } from '../../src/mcp/index.ts';
import { connectClient, fmguardOf, listAuthorizer, mcpConfig, startGateway, textOf, until, type TestGateway } from './helpers.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** The bot's access, as config shorthand (compiled to Cedar by the guard's policy engine). */
const botAccess = {
  allow: { tools: ['demo.search', 'demo.read_*', 'demo.sleep'] },
  approve: { tools: ['demo.send_email'] },
  deny: { tools: ['demo.delete_file'] },
};
const config = (agent: Record<string, unknown> = {}) => mcpConfig({ ...botAccess, ...agent });

const POLICY_DIR = mkdtempSync(join(tmpdir(), 'fmguard-mcp-policies-'));
afterAll(() => rmSync(POLICY_DIR, { recursive: true, force: true }));

/** What a JSON-RPC error from the gateway carries. */
async function rpcError(promise: Promise<unknown>): Promise<{ code: number; data: Record<string, unknown>; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(McpError);
  const e = error as McpError;
  return { code: e.code, data: e.data as Record<string, unknown>, message: e.message };
}

describe('MCP gateway: least privilege', () => {
  it('tools/list shows only the tools the agent may call (approval ones included)', async () => {
    gw = await startGateway(config());
    const bot = await connectClient(gw);
    const names = (await bot.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['read_file', 'search', 'send_email', 'sleep']);
    const tool = (await bot.client.listTools()).tools.find((t) => t.name === 'read_file')!;
    expect(tool.inputSchema).toMatchObject({ type: 'object', required: ['path'] });

    const other = await connectClient(gw, { key: 'sk-test-mcp-other-1' });
    expect((await other.client.listTools()).tools).toHaveLength(7);
    await Promise.all([bot.client.close(), other.client.close()]);
  });

  it('an agent allowed "*" sees every tool', async () => {
    gw = await startGateway(mcpConfig());
    const { client } = await connectClient(gw);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('delete_file');
    await client.close();
  });

  it('Cedar policies on the arguments: listing asks whether some arguments could be allowed; each call is judged on its own', async () => {
    const file = join(POLICY_DIR, 'bot.cedar');
    writeFileSync(
      file,
      `@id("write-files")
permit (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.write_file");
@id("no-etc")
forbid (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.write_file")
when { context.input has path && context.input.path like "/etc/*" };
@id("acme-mail")
permit (principal, action == Fmguard::Action::"callTool", resource == Fmguard::Tool::"demo.send_email")
when { context.input has to && context.input.to like "*@acme.com" };
`,
    );
    const tools = Object.fromEntries(
      [...DEMO_TOOLS.values()].map((t) => [t.definition.name, { inputSchema: t.definition.inputSchema as Record<string, unknown> }]),
    );
    gw = await startGateway(mcpConfig({ allow: { tools: ['demo.search'] }, policies: file }, { toolServers: { demo: { kind: 'builtin', tools } } }));
    const { client } = await connectClient(gw);
    // The permit-plus-guarded-forbid tool is listed, and so is the permit that needs certain arguments
    // (partial evaluation: some arguments could be allowed).
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['search', 'send_email', 'write_file']);
    const bad = await client.callTool({ name: 'write_file', arguments: { path: '/etc/passwd', content: 'x' } });
    expect(fmguardOf(bad)).toMatchObject({ code: 'policy.denied', policies: ['agent:bot:no-etc'] });
    const good = await client.callTool({ name: 'write_file', arguments: { path: '/notes/a.txt', content: 'hello' } });
    expect(good.isError).toBeFalsy();
    expect(gw.world.files.get('/notes/a.txt')).toBe('hello');
    // Callable with arguments the policy permits, and not with others.
    const mail = await client.callTool({ name: 'send_email', arguments: { to: 'ops@acme.com', subject: 'hi', body: 'x' } });
    expect(mail.isError).toBeFalsy();
    const outside = await client.callTool({ name: 'send_email', arguments: { to: 'eve@evil.example', subject: 'hi', body: 'x' } });
    expect(fmguardOf(outside)?.code).toBe('policy.denied');
    expect(gw.world.outbox.map((m) => m.to)).toEqual(['ops@acme.com']);
    await client.close();
  });

  it('an allowed call reaches the tool; a denied one is an isError result with policy.denied', async () => {
    gw = await startGateway(config());
    const { client } = await connectClient(gw);
    const ok = await client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.md' } });
    expect(ok.isError).toBeFalsy();
    expect(textOf(ok)).toContain('Acme support');

    const denied = await client.callTool({ name: 'delete_file', arguments: { path: '/docs/readme.md' } });
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toMatch(/^policy\.denied: bot may not call tool demo\.delete_file/);
    expect(fmguardOf(denied)).toMatchObject({ code: 'policy.denied', retryable: false, resource: 'demo.delete_file' });
    // The tool never ran, and the agent can go on.
    expect(gw.world.files.has('/docs/readme.md')).toBe(true);
    expect(gw.world.calls).toEqual(['read_file']);
    const again = await client.callTool({ name: 'search', arguments: { query: 'refund' } });
    expect(textOf(again)).toContain('/docs/refund-policy.md');
    await client.close();
  });

  it('a hand-written authorizer passed to createGuard works the same way', async () => {
    const conditional = listAuthorizer({
      bot: {
        allow: ['demo.write_file'],
        custom: (r) => {
          const input = r.context.input as { path?: string; to?: string } | undefined;
          // "may write, except under /etc": a permit plus a conditional forbid.
          if (r.resource === 'demo.write_file' && input?.path?.startsWith('/etc/')) return { effect: 'deny', policies: ['no-etc'] };
          // "may email only acme.com": a permit that reads the arguments.
          if (r.resource === 'demo.send_email')
            return input?.to?.endsWith('@acme.com') ? { effect: 'allow', policies: ['acme-mail'] } : { effect: 'deny', policies: [] };
          return undefined;
        },
      },
    });
    gw = await startGateway(mcpConfig(), { authorizer: conditional });
    const { client } = await connectClient(gw);
    // Listing probes with no arguments: the forbid-style rule lists write_file; the argument-reading permit hides send_email.
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['write_file']);
    const bad = await client.callTool({ name: 'write_file', arguments: { path: '/etc/passwd', content: 'x' } });
    expect(fmguardOf(bad)).toMatchObject({ code: 'policy.denied', policies: ['no-etc'] });
    const good = await client.callTool({ name: 'write_file', arguments: { path: '/notes/a.txt', content: 'hello' } });
    expect(good.isError).toBeFalsy();
    expect(gw.world.files.get('/notes/a.txt')).toBe('hello');
    // Hidden from the list, yet callable with arguments the policy permits.
    const mail = await client.callTool({ name: 'send_email', arguments: { to: 'ops@acme.com', subject: 'hi', body: 'x' } });
    expect(mail.isError).toBeFalsy();
    await client.close();
  });
});

describe('MCP gateway: approvals', () => {
  it('approval.required, then approved with guard.approve, and the identical call passes once', async () => {
    gw = await startGateway(config());
    const { client } = await connectClient(gw);
    const args = { to: 'ada@example.com', subject: 'Refund', body: 'Your refund of $120 is approved.' };
    const first = await client.callTool({ name: 'send_email', arguments: args });
    expect(first.isError).toBe(true);
    expect(textOf(first)).toMatch(/^approval\.required: demo\.send_email needs approval/);
    const info = fmguardOf(first)!;
    expect(info).toMatchObject({ code: 'approval.required', tool: 'demo.send_email' });
    expect(gw.world.outbox).toHaveLength(0);

    await gw.guard.approve(String(info.approvalId), 'alice');
    // Different arguments are a different call: not covered by the approval.
    const other = await client.callTool({ name: 'send_email', arguments: { ...args, body: 'changed' } });
    expect(fmguardOf(other)?.code).toBe('approval.required');
    const second = await client.callTool({ name: 'send_email', arguments: { ...args } });
    expect(second.isError).toBeFalsy();
    expect(gw.world.outbox).toHaveLength(1);
    // Single use: the same call again needs a new approval.
    const third = await client.callTool({ name: 'send_email', arguments: args });
    expect(fmguardOf(third)?.code).toBe('approval.required');
    await client.close();
  });

  it('a denied approval comes back as approval.denied', async () => {
    gw = await startGateway(config());
    const { client } = await connectClient(gw);
    const args = { to: 'x@example.com', subject: 's', body: 'b' };
    const first = await client.callTool({ name: 'send_email', arguments: args });
    await gw.guard.deny(String(fmguardOf(first)!.approvalId), 'bob', 'not to customers');
    const again = await client.callTool({ name: 'send_email', arguments: args });
    expect(fmguardOf(again)).toMatchObject({ code: 'approval.denied', deniedBy: 'bob' });
    expect(gw.world.outbox).toHaveLength(0);
    await client.close();
  });

  it('with approvals.waitMs the call waits and goes through once approved', async () => {
    gw = await startGateway(config({ approvals: { waitMs: 10_000 } }));
    const { client } = await connectClient(gw);
    const pending = client.callTool({ name: 'send_email', arguments: { to: 'a@example.com', subject: 's', body: 'b' } });
    let id = '';
    await until(async () => {
      const open = await gw!.guard.listApprovals({ status: 'pending' });
      id = open[0]?.id ?? '';
      return id !== '';
    });
    await gw.guard.approve(id);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    expect(gw.world.outbox).toHaveLength(1);
    await client.close();
  });
});

describe('MCP gateway: run stops are JSON-RPC errors', () => {
  it('the same call repeated: loop.repeated_tool_call ends the run', async () => {
    gw = await startGateway(config({ limits: { maxIdenticalToolCalls: 2 } }));
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'loop-run-1' } });
    const call = () => client.callTool({ name: 'search', arguments: { query: 'refund' } });
    await call();
    await call();
    const stop = await rpcError(call());
    expect(stop.code).toBe(FMGUARD_JSONRPC_ERROR);
    expect(stop.data).toMatchObject({ code: 'loop.repeated_tool_call', retryable: false, runId: 'loop-run-1@bot' });
    expect(stop.message).toContain('loop.repeated_tool_call');
    // The run is over: a different call is refused too.
    const after = await rpcError(client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.md' } }));
    expect(after.data.code).toBe('loop.repeated_tool_call');
    expect(gw.world.calls).toEqual(['search', 'search']);
    await client.close();
  });

  it('the run tool-call limit: limit.tool_calls', async () => {
    gw = await startGateway(config({ limits: { maxToolCalls: 2 } }));
    const { client } = await connectClient(gw);
    await client.callTool({ name: 'search', arguments: { query: 'a' } });
    await client.callTool({ name: 'search', arguments: { query: 'b' } });
    const stop = await rpcError(client.callTool({ name: 'search', arguments: { query: 'c' } }));
    expect(stop.data).toMatchObject({ code: 'limit.tool_calls', limit: 2, used: 2 });
    await client.close();
  });

  it('a kill switch: kill.switch, and a call in flight is cancelled upstream', async () => {
    gw = await startGateway(config());
    const { client } = await connectClient(gw, { headers: { 'x-fmguard-run': 'kill-run-1' } });
    const slow = rpcError(client.callTool({ name: 'sleep', arguments: { ms: 20_000 } }));
    await until(() => gw!.world.sleeps.length === 1, 5000, 'the sleep to start');
    await gw.guard.kill('run:kill-run-1@bot', 'runaway');
    const stop = await slow;
    expect(stop.data).toMatchObject({ code: 'kill.switch', scope: 'run:kill-run-1@bot' });
    await until(() => gw!.world.sleeps[0]!.outcome === 'cancelled', 5000, 'the upstream to see the cancellation');
    expect(gw.world.sleeps[0]!.elapsedMs).toBeLessThan(5000);
    const next = await rpcError(client.callTool({ name: 'search', arguments: { query: 'x' } }));
    expect(next.data.code).toBe('kill.switch');
    await client.close();
  });
});
