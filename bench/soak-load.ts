/**
 * The soak's load (bench/soak.ts starts it as a process of its own): mixed traffic against one
 * gateway until told to stop (stdin closes or SIGTERM), then one JSON line of counts on stdout.
 *
 * Mix per iteration of each worker: plain chat (a run of its own), streamed chat, an MCP `tools/call`
 * (stateless, a run of its own), and budgeted runs: several chat calls on one client-chosen run id
 * whose cost limit is small, until the run is refused; every 5th such run is killed through the admin
 * API partway.
 *
 * argv: <gateway url> <agent key> <admin token> <concurrency> <run id prefix>
 */
const [url, key, adminToken, concurrencyText, runPrefix] = process.argv.slice(2);
if (!url || !key || !adminToken || !runPrefix) throw new Error('usage: soak-load.ts URL KEY ADMIN_TOKEN CONCURRENCY RUN_PREFIX');
const concurrency = Number(concurrencyText ?? 4);

const JSON_HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
const MCP_HEADERS = { ...JSON_HEADERS, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
const ADMIN = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
const chat = (content: string, stream: boolean) =>
  JSON.stringify({
    model: 'sim-small',
    messages: [{ role: 'user', content }],
    max_tokens: 64,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
const TOOL_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/docs/readme.md' } } });

const counts: Record<string, number> = {};
const bump = (what: string) => {
  counts[what] = (counts[what] ?? 0) + 1;
};
let stopping = false;
let runSeq = 0;
const runIds: string[] = [];

async function request(kind: string, path: string, headers: Record<string, string>, body: string): Promise<Response | undefined> {
  try {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    await res.arrayBuffer();
    bump(`${kind} ${res.status}`);
    return res;
  } catch (error) {
    bump(`${kind} error ${(error as Error).name}`);
    return undefined;
  }
}

async function budgetedRun(): Promise<void> {
  const n = runSeq++;
  const id = `${runPrefix}-${n}`;
  runIds.push(id);
  const kill = n % 5 === 4;
  for (let step = 0; step < 40 && !stopping; step++) {
    if (kill && step === 3) {
      try {
        const res = await fetch(`${url}/admin/runs/${encodeURIComponent(id)}/kill`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ reason: 'soak' }) });
        await res.arrayBuffer();
        bump(`admin kill ${res.status}`);
      } catch {
        bump('admin kill error');
      }
    }
    const res = await request(step % 2 ? 'run stream' : 'run chat', '/v1/chat/completions', { ...JSON_HEADERS, 'x-fmguard-run': id }, chat(`Step ${step} of run ${id}: tell me more.`, step % 2 === 1));
    if (res?.status !== 200) return;
  }
}

async function worker(w: number): Promise<void> {
  for (let i = 0; !stopping; i++) {
    const pick = (i + w) % 10;
    if (pick < 4) await request('chat', '/v1/chat/completions', JSON_HEADERS, chat(`Question ${i} from worker ${w}?`, false));
    else if (pick < 7) await request('stream', '/v1/chat/completions', JSON_HEADERS, chat(`Streamed question ${i} from worker ${w}?`, true));
    else if (pick < 9) await request('mcp tools/call', '/mcp/demo', MCP_HEADERS, TOOL_CALL);
    else await budgetedRun();
  }
}

const stop = () => {
  stopping = true;
};
process.once('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
process.stdout.write(`${JSON.stringify({ counts, runs: runIds.length })}\n`);
process.exit(0);
