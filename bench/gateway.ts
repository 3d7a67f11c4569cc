/**
 * npm run bench:gateway [-- --duration 5s --rounds 3 --load-generator wrk|autocannon]
 *
 * What a gateway adds to a model call and to an MCP tool call, every contender side by side in one
 * run, each in a process of its own: the mock OpenAI upstream (bench/gateway-upstream.ts), the floor
 * (bench/gateway-floor.ts: node:http in, undici out, nothing else), Portkey's published gateway
 * (@portkey-ai/gateway, headless), and fmguard through its CLI (`serve -c bench/configs/<store>.yaml`)
 * on the memory, SQLite and Redis stores; the demo MCP tool server over HTTP (`fmguard demo-tools
 * --http`) and a second floor in front of it. Load comes from wrk in its own process (bench/load.ts);
 * time to first token from a small client process (bench/ttft-client.ts). Every target gets the same
 * requests in interleaved rounds (round-robin, the start rotating per round); figures are medians of
 * the rounds. Then what a request costs the SQLite and Redis stores (bench/store-ops.ts). The section
 * "Gateway overhead (bench:gateway)" of bench/RESULTS.md is rewritten from this run's figures.
 *
 * The Responses API rows: `POST /v1/responses` (plain and streamed) through each fmguard, translated
 * onto the mock's chat completions, beside the same run's chat completions through the same fmguard;
 * they go to the section "Responses API through the gateway (bench:gateway)". `--only responses`
 * runs just those (the mock and the three fmguards, no floor, Portkey, TTFT, MCP or store counts).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { benchScriptCommand, fmguardCommand, REPO } from './fmguard-cli.ts';
import { loadGenerator, type LoadResult } from './load.ts';
import { listeningPort, run, start, stop, stopAll, stopAllOnExit, type Started } from './procs.ts';
import { writeSection } from './results.ts';
import { byCount, countKeys, growth, redisCommandCounter, SqliteObserver, total, usedMemory } from './store-ops.ts';

// ---------------------------------------------------------------------------------------------
// Options and fixed inputs

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '5s' },
    rounds: { type: 'string', default: '3' },
    'warmup-duration': { type: 'string', default: '2s' },
    'load-generator': { type: 'string' },
    'ops-requests': { type: 'string', default: '200' },
    'redis-url': { type: 'string', default: process.env.FMGUARD_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' },
    'no-write': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
if (opts.only !== undefined && opts.only !== 'responses') throw new Error('--only: "responses" (or leave it out for everything)');
const ONLY_RESPONSES = opts.only === 'responses';
const seconds = (text: string) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!m) throw new Error(`not a duration: "${text}" (e.g. 5s)`);
  return m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1]);
};
const DURATION = seconds(opts.duration!);
const WARMUP = seconds(opts['warmup-duration']!);
// The TTFT client is sequential and needs fewer seconds for a stable median (keeps the run near 10 min).
const TTFT_DURATION = Math.max(1, DURATION / 2);
const ROUNDS = Number(opts.rounds);
const OPS_N = Number(opts['ops-requests']);
const SHARED_REDIS = opts['redis-url']!;
// wrk's -d takes whole seconds.
if (!Number.isInteger(DURATION) || DURATION < 1 || !Number.isInteger(WARMUP) || WARMUP < 1) throw new Error('--duration and --warmup-duration: whole seconds, at least 1s');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds: a positive integer');

const KEY = 'sk-bench-gateway-0001';
const RUN_TAG = `${process.pid}-${Date.now().toString(36)}`;
const REDIS_PREFIX = `fmguard-bench:${RUN_TAG}:`;
const MESSAGES = [{ role: 'user', content: 'What is the capital of France?' }];
const PLAIN = JSON.stringify({ model: 'mock-small', messages: MESSAGES, max_tokens: 64 });
const STREAM = JSON.stringify({ model: 'mock-small', messages: MESSAGES, max_tokens: 64, stream: true, stream_options: { include_usage: true } });
const QUESTION = 'What is the capital of France?';
const RESPONSES_PLAIN = JSON.stringify({ model: 'mock-small', input: QUESTION, max_output_tokens: 64 });
const RESPONSES_STREAM = JSON.stringify({ model: 'mock-small', input: QUESTION, max_output_tokens: 64, stream: true });
/** The last event of a complete Responses stream. */
const RESPONSES_DONE = 'event: response.completed';
const TOOL_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/docs/readme.md' } } });
/** In the demo world's /docs/readme.md: a tools/call answer without it is a refusal or an error. */
const TOOL_EXPECT = 'Acme support';
const MCP_VERSION = '2025-06-18';
const TTFT_WARMUP = 50;
const REDIS_WARMUP = { chat: 50, tool: 20 };
const JSON_HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${KEY}` };
const MCP_HEADERS = { ...JSON_HEADERS, accept: 'application/json, text/event-stream', 'mcp-protocol-version': MCP_VERSION };

type Store = 'memory' | 'sqlite' | 'redis';
const STORES: Store[] = ['memory', 'sqlite', 'redis'];
const STORE_LABEL: Record<Store, string> = { memory: 'fmguard, memory store', sqlite: 'fmguard, SQLite store (default)', redis: 'fmguard, Redis store' };

interface Target {
  id: string;
  label: string;
  /** The chat completions URL, or the MCP endpoint. */
  url: string;
  headers: Record<string, string>;
}

const progress = (text: string) => process.stderr.write(`[bench:gateway ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---------------------------------------------------------------------------------------------
// Starting the processes

function fmguardEnv(extra: Record<string, string>): Record<string, string> {
  return { FMGUARD_BENCH_KEY: KEY, FMGUARD_BENCH_REDIS_URL: SHARED_REDIS, FMGUARD_BENCH_REDIS_PREFIX: REDIS_PREFIX, ...extra };
}

async function startFmguard(store: Store, env: Record<string, string>): Promise<{ started: Started; startupMs: number }> {
  const t0 = performance.now();
  const started = await start(`fmguard (${store})`, fmguardCommand('serve', '-c', `bench/configs/${store}.yaml`, '-p', '0'), {
    env,
    ready: /listening on (http:\/\/\S+)/,
    timeoutMs: 60_000,
  });
  return { started, startupMs: performance.now() - t0 };
}

const PORTKEY_DIR = `${REPO}node_modules/@portkey-ai/gateway`;

/** The @hono/node-server Portkey resolves (package.json pins it for Portkey: see bench/README.md). */
function portkeyHonoServer(): string {
  for (const dir of [`${PORTKEY_DIR}/node_modules`, `${REPO}node_modules`]) {
    try {
      return (JSON.parse(readFileSync(`${dir}/@hono/node-server/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      // not at this level of node_modules
    }
  }
  return 'not found';
}

async function startPortkey(): Promise<{ started?: Started; version?: string; why?: string }> {
  let version: string;
  try {
    version = (JSON.parse(readFileSync(`${PORTKEY_DIR}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return { why: '@portkey-ai/gateway is not installed (npm ci installs it as a dev dependency)' };
  }
  try {
    // Headless: no web console. It prints no real port for --port=0, so the port is read from /proc.
    const started = await start(`Portkey gateway ${version}`, { command: process.execPath, args: [`${PORTKEY_DIR}/build/start-server.js`, '--headless', '--port=0'] }, {
      ready: (child, line) => {
        if (!line.includes('Ready for connections')) return undefined;
        const port = listeningPort(child.pid!);
        if (!port) throw new Error('Portkey reports ready but listens on no TCP port');
        return `http://127.0.0.1:${port}`;
      },
      timeoutMs: 60_000,
    });
    return { started, version };
  } catch (error) {
    return { version, why: `Portkey's gateway did not start on Node ${process.version}: ${(error as Error).message.split('\n').slice(0, 4).join(' / ')}` };
  }
}

/** Open an MCP session (initialize + initialized) and return its id. */
async function mcpSession(url: string): Promise<string> {
  const init = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: MCP_VERSION, capabilities: {}, clientInfo: { name: 'fmguard-bench', version: '1' } } });
  const res = await fetch(url, { method: 'POST', headers: MCP_HEADERS, body: init });
  const id = res.headers.get('mcp-session-id');
  const text = await res.text();
  if (res.status !== 200 || !id) throw new Error(`MCP initialize at ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const note = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': id }, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await note.text();
  if (note.status !== 202 && note.status !== 200) throw new Error(`MCP notifications/initialized at ${url}: HTTP ${note.status}`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// Checks and measurements

/** One plain and one streamed call, answered correctly, before anything is timed. */
async function checkChat(t: Target): Promise<void> {
  const plain = await fetch(t.url, { method: 'POST', headers: t.headers, body: PLAIN });
  const text = await plain.text();
  if (plain.status !== 200 || !text.includes('Paris')) throw new Error(`${t.label}: plain call answered HTTP ${plain.status}: ${text.slice(0, 300)}`);
  const stream = await fetch(t.url, { method: 'POST', headers: t.headers, body: STREAM });
  const sse = await stream.text();
  if (stream.status !== 200 || !sse.includes('Paris') || !sse.includes('[DONE]')) throw new Error(`${t.label}: streamed call answered HTTP ${stream.status}: ${sse.slice(0, 300)}`);
}

/** The same for `POST /v1/responses`: the answer, and a stream that completes. */
async function checkResponses(t: Target): Promise<void> {
  const plain = await fetch(t.url, { method: 'POST', headers: t.headers, body: RESPONSES_PLAIN });
  const text = await plain.text();
  if (plain.status !== 200 || !text.includes('Paris')) throw new Error(`${t.label}: plain response answered HTTP ${plain.status}: ${text.slice(0, 300)}`);
  const stream = await fetch(t.url, { method: 'POST', headers: t.headers, body: RESPONSES_STREAM });
  const sse = await stream.text();
  if (stream.status !== 200 || !sse.includes('Paris') || !sse.includes(RESPONSES_DONE)) throw new Error(`${t.label}: streamed response answered HTTP ${stream.status}: ${sse.slice(0, 300)}`);
}

async function checkTool(t: Target): Promise<void> {
  const res = await fetch(t.url, { method: 'POST', headers: t.headers, body: TOOL_CALL });
  const text = await res.text();
  if (res.status !== 200 || !text.includes(TOOL_EXPECT)) throw new Error(`${t.label}: tools/call answered HTTP ${res.status}: ${text.slice(0, 300)}`);
}

async function ttft(t: Target, durationS: number): Promise<{ p50: number; p90: number; p99: number; n: number }> {
  const spec = JSON.stringify({ url: t.url, headers: t.headers, body: STREAM, durationMs: durationS * 1000, warmup: TTFT_WARMUP });
  const out = await run(benchScriptCommand('./ttft-client.ts', spec));
  if (out.code !== 0) throw new Error(`TTFT client on ${t.label} failed: ${out.stderr.slice(0, 500)}`);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as { p50: number; p90: number; p99: number; n: number };
}

/** N sequential calls from this process (the store-operation counts need an exact N, not a duration). */
async function sequentialCalls(url: string, headers: Record<string, string>, body: string, n: number, expect: string): Promise<number> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 1 });
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i++) {
      const res = await pool.request({ path: u.pathname, method: 'POST', headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes(expect)) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    }
  } finally {
    await pool.close();
  }
  return performance.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// The run

const loadBefore = loadavg();
const startedAt = new Date();
const load = loadGenerator(opts['load-generator']);
progress(`load generator: ${load.name}${load.note ? ` (${load.note})` : ''}; ${ROUNDS} rounds of ${DURATION} s per measurement`);
const stateDir = mkdtempSync(join(tmpdir(), 'fmguard-bench-'));
/** What the run leaves behind outside its processes: the SQLite state and the Redis keys. */
async function cleanup(): Promise<number> {
  rmSync(stateDir, { recursive: true, force: true });
  return deleteRedisKeys(SHARED_REDIS, REDIS_PREFIX).catch(() => -1);
}
stopAllOnExit(cleanup);
const notes: string[] = [];
let redisKeysLeft = -1;

const chatTargets: Target[] = [];
const toolTargets: Target[] = [];
const responsesTargets: Target[] = [];
const startupMs: Partial<Record<Store, number>> = {};
let portkeyVersion: string | undefined;
let portkeyWhy: string | undefined;

type Mode = 'plain1' | 'stream1' | 'plain10' | 'stream10';
const MODES: Array<{ mode: Mode; stream: boolean; connections: number }> = [
  { mode: 'plain1', stream: false, connections: 1 },
  { mode: 'stream1', stream: true, connections: 1 },
  { mode: 'plain10', stream: false, connections: 10 },
  { mode: 'stream10', stream: true, connections: 10 },
];
const results = new Map<string, Record<Mode, LoadResult[]>>();
const ttfts = new Map<string, Array<{ p50: number; p90: number; p99: number; n: number }>>();
const toolResults = new Map<string, LoadResult[]>();
const responsesResults = new Map<string, Record<Mode, LoadResult[]>>();
let sqliteOps: Awaited<ReturnType<typeof measureSqlite>> | undefined;
let redisOps: Awaited<ReturnType<typeof measureRedis>> | undefined;

async function measureSqlite(fmguardUrl: string) {
  const observer = new SqliteObserver(join(stateDir, 'state.db'));
  try {
    const one = async (label: string, url: string, headers: Record<string, string>, body: string, expect: string) => {
      await observer.truncateWal();
      const before = observer.sizes();
      observer.hold();
      const ms = await sequentialCalls(url, headers, body, OPS_N, expect);
      const wal = observer.walCount();
      observer.release();
      // The same time with no requests: what the gateway writes on its own (timers).
      await observer.truncateWal();
      observer.hold();
      await new Promise((r) => setTimeout(r, ms));
      const idle = observer.walCount();
      observer.release();
      await observer.truncateWal();
      const after = observer.sizes();
      return { label, ms, wal, idle, tables: growth(before, after, OPS_N), fileBytes: (after.fileBytes - before.fileBytes) / OPS_N };
    };
    return [
      await one('chat completion, plain', `${fmguardUrl}/v1/chat/completions`, JSON_HEADERS, PLAIN, 'Paris'),
      await one('chat completion, streamed', `${fmguardUrl}/v1/chat/completions`, JSON_HEADERS, STREAM, '[DONE]'),
      await one('MCP tools/call', `${fmguardUrl}/mcp/demo`, MCP_HEADERS, TOOL_CALL, TOOL_EXPECT),
    ];
  } finally {
    observer.close();
  }
}

/** On a private redis-server (nobody else's commands in its counters), with an fmguard of its own. */
async function measureRedis(env: Record<string, string>) {
  let url = SHARED_REDIS;
  let privateServer: Started | undefined;
  try {
    const port = await freePort();
    privateServer = await start('redis-server (private)', { command: 'redis-server', args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'] }, {
      ready: (_, line) => (line.includes('Ready to accept connections') ? `redis://127.0.0.1:${port}` : undefined),
    });
    url = privateServer.url;
  } catch (error) {
    notes.push(`Redis commands were counted on the shared Redis (${SHARED_REDIS}), only those naming the run's key prefix (a private redis-server did not start: ${(error as Error).message.split('\n')[0]}); used_memory is not attributable there.`);
  }
  const { started } = await startFmguard('redis', { ...env, FMGUARD_BENCH_REDIS_URL: url });
  const counter = await redisCommandCounter(url, privateServer ? undefined : REDIS_PREFIX);
  try {
    const gw = started.url;
    await sequentialCalls(`${gw}/v1/chat/completions`, JSON_HEADERS, PLAIN, REDIS_WARMUP.chat, 'Paris');
    await sequentialCalls(`${gw}/mcp/demo`, MCP_HEADERS, TOOL_CALL, REDIS_WARMUP.tool, TOOL_EXPECT);
    const one = async (label: string, u: string, headers: Record<string, string>, body: string, expect: string) => {
      const keysBefore = await countKeys(counter.client, REDIS_PREFIX);
      const memBefore = await usedMemory(counter.client);
      await counter.begin();
      const ms = await sequentialCalls(u, headers, body, OPS_N, expect);
      const busy = await counter.end();
      const keys = (await countKeys(counter.client, REDIS_PREFIX)) - keysBefore;
      const bytes = privateServer ? (await usedMemory(counter.client)) - memBefore : NaN;
      // The same time with no requests: what the gateway sends on its own (timers, polling).
      await counter.begin();
      await new Promise((r) => setTimeout(r, ms));
      const idle = await counter.end();
      return { label, ms, busy, idle, keys: keys / OPS_N, bytes: bytes / OPS_N };
    };
    return {
      where: privateServer ? 'a private redis-server (started for this, on a free loopback port)' : `the shared Redis (${SHARED_REDIS}), counting only commands that name the run's prefix`,
      rows: [
        await one('chat completion, plain', `${gw}/v1/chat/completions`, JSON_HEADERS, PLAIN, 'Paris'),
        await one('chat completion, streamed', `${gw}/v1/chat/completions`, JSON_HEADERS, STREAM, '[DONE]'),
        await one('MCP tools/call', `${gw}/mcp/demo`, MCP_HEADERS, TOOL_CALL, TOOL_EXPECT),
      ],
    };
  } finally {
    counter.close();
    await stop(started.child);
    if (privateServer) await stop(privateServer.child);
  }
}

