import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectClient, fmguardOf, mcpConfig, startGateway, type TestGateway } from './helpers.ts';

/**
 * Issue 12 item 11: tools/list with conditional policies (Cedar partial evaluation, context
 * unknown). A tool is listed when some request could be allowed, hidden when none could.
 */
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});
const DIR = mkdtempSync(join(tmpdir(), 'fmguard-list-conditional-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const tool = (name: string) => `Fmguard::Tool::"demo.${name}"`;
const CALL = 'action == Fmguard::Action::"callTool"';
const POLICIES = `
@id("small-searches")
permit (principal, ${CALL}, resource == ${tool('search')}) when { context.input has amount && context.input.amount < 100 };
@id("read")
permit (principal, ${CALL}, resource == ${tool('read_file')});
@id("never-read")
forbid (principal, ${CALL}, resource == ${tool('read_file')});
@id("write")
permit (principal, ${CALL}, resource == ${tool('write_file')});
@id("no-big-writes")
forbid (principal, ${CALL}, resource == ${tool('write_file')}) when { context.input has amount && context.input.amount > 10 };
@id("mail-forbid-only")
forbid (principal, ${CALL}, resource == ${tool('send_email')}) when { context.input has amount && context.input.amount > 10 };
`;

/** Each tool typed with a required integer `amount` so the policies validate. */
const AMOUNT = { type: 'object', properties: { amount: { type: 'integer' } }, required: ['amount'] };
const TOOLS = Object.fromEntries(['search', 'read_file', 'write_file', 'delete_file', 'send_email'].map((t) => [t, { inputSchema: AMOUNT }]));

function config(agent: Record<string, unknown> = {}) {
  const file = join(DIR, 'bot.cedar');
  writeFileSync(file, POLICIES);
  return mcpConfig({ allow: { models: ['sim-*'] }, policies: file, ...agent }, { toolServers: { demo: { kind: 'builtin', tools: TOOLS } } });
}

describe('MCP tools/list with conditional Cedar policies', () => {
  it('lists a tool some request could be allowed to call, hides one none could', async () => {
    gw = await startGateway(config());
    const { client } = await connectClient(gw);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    // search: conditional permit (amount < 100) → listed.
    // read_file: permit and unconditional forbid → hidden (certainly forbidden).
    // write_file: permit and a conditional forbid → listed (small amounts escape the forbid).
    // send_email: a conditional forbid but no permit → hidden. delete_file: no policy → hidden.
    expect(names).toEqual(['search', 'write_file']);
    // Listing decides what is seen; each call is still judged on its real arguments.
    const big = await client.callTool({ name: 'search', arguments: { query: 'refund', amount: 500 } });
    expect(fmguardOf(big)).toMatchObject({ code: 'policy.denied' });
    const small = await client.callTool({ name: 'search', arguments: { query: 'refund', amount: 5 } });
    expect(fmguardOf(small)?.code).not.toBe('policy.denied');
    const read = await client.callTool({ name: 'read_file', arguments: { path: '/docs/readme.md', amount: 1 } });
    expect(fmguardOf(read)).toMatchObject({ code: 'policy.denied', policies: ['agent:bot:never-read'] });
    await client.close();
  });

  it('a shadow-mode agent sees every tool (its calls go through whatever the policy says)', async () => {
    gw = await startGateway(config({ policyMode: 'shadow' }));
    const { client } = await connectClient(gw);
    expect((await client.listTools()).tools).toHaveLength(7);
    await client.close();
  });

  it('the engine answers mayAllow per target', async () => {
    gw = await startGateway(config());
    const engine = gw.guard.policy!;
    const may = (t: string) => engine.mayAllow('bot', 'acme', 'callTool', `demo.${t}`);
    expect(['search', 'read_file', 'write_file', 'send_email', 'delete_file'].map(may)).toEqual([true, false, true, false, false]);
    expect(engine.mayAllow('nobody', 'acme', 'callTool', 'demo.search')).toBe(false);
  });
});
