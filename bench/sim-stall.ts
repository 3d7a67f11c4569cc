/**
 * The longest event-loop stall of a gateway serving the simulator's longest answers (issue 11).
 *
 * The gateway (guard + simulated provider, the model's maxOutputTokens 32,768) runs in this process;
 * the requests come from `curl` child processes, so the loop measured here does only the gateway's and
 * the simulator's work. For each request, `monitorEventLoopDelay` (1 ms resolution) is reset before
 * it and its max read after it. `[sim:long 32768]` and `[sim:long 1e9]`, plain and streamed,
 * after a short `[sim:answer]` (the floor the machine's load alone gives).
 *
 *   npx tsx bench/sim-stall.ts [--rounds 10] [--no-write] [--label "before"]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ConfigInput } from '../src/config/schema.ts';
import { createSimModel } from '../src/providers/simulated/sim-model.ts';
import { createGateway } from '../src/wiring/gateway.ts';
import { createGuard } from '../src/wiring/guard.ts';
import { percentile, writeSection } from './results.ts';

const { values: opts } = parseArgs({
  options: { rounds: { type: 'string', default: '10' }, 'no-write': { type: 'boolean', default: false }, label: { type: 'string' } },
});
const rounds = Number(opts.rounds);
const KEY = 'sk-bench-sim-stall-0001';
const MAX_OUTPUT = 32_768;

const config = {
  store: { kind: 'memory' },
  providers: { sim: { kind: 'simulated' } },
  models: { 'sim-big': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: MAX_OUTPUT } },
  tenants: { t: {} },
  agents: { bot: { tenant: 't', keys: [KEY], allow: { models: ['*'] }, limits: { maxSteps: 1e6, maxOutputTokensPerCall: MAX_OUTPUT, maxTotalTokens: 1e9, maxCostUsd: 1000 } } },
  defaults: { retry: [] },
} as ConfigInput;

function curl(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'curl',
      ['-sS', '-o', '/dev/null', '-w', '%{size_download}', '-H', `authorization: Bearer ${KEY}`, '-H', 'content-type: application/json', '--data-binary', body, url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`curl exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const guard = createGuard({ config, providers: { sim: createSimModel() }, audit: false });
  const gateway = createGateway({ guard });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const endpoint = `${url}/v1/chat/completions`;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const rows: string[] = [];
  try {
    // A short answer first: the floor the machine's load alone puts under every figure.
    for (const directive of ['[sim:answer]', '[sim:long 32768]', '[sim:long 1e9]']) {
      for (const stream of [false, true]) {
        const body = JSON.stringify({ model: 'sim-big', stream, messages: [{ role: 'user', content: `${directive} write` }] });
        await curl(endpoint, body); // warm-up
        const maxes: number[] = [];
        const p99s: number[] = [];
        let bytes = 0;
        for (let i = 0; i < rounds; i++) {
          histogram.reset();
          bytes = await curl(endpoint, body);
          maxes.push(histogram.max / 1e6);
          p99s.push(histogram.percentile(99) / 1e6);
        }
        maxes.sort((a, b) => a - b);
        p99s.sort((a, b) => a - b);
        const row = `| \`${directive}\` | ${stream ? 'streamed' : 'plain'} | ${bytes} | ${percentile(p99s, 50).toFixed(1)} | ${percentile(maxes, 50).toFixed(1)} | ${maxes[maxes.length - 1]!.toFixed(1)} |`;
        console.log(row);
        rows.push(row);
      }
    }
  } finally {
    histogram.disable();
    await gateway.close(100);
    await guard.close();
  }
  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  const body = [
    `Gateway in this process (memory store, simulated provider, maxOutputTokens ${MAX_OUTPUT}), requests from \`curl\` child processes one at a time; \`monitorEventLoopDelay\` (1 ms resolution) reset before each request, its max read after it. ${rounds} requests per row. Target: no turn of the loop over 10 ms. Load average (1/5/15 min) ${load} at the start, ${loadAfter} at the end (a shared 2-core machine).${opts.label ? ` ${opts.label}` : ''}`,
    '',
    '| request | mode | bytes | loop delay p99 ms (median of requests) | max ms (median of requests) | max ms (max of requests) |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  if (!opts['no-write']) writeSection('Simulator event-loop stall (bench/sim-stall.ts)', body);
}

await main();