/** SCAN + UNLINK under the bench's own prefix (never a FLUSH); how many keys there were. */
async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      n += keys.length;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return n;
}

try {
  // Upstreams first; every gateway points at them.
  const mock = await start('mock upstream', benchScriptCommand('./gateway-upstream.ts'), { ready: /^listening (\S+)/ });
  const tools = await start('demo tool server', fmguardCommand('demo-tools', '--http', '--port', '0'), { ready: /demo tools on (\S+)/ });
  const env = fmguardEnv({ FMGUARD_BENCH_UPSTREAM: mock.url, FMGUARD_BENCH_TOOLS: tools.url, FMGUARD_BENCH_DIR: stateDir });
  if (ONLY_RESPONSES) await measureResponsesOnly(env);
  else await measureEverything(mock, tools, env);
} finally {
  await stopAll();
  redisKeysLeft = await cleanup();
}

/** The Responses API rows and, beside them, chat completions through the same fmguards. */
async function measureResponsesOnly(env: Record<string, string>): Promise<void> {
  for (const store of STORES) {
    const { started, startupMs: ms } = await startFmguard(store, env);
    startupMs[store] = ms;
    chatTargets.push({ id: store, label: STORE_LABEL[store], url: `${started.url}/v1/chat/completions`, headers: JSON_HEADERS });
    responsesTargets.push({ id: store, label: STORE_LABEL[store], url: `${started.url}/v1/responses`, headers: JSON_HEADERS });
  }
  for (const t of chatTargets) await checkChat(t);
  for (const t of responsesTargets) await checkResponses(t);
  await warmUp();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { mode, stream, connections } of MODES) {
      for (const t of rotate(chatTargets, round)) {
        progress(`round ${round + 1}/${ROUNDS}: ${mode} → ${t.label}`);
        const r = await load.run({ url: t.url, headers: t.headers, body: stream ? STREAM : PLAIN, connections, durationS: DURATION });
        flag(t, mode, r);
        results.get(t.id)![mode].push(r);
      }
    }
    await responsesRound(round);
  }
}

