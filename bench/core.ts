/**
 * npm run bench:core — what a guarded call adds over the same call unguarded.
 *
 * Both sides call the same in-process simulated model with zero latency, so the difference is
 * fmguard's own work: run and kill checks, the Cedar policy decision, breakers, rate buckets, the
 * all-or-nothing reservation, settlement, loop detection, metrics and events, on the memory store. Runs interleave in rounds so both sides
 * see the same machine state.
 */
import { createGuard, createMemoryStore, createSimModel, type ChatRequest } from '../src/index.ts';
import { percentile, writeSection } from './results.ts';

const ROUNDS = 10;
const CALLS_PER_ROUND = 2000;
const WARMUP = 3000;

const sim = createSimModel();
const guard = createGuard({
  config: {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 } },
    tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 1_000_000 }], rateLimits: { requestsPerMinute: 100_000_000 } } },
    agents: {
      bench: {
        tenant: 'acme',
        allow: { models: ['sim-*'] },
        limits: { maxSteps: 1_000_000_000, maxCostUsd: 1_000_000, maxTotalTokens: 1_000_000_000_000, maxIdenticalOutputs: 1_000_000_000 },
      },
    },
  },
  store: createMemoryStore(),
  providers: { sim },
});
const request: ChatRequest = { model: 'sim-small', messages: [{ role: 'user', content: 'What is the capital of France?' }], max_tokens: 64 };
const run = await guard.startRun({ agent: 'bench' });
const signal = new AbortController().signal;

async function timeDirect(n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await sim.complete(request, { signal });
    out.push(performance.now() - t);
  }
}

async function timeGuarded(n: number, out: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run.callModel(request);
    out.push(performance.now() - t);
  }
}

await timeDirect(WARMUP, []);
await timeGuarded(WARMUP, []);
const direct: number[] = [];
const guarded: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  await timeDirect(CALLS_PER_ROUND, direct);
  await timeGuarded(CALLS_PER_ROUND, guarded);
}
direct.sort((a, b) => a - b);
guarded.sort((a, b) => a - b);
const us = (ms: number) => (ms * 1000).toFixed(2);
const rows = [
  ['direct (sim.complete)', direct],
  ['guarded (run.callModel, memory store)', guarded],
] as const;
const added = percentile(guarded, 50) - percentile(direct, 50);
const table = [
  '| call | p50 µs | p90 µs | p99 µs |',
  '|---|---:|---:|---:|',
  ...rows.map(([name, xs]) => `| ${name} | ${us(percentile(xs, 50))} | ${us(percentile(xs, 90))} | ${us(percentile(xs, 99))} |`),
  `| **added by fmguard (p50)** | **${us(added)}** | | |`,
].join('\n');
const body = `${ROUNDS} interleaved rounds of ${CALLS_PER_ROUND} sequential calls per side after ${WARMUP} warm-up calls; zero-latency simulated model.
Target: under 10 µs median added per guarded call. Result: ${us(added)} µs (${added * 1000 < 10 ? 'met' : 'NOT met'}).

${table}`;
console.log(body);
writeSection('Guarded call overhead (bench:core)', body);
await guard.close();
