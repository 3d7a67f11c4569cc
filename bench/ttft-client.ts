/**
 * Time to first token, measured by a small client in a process of its own (bench/gateway.ts runs
 * one per target and round): sequential streamed requests on one keep-alive connection, each timed
 * from just before the request is written to the arrival of the first complete SSE `data:` line;
 * every stream is read to `[DONE]` before the next request. Prints one JSON line:
 * { n, p50, p90, p99 } in ms (after `warmup` untimed requests).
 * Usage: ttft-client.ts '<json: {url, headers, body, durationMs, warmup}>'
 */
import { Client } from 'undici';
import { percentile } from './results.ts';

interface Spec {
  url: string;
  headers: Record<string, string>;
  body: string;
  durationMs: number;
  warmup: number;
}

const spec = JSON.parse(process.argv[2] ?? '') as Spec;
const target = new URL(spec.url);
const client = new Client(target.origin, { pipelining: 1, keepAliveTimeout: 60_000 });

/** One streamed request; ms to its first complete `data:` line. */
async function once(): Promise<number> {
  const started = performance.now();
  const res = await client.request({ path: target.pathname, method: 'POST', headers: spec.headers, body: spec.body });
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${await res.body.text()}`);
  let first = 0;
  let text = '';
  for await (const part of res.body) {
    text += (part as Buffer).toString('utf8');
    if (first === 0 && /(^|\n)data:[^\n]*\n/.test(text)) first = performance.now() - started;
  }
  if (first === 0) throw new Error(`no SSE data line in: ${text.slice(0, 200)}`);
  if (!text.includes('data: [DONE]')) throw new Error(`stream without [DONE]: ${text.slice(-200)}`);
  return first;
}

for (let i = 0; i < spec.warmup; i++) await once();
const samples: number[] = [];
const end = performance.now() + spec.durationMs;
while (performance.now() < end) samples.push(await once());
await client.close();
samples.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ n: samples.length, p50: percentile(samples, 50), p90: percentile(samples, 90), p99: percentile(samples, 99) })}\n`);