function rotate<T>(xs: T[], k: number): T[] {
  return xs.map((_, i) => xs[(i + k) % xs.length]!);
}
function flag(t: Target, what: string, r: LoadResult): void {
  if (r.errors > 0 || r.bad > 0) notes.push(`${t.label}, ${what}: ${r.errors} errors or non-2xx answers and ${r.bad} answers without the expected content out of ${r.requests}.`);
}

async function warmUp(): Promise<void> {
  progress(`all ${chatTargets.length} chat targets, ${toolTargets.length} tool targets and ${responsesTargets.length} Responses targets answer correctly; warming up`);
  for (const t of chatTargets) {
    for (const stream of [false, true]) await load.run({ url: t.url, headers: t.headers, body: stream ? STREAM : PLAIN, connections: 10, durationS: WARMUP });
    results.set(t.id, { plain1: [], stream1: [], plain10: [], stream10: [] });
    ttfts.set(t.id, []);
  }
  for (const t of responsesTargets) {
    for (const stream of [false, true]) await load.run({ url: t.url, headers: t.headers, body: stream ? RESPONSES_STREAM : RESPONSES_PLAIN, connections: 10, durationS: WARMUP });
    responsesResults.set(t.id, { plain1: [], stream1: [], plain10: [], stream10: [] });
  }
  for (const t of toolTargets) {
    await load.run({ url: t.url, headers: t.headers, body: TOOL_CALL, connections: 1, durationS: WARMUP });
    toolResults.set(t.id, []);
  }
}

