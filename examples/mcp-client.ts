/**
 * fmguard for an MCP client in the agent's own process, no gateway: the MCP SDK's `Client`, connected
 * over stdio to fmguard's demo tool server (a separate process), wrapped with `guardMcpClient`.
 *
 *   npx tsx examples/mcp-client.ts
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createGuard, type ConfigInput } from 'fmguard';
import { findGuardError, guardMcpClient } from 'fmguard/mcp-client';

const config: ConfigInput = {
  store: { kind: 'memory' },
  providers: { sim: { kind: 'simulated' } },
  models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
  // The demo tools' input schemas, so policies can test arguments.
  toolServers: { demo: { kind: 'builtin' } },
  tenants: { acme: {} },
  agents: {
    'support-bot': {
      tenant: 'acme',
      limits: { maxToolCalls: 10, maxIdenticalToolCalls: 2 },
      timeouts: { tool: { totalMs: 500 } },
      allow: { tools: ['demo.search', 'demo.read_file', 'demo.sleep', 'demo.send_email'] },
      approve: { tools: ['demo.send_email'] },
    },
  },
};

const guard = createGuard({ config });
const run = await guard.startRun({ agent: 'support-bot' });

// The demo tool server as its own process, over stdio, as any MCP server would run.
const server = fileURLToPath(new URL('../src/demo/tools/stdio-main.ts', import.meta.url));
const transport = new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', server], stderr: 'ignore' });
const raw = new Client({ name: 'support-bot', version: '1.0.0' });
await raw.connect(transport);
const client = guardMcpClient(raw, run, { server: 'demo' });

const { tools } = await client.listTools();
console.log(`tools the agent sees: ${tools.map((t) => t.name).join(', ')} (the server has 7)\n`);

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, width) : text + ' '.repeat(width - text.length);
}

const calls: Array<{ what: string; name: string; args: Record<string, unknown>; expect: string }> = [
  { what: 'an allowed read', name: 'read_file', args: { path: '/docs/refund-policy.md' }, expect: 'ok' },
  { what: 'a forbidden delete', name: 'delete_file', args: { path: '/docs/readme.md' }, expect: 'policy.denied' },
  { what: 'mail needing approval', name: 'send_email', args: { to: 'ada@example.com', subject: 'Refund', body: 'Approved.' }, expect: 'approval.required' },
  { what: 'a tool that hangs', name: 'sleep', args: { ms: 60_000 }, expect: 'timeout.tool' },
  { what: 'a search', name: 'search', args: { query: 'refund' }, expect: 'ok' },
  { what: 'the same search again', name: 'search', args: { query: 'refund' }, expect: 'ok' },
  { what: 'and again (a loop)', name: 'search', args: { query: 'refund' }, expect: 'loop.repeated_tool_call' },
];

console.log(`${pad('call', 26)}${pad('outcome', 26)}answer`);
console.log('-'.repeat(110));
let unexpected = 0;
for (const call of calls) {
  let outcome = 'ok';
  let answer: string;
  try {
    const result = (await client.callTool({ name: call.name, arguments: call.args })) as CallToolResult;
    const fmguard = (result.structuredContent as { fmguard?: { code: string } } | undefined)?.fmguard;
    if (result.isError && fmguard) outcome = fmguard.code;
    answer = `${result.isError ? '(isError) ' : ''}${(result.content[0] as { text?: string } | undefined)?.text ?? ''}`;
  } catch (error) {
    const stop = findGuardError(error) ?? ((error as { data?: { code?: string } }).data?.code ? (error as { data: { code: string } }).data : undefined);
    if (!stop) throw error;
    outcome = stop.code;
    answer = `(McpError, the run is over) ${(error as Error).message}`;
  }
  if (outcome !== call.expect) unexpected++;
  console.log(`${pad(call.what, 26)}${pad(outcome, 26)}${answer.replace(/\s+/g, ' ').slice(0, 90)}`);
}
const usage = await run.usage();
console.log(`\nrun ${run.id}: ${usage.toolCalls} tool calls counted; stopped: ${run.stopError?.code ?? 'no'}`);
await raw.close();
await guard.close();
if (unexpected > 0) {
  console.log(`\n${unexpected} call(s) did not end as expected`);
  process.exitCode = 1;
}
