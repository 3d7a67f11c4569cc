/**
 * The longest event-loop stall of a gateway serving the simulator's longest answers (issue 11).
 *
 * The gateway (guard + simulated provider, the model's maxOutputTokens 32,768) runs in this process;
 * the requests come from a child process, so the loop measured here does only the gateway's and the
 * simulator's work. For each request, `monitorEventLoopDelay` (1 ms resolution) is reset before
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

/**
 * The load-independent view: a 1 ms timer notes the process's CPU time at each firing; the most CPU
 * spent between two firings is about the longest turn's own work (the wall-clock delay above also
 * counts the time the OS ran other processes; CPU time of the process's helper threads, e.g. GC,
 * counts here too, so this errs high).
 */
class TurnMeter {
  max = 0;
  private last = process.cpuUsage();
  private timer: NodeJS.Timeout | undefined;
  start(): void {
    const tick = () => {
      const now = process.cpuUsage();
      const ms = (now.user - this.last.user + now.system - this.last.system) / 1000;
      if (ms > this.max) this.max = ms;
      this.last = now;
      this.timer = setTimeout(tick, 1);
    };
    this.timer = setTimeout(tick, 1);
  }
  reset(): void {
    this.max = 0;
    this.last = process.cpuUsage();
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

/**
 * The client: one child process, started before the measurements (a spawn costs the parent CPU), that
 * sends each request it reads on stdin (one JSON line: url, key, body) and answers with the bytes read.
 */
const CLIENT = `
const http = require('node:http');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const { url, key, body } = JSON.parse(line);
  const req = http.request(url, { method: 'POST', agent: false, headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json' } }, (res) => {
    let bytes = 0;
    res.on('data', (d) => { bytes += d.length; });
    res.on('end', () => process.stdout.write(res.statusCode + ' ' + bytes + '\\n'));
  });
  req.on('error', (err) => process.stdout.write('0 ' + err.message + '\\n'));
  req.end(body);
});
`;

function startClient(): { send(url: string, body: string): Promise<number>; close(): void } {
  const child = spawn(process.execPath, ['-e', CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: Array<(line: string) => void> = [];
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  return {
    send: (url, body) =>
      new Promise((resolve, reject) => {
        waiting.push((line) => {
          const [status, bytes] = line.split(' ');
          if (status === '200') resolve(Number(bytes));
          else reject(new Error(`status ${line}`));
        });
        child.stdin.write(`${JSON.stringify({ url, key: KEY, body })}\n`);
      }),
    close: () => child.kill(),
  };
}

async function main(): Promise<void> {
  const guard = createGuard({ config, providers: { sim: createSimModel() }, audit: false });
  const gateway = createGateway({ guard });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const endpoint = `${url}/v1/chat/completions`;
  const client = startClient();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const meter = new TurnMeter();
  meter.start();
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const rows: string[] = [];
  try {
    // A short answer first: the floor the machine's load alone puts under every figure.
    for (const directive of ['[sim:answer]', '[sim:long 32768]', '[sim:long 1e9]']) {
      for (const stream of [false, true]) {
        const body = JSON.stringify({ model: 'sim-big', stream, messages: [{ role: 'user', content: `${directive} write` }] });
        await client.send(endpoint, body); // warm-up
        const maxes: number[] = [];
        const p99s: number[] = [];
        const cpus: number[] = [];
        let bytes = 0;
        for (let i = 0; i < rounds; i++) {
          histogram.reset();
          meter.reset();
          bytes = await client.send(endpoint, body);
          maxes.push(histogram.max / 1e6);
          p99s.push(histogram.percentile(99) / 1e6);
          cpus.push(meter.max);
        }
        maxes.sort((a, b) => a - b);
        p99s.sort((a, b) => a - b);
        cpus.sort((a, b) => a - b);
        const row = `| \`${directive}\` | ${stream ? 'streamed' : 'plain'} | ${bytes} | ${percentile(p99s, 50).toFixed(1)} | ${percentile(maxes, 50).toFixed(1)} | ${maxes[maxes.length - 1]!.toFixed(1)} | ${percentile(cpus, 50).toFixed(1)} | ${cpus[cpus.length - 1]!.toFixed(1)} |`;
        console.log(row);
        rows.push(row);
      }
    }
  } finally {
    histogram.disable();
    meter.stop();
    client.close();
    await gateway.close(100);
    await guard.close();
  }
  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  const body = [
    `Gateway in this process (memory store, simulated provider, maxOutputTokens ${MAX_OUTPUT}), requests one at a time from one client child process (node:http, a fresh connection each); \`monitorEventLoopDelay\` (1 ms resolution) reset before each request, its max read after it; and the most CPU time the process spent between two firings of a 1 ms timer (about one turn's own work, whatever the machine's load; helper threads such as GC count too). ${rounds} requests per row. Target: no turn of the loop over 10 ms. Load average (1/5/15 min) ${load} at the start, ${loadAfter} at the end (a shared 2-core machine).${opts.label ? ` ${opts.label}` : ''}`,
    '',
    '| request | mode | bytes | loop delay p99 ms (median of requests) | max ms (median of requests) | max ms (max of requests) | CPU ms in one turn, median of requests | max of requests |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  if (!opts['no-write']) writeSection('Simulator event-loop stall (bench/sim-stall.ts)', body);
}

await main();