/** One round of the Responses API rows; every answer checked (the text, or a completed stream). */
async function responsesRound(round: number): Promise<void> {
  for (const { mode, stream, connections } of MODES) {
    for (const t of rotate(responsesTargets, round)) {
      progress(`round ${round + 1}/${ROUNDS}: Responses API ${mode} → ${t.label}`);
      const body = stream ? RESPONSES_STREAM : RESPONSES_PLAIN;
      const r = await load.run({ url: t.url, headers: t.headers, body, connections, durationS: DURATION, expect: stream ? RESPONSES_DONE : 'Paris' });
      flag(t, `Responses API ${mode}`, r);
      responsesResults.get(t.id)![mode].push(r);
    }
  }
}

async function measureEverything(mock: Started, tools: Started, env: Record<string, string>): Promise<void> {
  const floor = await start('floor proxy', benchScriptCommand('./gateway-floor.ts', mock.url), { ready: /^listening (\S+)/ });
  const toolsOrigin = new URL(tools.url).origin;
  const toolsFloor = await start('floor proxy (MCP)', benchScriptCommand('./gateway-floor.ts', toolsOrigin), { ready: /^listening (\S+)/ });

  chatTargets.push({ id: 'direct', label: 'direct to the mock', url: `${mock.url}/v1/chat/completions`, headers: JSON_HEADERS });
  chatTargets.push({ id: 'floor', label: 'the floor (minimal Node proxy)', url: `${floor.url}/v1/chat/completions`, headers: JSON_HEADERS });
  const portkey = await startPortkey();
  portkeyVersion = portkey.version;
  portkeyWhy = portkey.why;
  if (portkey.started) {
    chatTargets.push({
      id: 'portkey',
      label: `Portkey gateway ${portkey.version} (npm)`,
      url: `${portkey.started.url}/v1/chat/completions`,
      headers: { ...JSON_HEADERS, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${mock.url}/v1` },
    });
  } else progress(`Portkey left out: ${portkey.why}`);
  // One at a time: their startup times are figures too.
  for (const store of STORES) {
    const { started, startupMs: ms } = await startFmguard(store, env);
    startupMs[store] = ms;
    chatTargets.push({ id: store, label: STORE_LABEL[store], url: `${started.url}/v1/chat/completions`, headers: JSON_HEADERS });
    toolTargets.push({ id: store, label: STORE_LABEL[store], url: `${started.url}/mcp/demo`, headers: MCP_HEADERS });
    responsesTargets.push({ id: store, label: STORE_LABEL[store], url: `${started.url}/v1/responses`, headers: JSON_HEADERS });
  }
  // Direct and through the floor, the tool server wants a session (it serves sessions only); through
  // fmguard, stateless calls (no session: a run of its own per call, like the chat rows).
  toolTargets.unshift(
    { id: 'direct', label: 'direct to the tool server (session)', url: tools.url, headers: { ...MCP_HEADERS, 'mcp-session-id': await mcpSession(tools.url) } },
    { id: 'floor', label: 'the floor (minimal Node proxy, session)', url: `${toolsFloor.url}/mcp`, headers: { ...MCP_HEADERS, 'mcp-session-id': await mcpSession(`${toolsFloor.url}/mcp`) } },
  );

  for (const t of chatTargets) await checkChat(t);
  for (const t of toolTargets) await checkTool(t);
  for (const t of responsesTargets) await checkResponses(t);
  await warmUp();

  for (let round = 0; round < ROUNDS; round++) {
    for (const { mode, stream, connections } of MODES) {
      for (const t of rotate(chatTargets, round)) {
        progress(`round ${round + 1}/${ROUNDS}: ${mode} → ${t.label}`);
        const r = await load.run({ url: t.url, headers: t.headers, body: stream ? STREAM : PLAIN, connections, durationS: DURATION });
        flag(t, mode, r);
        results.get(t.id)![mode].push(r);
      }
    }
    for (const t of rotate(chatTargets, round)) {
      progress(`round ${round + 1}/${ROUNDS}: time to first token → ${t.label}`);
      ttfts.get(t.id)!.push(await ttft(t, TTFT_DURATION));
    }
    for (const t of rotate(toolTargets, round)) {
      progress(`round ${round + 1}/${ROUNDS}: MCP tools/call → ${t.label}`);
      const r = await load.run({ url: t.url, headers: t.headers, body: TOOL_CALL, connections: 1, durationS: DURATION, expect: TOOL_EXPECT });
      flag(t, 'MCP tools/call', r);
      toolResults.get(t.id)!.push(r);
    }
    await responsesRound(round);
  }

  progress(`store operations per request (${OPS_N} sequential requests each)`);
  const sqliteTarget = chatTargets.find((t) => t.id === 'sqlite')!;
  sqliteOps = await measureSqlite(new URL(sqliteTarget.url).origin);
  redisOps = await measureRedis(env);
}
const loadAfter = loadavg();
progress('all processes stopped');

// ---------------------------------------------------------------------------------------------
// The report

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '—');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(0)} %` : '—');
const has = (id: string) => results.has(id);
const med = (id: string, mode: Mode, field: 'p50' | 'p99' | 'rps') => (has(id) ? median(results.get(id)![mode].map((r) => r[field])) : NaN);
const range = (id: string, mode: Mode) => {
  const xs = results.get(id)![mode].map((r) => r.rps);
  return `${int(Math.min(...xs))}–${int(Math.max(...xs))}`;
};
const ttft50 = (id: string) => (ttfts.has(id) ? median(ttfts.get(id)!.map((r) => r.p50)) : NaN);
const ttft99 = (id: string) => (ttfts.has(id) ? median(ttfts.get(id)!.map((r) => r.p99)) : NaN);
const tool = (id: string, field: 'p50' | 'p99' | 'rps') => (toolResults.has(id) ? median(toolResults.get(id)!.map((r) => r[field])) : NaN);
const verdict = (ok: boolean, measured: boolean) => (!measured ? 'not measured' : ok ? 'met' : '**missed**');

const rmed = (id: string, mode: Mode, field: 'p50' | 'p99' | 'rps') => (responsesResults.has(id) ? median(responsesResults.get(id)![mode].map((r) => r[field])) : NaN);
const responsesRows = responsesTargets.map((t) => {
  const s = t.id;
  return `| ${t.label} | ${ms(rmed(s, 'plain1', 'p50'))} | ${ms(med(s, 'plain1', 'p50'))} | ${ms(rmed(s, 'plain1', 'p50') - med(s, 'plain1', 'p50'))} | ${int(rmed(s, 'plain10', 'rps'))} (${pct(rmed(s, 'plain10', 'rps') / med(s, 'plain10', 'rps'))}) | ${ms(rmed(s, 'stream1', 'p50'))} | ${ms(med(s, 'stream1', 'p50'))} | ${ms(rmed(s, 'stream1', 'p50') - med(s, 'stream1', 'p50'))} | ${int(rmed(s, 'stream10', 'rps'))} (${pct(rmed(s, 'stream10', 'rps') / med(s, 'stream10', 'rps'))}) |`;
});
const responsesBody = `One run of \`npm run bench:gateway${ONLY_RESPONSES ? ' -- --only responses' : ''}\` (started ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC): ${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}.
Load average (1/5/15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(' / ')} (above ~0.5 is other work sharing the cores).
Load generator: ${load.name}, closed loop, in its own process; ${ROUNDS} rounds of ${DURATION} s per measurement and target, targets round-robin; medians of the rounds.
Request: \`POST /v1/responses\`, model \`mock-small\`, \`input\` one question, \`max_output_tokens: 64\`; streamed: the same with \`stream: true\` (wrk reads every stream to its end and counts one without \`${RESPONSES_DONE}\` as bad). fmguard translates it onto the mock's chat completions (bench/gateway-upstream.ts) and the answer back into a response object or the Responses API's semantic events; beside it, in the same rounds, \`POST /v1/chat/completions\` through the same fmguard (the chat rows of "Gateway overhead"). fmguard as there: \`fmguard serve -c bench/configs/<store>.yaml\`, every limit on and generous, each request a run of its own.

| fmguard | Responses p50 at c1 (plain) | chat p50 at c1 | added by the translation | Responses req/s at c10 (share of chat) | Responses whole stream p50 at c1 | chat whole stream p50 at c1 | added | Responses streamed req/s at c10 (share of chat) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${responsesRows.join('\n')}
${notes.length ? `\nNotes from this run:\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}`;
const RESPONSES_HEADING = 'Responses API through the gateway (bench:gateway)';
if (ONLY_RESPONSES) {
  console.log(responsesBody);
  if (!opts['no-write']) writeSection(RESPONSES_HEADING, responsesBody);
  process.exit(0);
}

const ids = chatTargets.map((t) => t.id);
const label = (id: string) => chatTargets.find((t) => t.id === id)!.label;
const own = (id: string, mode: Mode) => med(id, mode, 'p50') - med('floor', mode, 'p50');
const added = (id: string, mode: Mode) => med(id, mode, 'p50') - med('direct', mode, 'p50');
const share = (id: string, mode: Mode) => med(id, mode, 'rps') / med('floor', mode, 'rps');

const plainRows = ids.map((id) => {
  const base = id === 'direct';
  return `| ${label(id)} | ${ms(med(id, 'plain1', 'p50'))} | ${ms(med(id, 'plain1', 'p99'))} | ${base ? '—' : ms(added(id, 'plain1'))} | ${base || id === 'floor' ? '—' : ms(own(id, 'plain1'))} | ${int(med(id, 'plain10', 'rps'))} (${range(id, 'plain10')}) | ${base ? '' : pct(share(id, 'plain10'))} |`;
});
const streamRows = ids.map((id) => {
  const base = id === 'direct';
  const floorish = base || id === 'floor';
  return `| ${label(id)} | ${ms(ttft50(id))} | ${ms(ttft99(id))} | ${base ? '—' : ms(ttft50(id) - ttft50('direct'))} | ${floorish ? '—' : ms(ttft50(id) - ttft50('floor'))} | ${ms(med(id, 'stream1', 'p50'))} | ${int(med(id, 'stream10', 'rps'))} (${range(id, 'stream10')}) | ${base ? '' : pct(share(id, 'stream10'))} |`;
});
const toolIds = toolTargets.map((t) => t.id);
const toolRows = toolIds.map((id) => {
  const t = toolTargets.find((x) => x.id === id)!;
  const base = id === 'direct';
  return `| ${t.label} | ${ms(tool(id, 'p50'))} | ${ms(tool(id, 'p99'))} | ${int(tool(id, 'rps'))} | ${base ? '—' : ms(tool(id, 'p50') - tool('direct', 'p50'))} | ${base || id === 'floor' ? '—' : ms(tool(id, 'p50') - tool('floor', 'p50'))} |`;
});

const pk = has('portkey');
const targetRows = [
  ...(['memory', 'sqlite', 'redis'] as const).map((s, i) => {
    const limit = [0.08, 0.12, 0.35][i]!;
    return `| own work over the floor, p50 at c1 (plain), ${s} ≤ ${limit} ms | ${ms(own(s, 'plain1'))} ms | ${verdict(own(s, 'plain1') <= limit, has(s))} |`;
  }),
  ...(['memory', 'sqlite', 'redis'] as const).map((s, i) => {
    const limit = [0.5, 0.4, 0.3][i]!;
    return `| c10 throughput (plain) as a share of the floor, ${s} ≥ ${limit * 100} % | ${pct(share(s, 'plain10'))} | ${verdict(share(s, 'plain10') >= limit, has(s))} |`;
  }),
  `| SQLite c10 throughput (plain) ≥ 3× Portkey's | ${pk ? `${(med('sqlite', 'plain10', 'rps') / med('portkey', 'plain10', 'rps')).toFixed(2)}×` : '—'} | ${verdict(med('sqlite', 'plain10', 'rps') >= 3 * med('portkey', 'plain10', 'rps'), pk)} |`,
  `| SQLite added p50 at c1 (plain) ≤ ½ of Portkey's | ${pk ? `${ms(added('sqlite', 'plain1'))} vs ${ms(added('portkey', 'plain1'))} ms (${(added('sqlite', 'plain1') / added('portkey', 'plain1')).toFixed(2)}×)` : '—'} | ${verdict(added('sqlite', 'plain1') <= 0.5 * added('portkey', 'plain1'), pk)} |`,
  ...STORES.map((s) => `| streamed time to first token, own work over the floor, ${s} ≤ 0.1 ms | ${ms(ttft50(s) - ttft50('floor'))} ms | ${verdict(ttft50(s) - ttft50('floor') <= 0.1, has(s))} |`),
  ...STORES.map((s) => `| MCP tools/call added over the tool server direct, ${s} ≤ 0.3 ms | ${ms(tool(s, 'p50') - tool('direct', 'p50'))} ms | ${verdict(tool(s, 'p50') - tool('direct', 'p50') <= 0.3, toolResults.has(s))} |`),
];
if (sqliteOps) {
  const plain = sqliteOps[0]!;
  targetRows.push(`| storage ≤ 1 KB per request on SQLite (plain chat; file growth) | ${int(plain.fileBytes)} B | ${verdict(plain.fileBytes <= 1024, true)} |`);
}

const sqliteSection = sqliteOps
  ? `**SQLite store: writes per request** (${OPS_N} sequential requests per row, through the SQLite gateway after the timed rounds; WAL counted with a read snapshot held so no checkpoint resets it; "idle" is the same time with no requests, i.e. the gateway's own timers)

| request | write transactions (commits) | WAL frames | KB written to the WAL | idle commits / frames (whole window) | file growth B | rows added (per table) |
|---|---:|---:|---:|---:|---:|---|
${sqliteOps
  .map((o) => {
    const tables = o.tables.filter((t) => t.rows !== 0).map((t) => `${t.name} ${+t.rows.toFixed(2)}`).join(', ');
    return `| ${o.label} | ${(o.wal.commits / OPS_N).toFixed(2)} | ${(o.wal.frames / OPS_N).toFixed(1)} | ${((o.wal.frames * (o.wal.pageSize + 24)) / OPS_N / 1024).toFixed(1)} | ${o.idle.commits} / ${o.idle.frames} | ${int(o.fileBytes)} | ${tables || '—'} |`;
  })
  .join('\n')}

Bytes per request by table or index (plain chat completion; pages / payload): ${sqliteOps[0]!.tables
      .filter((t) => t.pageBytes !== 0 || t.payloadBytes !== 0)
      .map((t) => `${t.name} ${int(t.pageBytes)} / ${int(t.payloadBytes)}`)
      .join('; ')}. SQL statements per request cannot be counted from outside the process (no hook on a foreign connection); the commits and frames above are what reaches the disk.`
  : 'SQLite store operations: not measured (the run failed before them).';

const redisSection = redisOps
  ? `**Redis store: commands per request** (${OPS_N} sequential requests per row, on ${redisOps.where}, through a fresh fmguard on bench/configs/redis.yaml after ${REDIS_WARMUP.chat} chat and ${REDIS_WARMUP.tool} tool warm-up calls; every command seen with MONITOR, fenced by markers: "sent" are the gateway's own commands, one round trip each unless pipelined; "in scripts" are run by its Lua scripts inside Redis; "idle" is the same time with no requests)

| request | sent | sent, by command | in scripts | keys added | used_memory added B | sent / in scripts, idle (whole window) |
|---|---:|---|---:|---:|---:|---:|
${redisOps.rows.map((o) => `| ${o.label} | ${(total(o.busy.sent) / OPS_N).toFixed(2)} | ${byCount(o.busy.sent, OPS_N)} | ${(total(o.busy.inScripts) / OPS_N).toFixed(2)} | ${o.keys.toFixed(2)} | ${int(o.bytes)} | ${total(o.idle.sent)} / ${total(o.idle.inScripts)} |`).join('\n')}

Commands inside the scripts, plain chat completion, per request: ${byCount(redisOps.rows[0]!.busy.inScripts, OPS_N)}.`
  : 'Redis store operations: not measured (the run failed before them).';

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const body = `One run of \`npm run bench:gateway\` (started ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC): ${availableParallelism()} cores (nproc), ${cpu}, Node ${process.version}.
Load average (1/5/15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; after: ${loadAfter.map((x) => x.toFixed(2)).join(' / ')} (above ~0.5 is other work sharing the cores: absolute figures are then noisy, ratios less so).
Load generator: ${load.name}${load.note ? ` — ${load.note}` : ''}${load.latencyNote ? ` (${load.latencyNote})` : ''}, closed loop, in its own process. ${ROUNDS} rounds; in each, every measurement runs ${DURATION} s per target, targets round-robin (the start rotating per round); figures are medians of the rounds (c10 req/s with the rounds' range), after a ${WARMUP} s warm-up per target and kind at 10 connections.

Every target is a process of its own: the mock upstream (bench/gateway-upstream.ts: node:http; a fixed ~300-byte chat completion, or SSE: the first chunk at once, then 5 content chunks, the finish chunk, a usage chunk and \`[DONE]\` on the next event-loop turn); the floor (bench/gateway-floor.ts: node:http in, undici Pool out, no parsing, no checks, the upstream's answer piped back);
${pk ? `Portkey's gateway \`@portkey-ai/gateway\` ${portkeyVersion} (npm, \`build/start-server.js --headless\`, provider \`openai\` with \`x-portkey-custom-host\` at the mock; its \`@hono/node-server\` ${portkeyHonoServer()}, see bench/README.md)` : `Portkey's gateway: **not measured** — ${portkeyWhy}`};
fmguard through its CLI (\`fmguard serve -c bench/configs/{memory,sqlite,redis}.yaml -p 0\`): an \`openai\`-kind provider at the mock, one agent key with day budgets and rate limits at key, agent and tenant level, run limits, the Cedar policy engine allowing the model and \`demo.read_file\` (every limit generous: nothing is refused; every answer checked before timing, non-2xx counted during it). No \`x-fmguard-run\`: each request is a run of its own.
Store: memory (audit none, its default); SQLite (the default; state and audit in one file, in a temporary directory); Redis (${SHARED_REDIS}, the shared local server, under the run's own key prefix, deleted at the end: ${redisKeysLeft >= 0 ? `${redisKeysLeft} keys removed` : 'cleanup failed'}; audit none, its default).
Request: \`POST /v1/chat/completions\`, model \`mock-small\`, one user message, \`max_tokens: 64\`; streamed: the same with \`stream: true, stream_options.include_usage\`.
Startup of \`fmguard serve\` (process start to listening, measured here): ${STORES.map((s) => `${s} ${startupMs[s] ? `${(startupMs[s]! / 1000).toFixed(2)} s` : '—'}`).join(', ')}.

**Targets of issue 13 (this run)**

| target | this run | |
|---|---:|---|
${targetRows.join('\n')}

**Plain chat completions** (latency ms at 1 connection; req/s at 10 connections)

| path | p50 | p99 | added p50 over direct | own work over the floor (p50) | req/s at c10 (rounds) | share of the floor |
|---|---:|---:|---:|---:|---:|---:|
${plainRows.join('\n')}

**Streamed chat completions** (time to first token: bench/ttft-client.ts, a separate process timing each request from its write to the first complete SSE \`data:\` line, sequential on one keep-alive connection, ${TTFT_DURATION} s per target and round after ${TTFT_WARMUP} untimed requests; "whole stream" is wrk's latency at 1 connection, to the last byte)

| path | TTFT p50 | TTFT p99 | TTFT added over direct | TTFT own work over the floor | whole stream p50 at c1 | req/s at c10 (rounds) | share of the floor |
|---|---:|---:|---:|---:|---:|---:|---:|
${streamRows.join('\n')}

**MCP \`tools/call\`** (\`read_file\` on the demo tool server, \`fmguard demo-tools --http\`; 1 connection, wrk, every answer checked for the file's content; direct and through the floor on an MCP session of the tool server; through fmguard \`POST /mcp/demo\` stateless, i.e. a run of its own per call, fmguard holding its own session upstream)

| path | p50 ms | p99 ms | req/s at c1 | added p50 over direct | own work over the floor |
|---|---:|---:|---:|---:|---:|
${toolRows.join('\n')}

${sqliteSection}

${redisSection}
${notes.length ? `\nNotes from this run:\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
The Responses API rows are in the next section. Not measured here: SQL statements per request (see above); Redis round trips where the gateway pipelines (each pipelined command counts one).`;

console.log(body);
console.log(responsesBody);
if (!opts['no-write']) {
  writeSection('Gateway overhead (bench:gateway)', body);
  writeSection(RESPONSES_HEADING, responsesBody);
}
// Every child is stopped and every client closed above; exit even if a library keeps a timer alive.
process.exit(0);
