/**
 * npm run bench:gateway — what the gateway adds over calling the upstream directly.
 *
 * Three processes, so no two share an event loop: this one (the load generator: an undici Pool,
 * the cheapest HTTP client), the mock upstream (bench/gateway-upstream.ts) and the gateway
 * (bench/gateway-server.ts: memory store, every safeguard on, the OpenAI-compatible provider
 * pointing at the mock). The same requests go to the mock directly and through the gateway, in
 * interleaved rounds so both sides see the same machine state: at 1 connection (latency, time to
 * first token) and at 10 (throughput), plain and streamed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { percentile, writeSection } from './results.ts';

const KEY = 'sk-bench-gateway-0001';
const LATENCY_ROUNDS = 6;
const LATENCY_CALLS = 1500;
const THROUGHPUT_ROUNDS = 3;
const THROUGHPUT_MS = 3000;
const WARMUP = 3000;

function start(file: string, args: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    child.on('message', (message: { url?: string; error?: string }) => {
      if (message.url) resolve({ child, url: message.url });
      if (message.error) process.stderr.write(`gateway error: ${message.error}\n`);
    });
  });
}

const plainBody = JSON.stringify({ model: 'mock-small', messages: [{ role: 'user', content: 'What is the capital of France?' }], max_tokens: 64 });
const streamBody = JSON.stringify({ model: 'mock-small', messages: [{ role: 'user', content: 'What is the capital of France?' }], max_tokens: 64, stream: true, stream_options: { include_usage: true } });

interface Target {
  name: string;
  pool: Pool;
  headers: Record<string, string>;
}

function target(name: string, url: string, connections: number, headers: Record<string, string> = {}): Target {
  return { name, pool: new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 }), headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers } };
}

/** One request; returns [time to first body byte, total] in ms. */
async function once(t: Target, stream: boolean): Promise<[number, number]> {
  const started = performance.now();
  const res = await t.pool.request({ path: '/v1/chat/completions', method: 'POST', headers: t.headers, body: stream ? streamBody : plainBody });
  if (res.statusCode !== 200) throw new Error(`${t.name}: HTTP ${res.statusCode}: ${await res.body.text()}`);
  let first = 0;
  for await (const _ of res.body) if (first === 0) first = performance.now() - started;
  return [first, performance.now() - started];
}

async function sequential(t: Target, n: number, stream: boolean, ttft: number[], total: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const [first, all] = await once(t, stream);
    ttft.push(first);
    total.push(all);
  }
}

async function throughput(t: Target, connections: number, ms: number, stream: boolean): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        await once(t, stream);
        done++;
      }
    }),
  );
  return (done * 1000) / ms;
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const ms3 = (x: number) => x.toFixed(3);

const loadBefore = loadavg()[0]!;
const mock = await start('./gateway-upstream.ts');
const gw = await start('./gateway-server.ts', [mock.url, KEY]);
const floor = await start('./gateway-floor.ts', [mock.url]);
const direct1 = target('direct', mock.url, 1);
const floor1 = target('minimal proxy', floor.url, 1);
const fresh1 = target('gateway', gw.url, 1);
const named1 = target('gateway, named run', gw.url, 1, { 'x-fmguard-run': 'bench-run' });

// Warm up every path (JIT, pools, the provider's upstream pool).
for (const t of [direct1, floor1, fresh1, named1]) for (const stream of [false, true]) await sequential(t, WARMUP / 2, stream, [], []);

// 1 connection: latency (plain) and time to first token (streamed), interleaved rounds.
const lat = { direct: [] as number[], floor: [] as number[], fresh: [] as number[], named: [] as number[] };
const ttft = { direct: [] as number[], floor: [] as number[], fresh: [] as number[] };
const streamTotal = { direct: [] as number[], floor: [] as number[], fresh: [] as number[] };
for (let r = 0; r < LATENCY_ROUNDS; r++) {
  await sequential(direct1, LATENCY_CALLS, false, [], lat.direct);
  await sequential(floor1, LATENCY_CALLS, false, [], lat.floor);
  await sequential(fresh1, LATENCY_CALLS, false, [], lat.fresh);
  await sequential(named1, LATENCY_CALLS, false, [], lat.named);
  await sequential(direct1, LATENCY_CALLS, true, ttft.direct, streamTotal.direct);
  await sequential(floor1, LATENCY_CALLS, true, ttft.floor, streamTotal.floor);
  await sequential(fresh1, LATENCY_CALLS, true, ttft.fresh, streamTotal.fresh);
}

// 10 connections: throughput, interleaved rounds.
const direct10 = target('direct', mock.url, 10);
const floor10 = target('minimal proxy', floor.url, 10);
const gw10 = target('gateway', gw.url, 10);
for (const t of [direct10, floor10, gw10]) await throughput(t, 10, 1000, false);
const rps = { direct: [] as number[], floor: [] as number[], gw: [] as number[], directStream: [] as number[], floorStream: [] as number[], gwStream: [] as number[] };
for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
  rps.direct.push(await throughput(direct10, 10, THROUGHPUT_MS, false));
  rps.floor.push(await throughput(floor10, 10, THROUGHPUT_MS, false));
  rps.gw.push(await throughput(gw10, 10, THROUGHPUT_MS, false));
  rps.directStream.push(await throughput(direct10, 10, THROUGHPUT_MS, true));
  rps.floorStream.push(await throughput(floor10, 10, THROUGHPUT_MS, true));
  rps.gwStream.push(await throughput(gw10, 10, THROUGHPUT_MS, true));
}

