/**
 * The load generator, always a process of its own so it does not take an event loop from what it
 * measures: wrk (Debian package `wrk`, with bench/load.lua), or autocannon's CLI when wrk is missing.
 * Closed loop: each connection sends its next request when the previous answer has fully arrived
 * (streamed answers included), so at 1 connection the latency is the sequential request time.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { REPO } from './fmguard-cli.ts';
import { run } from './procs.ts';

export interface LoadSpec {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  /** A substring every response body must contain (answers that fail with HTTP 200). */
  expect?: string;
}

export interface LoadResult {
  requests: number;
  rps: number;
  /** Latency in ms. */
  p50: number;
  p90: number;
  p99: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  /** 2xx answers without the expected substring (wrk only). */
  bad: number;
}

export interface LoadGenerator {
  name: string;
  /** Why this one (e.g. "wrk not installed"). */
  note: string;
  /** How its latency figures are to be read, when not as plain percentiles. */
  latencyNote: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

const LUA = fileURLToPath(new URL('./load.lua', import.meta.url));

function wrkVersion(): string | undefined {
  const out = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (out.error) return undefined;
  return /wrk\s+(\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown version';
}

function wrk(version: string): LoadGenerator {
  return {
    name: `wrk ${version} (1 thread)`,
    note: '',
    latencyNote: '',
    async run(spec) {
      const headers = Object.entries(spec.headers).map(([k, v]) => `${k}\t${v}\n`).join('');
      const env = { BENCH_BODY: spec.body, BENCH_HEADERS: headers, BENCH_EXPECT: spec.expect ?? '' };
      const args = ['-t1', `-c${spec.connections}`, `-d${spec.durationS}s`, '--timeout', '10s', '-s', LUA, spec.url];
      const out = await run({ command: 'wrk', args }, env);
      const line = /BENCH_RESULT (\{.*\})/.exec(out.stdout)?.[1];
      if (out.code !== 0 || !line) throw new Error(`wrk failed (${out.code}) on ${spec.url}: ${out.stderr || out.stdout}`);
      const r = JSON.parse(line) as Record<string, number>;
      return {
        requests: r.requests!,
        rps: r.requests! / (r.duration_us! / 1e6),
        p50: r.p50_us! / 1000,
        p90: r.p90_us! / 1000,
        p99: r.p99_us! / 1000,
        errors: r.connect! + r.read! + r.write! + r.status! + r.timeout!,
        bad: r.bad!,
      };
    },
  };
}

function autocannon(note: string): LoadGenerator {
  const cli = `${REPO}node_modules/autocannon/autocannon.js`;
  const version = (JSON.parse(readFileSync(`${REPO}node_modules/autocannon/package.json`, 'utf8')) as { version: string }).version;
  return {
    name: `autocannon ${version} (its own process)`,
    note,
    latencyNote:
      'autocannon records latency in whole milliseconds, too coarse here: the p50 column shows the mean time per request of the closed loop instead (connections / req/s), p99 is whole milliseconds',
    async run(spec) {
      const headers = Object.entries(spec.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
      const args = [cli, '-j', '-c', String(spec.connections), '-d', String(spec.durationS), '-m', 'POST', '-b', spec.body, ...headers, spec.url];
      const out = await run({ command: process.execPath, args });
      if (out.code !== 0) throw new Error(`autocannon failed (${out.code}) on ${spec.url}: ${out.stderr}`);
      const r = JSON.parse(out.stdout) as { requests: { total: number }; duration: number; latency: { p50: number; p90: number; p99: number }; errors: number; timeouts: number; non2xx: number };
      const rps = r.requests.total / r.duration;
      return { requests: r.requests.total, rps, p50: (1000 * spec.connections) / rps, p90: r.latency.p90, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx, bad: 0 };
    },
  };
}

/** wrk when installed (or asked for), else autocannon; `prefer` forces one. */
export function loadGenerator(prefer?: string): LoadGenerator {
  if (prefer === 'autocannon') return autocannon('asked for with --load-generator autocannon');
  const version = wrkVersion();
  if (version) return wrk(version);
  if (prefer === 'wrk') throw new Error('wrk is not installed (apt-get install -y wrk)');
  return autocannon('wrk is not installed (apt-get install -y wrk); autocannon in its own process instead, without the response-body check');
}
