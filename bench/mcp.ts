/**
 * npx tsx bench/mcp.ts — what fmguard's MCP gateway adds to a tool call.
 *
 * One upstream: the demo tool server over MCP Streamable HTTP. The same `read_file` call is made with
 * the official MCP client directly to it, and through fmguard's `/mcp/demo` (session mode, all
 * calls in one run, memory store, guard decisions on every call). Everything runs in this process,
 * sequentially, in interleaved rounds so both sides see the same machine state. The difference of
 * the paired samples is the added latency: fmguard's MCP server transport, the guard's decision, and
 * the second MCP hop to the upstream.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { serveDemoToolsHttp } from '../src/demo/tools/index.ts';
import type { McpMode } from '../src/mcp/index.ts';
import { createMcpHandler } from '../src/wiring/gateway.ts';
import { createGuard, createMemoryStore } from '../src/index.ts';
import { percentile, writeSection } from './results.ts';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3000);
const WARMUP = Math.min(500, ITERATIONS);
const KEY = 'sk-bench-mcp-0001';
const CALL = { name: 'read_file', arguments: { path: '/docs/readme.md' } };
const MANY = 1_000_000_000;

// The bench's own clients use the SDK's default fetch (undici), which leaves one abort listener per
// request on the transport's long-lived signal until GC and warns about it; the warning is noise here.
process.removeAllListeners('warning');

const upstream = await serveDemoToolsHttp();
const guard = createGuard({
  config: {
    store: { kind: 'memory' },
    toolServers: { demo: { kind: 'http', url: upstream.url } },
    tenants: { acme: {} },
    agents: {
      bench: {
        tenant: 'acme',
        keys: [KEY],
        allow: { tools: ['demo.*'] },
        limits: { maxToolCalls: MANY, maxIdenticalToolCalls: MANY, maxSteps: MANY, maxDurationMs: 3_600_000 },
      },
    },
  },
  store: createMemoryStore(),
});
const handler = createMcpHandler({ guard });
const http = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  void handler.handle(req, res).then((handled) => {
    if (!handled) res.writeHead(404).end();
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const gatewayUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp/demo`;

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const direct = await connect(upstream.url);
const gatewayHeaders = (mode: McpMode) => ({
  authorization: `Bearer ${KEY}`,
  'x-fmguard-run': `bench-mcp-${mode}`,
  ...(mode === 'stateless' ? { 'x-fmguard-mcp-mode': 'stateless' } : {}),
});
const viaSession = await connect(gatewayUrl, gatewayHeaders('session'));
const viaStateless = await connect(gatewayUrl, gatewayHeaders('stateless'));

// The guard alone, for the breakdown: run.callTool around a tool that answers at once.
const run = await guard.startRun({ key: KEY, id: 'bench-guard-only' });
const instant = { content: [{ type: 'text', text: 'x' }] };

/**
 * Paired sampling: each iteration calls every side once, in rotating order, so load from other
 * processes hits all sides alike; the added latency is the median of the per-iteration differences.
 */
const sides = {
  direct: () => direct.callTool(CALL),
  session: () => viaSession.callTool(CALL),
  stateless: () => viaStateless.callTool(CALL),
  guardOnly: () => run.callTool({ tool: 'demo.read_file', args: CALL.arguments, execute: () => instant }),
};
type Side = keyof typeof sides;
const names = Object.keys(sides) as Side[];
const samples: Record<Side, number[]> = { direct: [], session: [], stateless: [], guardOnly: [] };

async function iteration(i: number, record: boolean): Promise<void> {
  for (let k = 0; k < names.length; k++) {
    const name = names[(i + k) % names.length]!;
    const t = performance.now();
    const result = (await sides[name]()) as { isError?: boolean };
    const elapsed = performance.now() - t;
    if (result.isError) throw new Error(`${name} call failed: ${JSON.stringify(result)}`);
    if (record) samples[name].push(elapsed);
  }
}

for (let i = 0; i < WARMUP; i++) await iteration(i, false);
for (let i = 0; i < ITERATIONS; i++) await iteration(i, true);

const paired = (side: Side) => samples[side].map((x, i) => x - samples.direct[i]!).sort((a, b) => a - b);
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
};
const st = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)])) as Record<keyof typeof sides, ReturnType<typeof stats>>;
const ms = (x: number) => x.toFixed(3);
const added = percentile(paired('session'), 50);
const addedStateless = percentile(paired('stateless'), 50);
const TARGET_MS = 0.3;

const body = `
${ITERATIONS} iterations after ${WARMUP} warm-up ones; each iteration makes one sequential \`read_file\` call per side, in rotating order; official MCP
client (Streamable HTTP) in this process; upstream: the demo tool server over MCP Streamable HTTP (session, JSON responses), also in
this process; fmguard: \`createMcpHandler\` on node:http, memory store, every call in one run (\`x-fmguard-run\`), Cedar policy engine on (\`allow.tools: [demo.*]\`).
Added latency = median of the per-iteration differences (robust to load from other processes; machine load average at the
start: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores). Target: under ${TARGET_MS} ms. Result: ${ms(added)} ms (${added < TARGET_MS ? 'met' : 'NOT met'}).

| call | p50 ms | p90 ms | p99 ms |
|---|---:|---:|---:|
| direct to the upstream | ${ms(st.direct.p50)} | ${ms(st.direct.p90)} | ${ms(st.direct.p99)} |
| through fmguard /mcp (session) | ${ms(st.session.p50)} | ${ms(st.session.p90)} | ${ms(st.session.p99)} |
| through fmguard /mcp (stateless: no session, request ids rewritten on one shared MCP server) | ${ms(st.stateless.p50)} | ${ms(st.stateless.p90)} | ${ms(st.stateless.p99)} |
| **added by fmguard (session), median of paired differences** | **${ms(added)}** | | |
| added by fmguard (stateless), median of paired differences | ${ms(addedStateless)} | | |
| of which the guard decision alone (\`run.callTool\`, instant tool) | ${ms(st.guardOnly.p50)} | ${ms(st.guardOnly.p90)} | ${ms(st.guardOnly.p99)} |

Where the added time goes: fmguard's side of the agent's MCP request (its own JSON-response Streamable HTTP transport on
node:http, then the SDK's \`Server\` parsing and answering), the guard decision, and the second MCP hop (the SDK \`Client\`
over a node:http fetch to the upstream). fmguard uses neither the SDK's node transport (node:http converted to web
Request/Response and streams) nor undici fetch on this path; this benchmark does not measure either.
`;
writeSection('MCP gateway overhead (bench/mcp.ts)', body);
process.stdout.write(body);

await Promise.all([direct.close(), viaSession.close(), viaStateless.close()]);
await handler.close();
http.closeAllConnections();
await new Promise<void>((resolve) => http.close(() => resolve()));
await upstream.close();
await guard.close();