for (const t of [direct1, floor1, fresh1, named1, direct10, floor10, gw10]) await t.pool.close();
for (const child of [gw, floor, mock]) child.child.disconnect();

const p = (xs: number[], q: number) => percentile(sorted(xs), q);
const median = (xs: number[]) => p(xs, 50);
const addedPlain = median(lat.fresh) - median(lat.direct);
const addedNamed = median(lat.named) - median(lat.direct);
const addedTtft = median(ttft.fresh) - median(ttft.direct);
const hop = median(lat.floor) - median(lat.direct);
const own = median(lat.fresh) - median(lat.floor);
const ownNamed = median(lat.named) - median(lat.floor);
const hopTtft = median(ttft.floor) - median(ttft.direct);
const ratio = median(rps.gw) / median(rps.direct);
const ratioStream = median(rps.gwStream) / median(rps.direct);
const ratioStreamOwn = median(rps.gwStream) / median(rps.directStream);
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

const row = (name: string, xs: number[]) => `| ${name} | ${ms3(p(xs, 50))} | ${ms3(p(xs, 90))} | ${ms3(p(xs, 99))} |`;
const body = `Load generator, mock upstream and gateway each in their own process (2 cores for 3 processes at 10 connections).
Machine load average (1 min) at start / end: ${loadBefore.toFixed(1)} / ${loadavg()[0]!.toFixed(1)} (anything above ~0.5 is other work sharing these 2 cores).
Mock: node:http, a fixed ~300-byte JSON answer, or an SSE stream of 8 small chunks (first at once, the rest a tick later).
Gateway: memory store; tenant, agent and key day budgets and rate limits; run limits; loop and no-progress detection;
breakers; metrics; the Cedar policy engine (\`allow: { models: [mock-*] }\`); the OpenAI-compatible provider
(\`src/providers/openai.ts\`, undici pool). Client: undici \`Pool.request\`. ${LATENCY_ROUNDS} interleaved rounds of ${LATENCY_CALLS} sequential calls per
side at 1 connection after ${WARMUP} warm-up calls per path; ${THROUGHPUT_ROUNDS} interleaved rounds of ${THROUGHPUT_MS / 1000} s at 10 connections (median shown).
"Gateway" is a run of its own per request (no \`x-fmguard-run\`: a run is created, guarded, ended); "named run" sends \`x-fmguard-run\`
(one long run; the counters headers then read the ledger).

| Target (2-core machine) | Result | |
|---|---:|---|
| added median latency at 1 connection < 0.150 ms | ${ms3(addedPlain)} ms | ${verdict(addedPlain < 0.15)} |
| at 10 connections ≥ 25 % of direct throughput | ${(ratio * 100).toFixed(1)} % | ${verdict(ratio >= 0.25)} |
| streamed time to first token added < 0.300 ms | ${ms3(addedTtft)} ms | ${verdict(addedTtft < 0.3)} |

**1 connection, plain** (ms)

| path | p50 | p90 | p99 |
|---|---:|---:|---:|
${row('direct', lat.direct)}
${row('minimal proxy, no safeguards (the floor)', lat.floor)}
${row('through fmguard (run per request)', lat.fresh)}
${row('through fmguard (named run)', lat.named)}

Added at the median: ${ms3(addedPlain)} ms per request (named run: ${ms3(addedNamed)} ms), of which the second HTTP hop
(the minimal proxy) is ${ms3(hop)} ms and fmguard's own work (gateway and guard runtime) ${ms3(own)} ms (named run: ${ms3(ownNamed)} ms).

**1 connection, streamed** (ms)

| path | TTFT p50 | TTFT p90 | TTFT p99 | whole stream p50 |
|---|---:|---:|---:|---:|
| direct | ${ms3(p(ttft.direct, 50))} | ${ms3(p(ttft.direct, 90))} | ${ms3(p(ttft.direct, 99))} | ${ms3(median(streamTotal.direct))} |
| minimal proxy (the floor) | ${ms3(p(ttft.floor, 50))} | ${ms3(p(ttft.floor, 90))} | ${ms3(p(ttft.floor, 99))} | ${ms3(median(streamTotal.floor))} |
| through fmguard | ${ms3(p(ttft.fresh, 50))} | ${ms3(p(ttft.fresh, 90))} | ${ms3(p(ttft.fresh, 99))} | ${ms3(median(streamTotal.fresh))} |

Time to first token added: ${ms3(addedTtft)} ms, of which the hop ${ms3(hopTtft)} ms and fmguard ${ms3(addedTtft - hopTtft)} ms.

**10 connections** (requests/s, median of rounds; rounds: ${rps.gw.map((x) => x.toFixed(0)).join(', ')} through the gateway)

| path | plain | streamed |
|---|---:|---:|
| direct | ${median(rps.direct).toFixed(0)} | ${median(rps.directStream).toFixed(0)} |
| minimal proxy (the floor) | ${median(rps.floor).toFixed(0)} (${((median(rps.floor) / median(rps.direct)) * 100).toFixed(1)} %) | ${median(rps.floorStream).toFixed(0)} |
| through fmguard | ${median(rps.gw).toFixed(0)} (${(ratio * 100).toFixed(1)} %) | ${median(rps.gwStream).toFixed(0)} (${(ratioStreamOwn * 100).toFixed(1)} % of direct streams) |

Streamed requests through the gateway reach ${(ratioStream * 100).toFixed(1)} % of the direct plain rate.`;
console.log(body);
writeSection('Gateway overhead (bench:gateway)', body);
