/**
 * npm run soak [-- --minutes 30 --store sqlite|redis --concurrency 4 --no-write]
 *
 * A gateway under mixed load for N minutes (default 30), then three figures:
 *
 * - RSS slope: the gateway's resident memory sampled every 5 s inside the gateway process (a probe
 *   loaded with `node --import bench/soak-probe.mjs`), least-squares line over the samples after the
 *   first 2 minutes (warm-up), in MB per minute;
 * - event-loop delay: perf_hooks.monitorEventLoopDelay in the gateway, p99 over the whole soak (and the
 *   worst 5-s interval's p99, and the maximum);
 * - budget exactness: after the gateway stopped, the store is opened and every run's settled cost
 *   (its ledger account) is summed and compared with the tenant's and the agent's budget accounts
 *   (each must equal the sum exactly, in nano-USD); overspend = what any run used beyond its cost
 *   limit plus what any budget used beyond its limit (must be 0).
 *
 * The gateway is `fmguard serve` (SQLite store by default, `--store redis` on a private redis-server
 * with an append-only file), the simulated provider and the builtin demo tools. The load is another
 * process (bench/soak-load.ts): plain and streamed chat, MCP tools/call, budgeted runs driven until
 * their cost limit refuses them, every 5th run killed through the admin API. Every 5 minutes the
 * store is disturbed: SQLite — another connection holds the write lock for 1 s and truncates the WAL;
 * Redis — the server is stopped and restarted on the same data.
 *
 * The figures go to the section "Soak (npm run soak)" of bench/RESULTS.md (unless --no-write).
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { windowId } from '../src/core/periods.ts';
import { usdToNano } from '../src/core/money.ts';
import { createRedisStore } from '../src/backends/redis/index.ts';
import { createSqliteStore } from '../src/backends/sqlite/index.ts';
import { accounts, type Store } from '../src/store/store.ts';
import { benchScriptCommand, fmguardCommand, REPO } from './fmguard-cli.ts';
import { start, stop, stopAll, stopAllOnExit, type Started } from './procs.ts';
import { writeSection } from './results.ts';

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    store: { type: 'string', default: 'sqlite' },
    concurrency: { type: 'string', default: '4' },
    'disturb-every': { type: 'string', default: '5' },
    'no-write': { type: 'boolean', default: false },
  },
});
const MINUTES = Number(opts.minutes);
const STORE = opts.store as 'sqlite' | 'redis';
if (!(MINUTES > 0)) throw new Error('--minutes: a positive number');
if (STORE !== 'sqlite' && STORE !== 'redis') throw new Error('--store: sqlite or redis');
const CONCURRENCY = Number(opts.concurrency);
const DISTURB_MS = Number(opts['disturb-every']) * 60_000;
const WARMUP_MS = Math.min(120_000, (MINUTES * 60_000) / 4);
const PROBE_MS = 5000;

const KEY = 'sk-soak-agent-0001';
const ADMIN_TOKEN = 'soak-admin-token-0123456789abcdef';
const RUN_MAX_COST_USD = 0.0004;
const BUDGET_USD = 1_000_000;
const TAG = `${process.pid}-${Date.now().toString(36)}`;
const REDIS_PREFIX = `fmguard-soak:${TAG}:`;
const dir = mkdtempSync(join(tmpdir(), 'fmguard-soak-'));
const probePath = join(dir, 'probe.jsonl');
const dbPath = join(dir, 'state.db');

const progress = (text: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function config(redisUrl?: string): string {
  const store = STORE === 'sqlite' ? `{ kind: sqlite, path: '${dbPath}' }` : `{ kind: redis, url: '${redisUrl}', prefix: '${REDIS_PREFIX}' }`;
  const audit = STORE === 'redis' ? `audit: { sink: sqlite, path: '${join(dir, 'audit.db')}' }\n` : '';
  return `# Written by bench/soak.ts.
store: ${store}
${audit}server: { adminToken: '${ADMIN_TOKEN}' }
providers:
  sim: { kind: simulated, tokensPerSecond: 200000 }
models:
  sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.60, maxOutputTokens: 4096, rateLimits: &rate { requestsPerMinute: 1000000000, tokensPerMinute: 1000000000000 } }
toolServers:
  demo: { kind: builtin }
tenants:
  soak: { budgets: &budget [{ period: day, maxCostUsd: ${BUDGET_USD} }, { period: month, maxCostUsd: ${BUDGET_USD} }], rateLimits: *rate }
agents:
  soak:
    tenant: soak
    keys: ['${KEY}']
    budgets: *budget
    rateLimits: *rate
    limits:
      maxSteps: 1000
      maxToolCalls: 1000
      maxCostUsd: ${RUN_MAX_COST_USD}
      maxDurationMs: 10m
      maxIdenticalToolCalls: 1000000000
      maxIdenticalOutputs: 1000000000
    allow: { models: [sim-small], tools: [demo.read_file] }
`;
}

interface Sample {
  t: number;
  rss: number;
  p99: number;
  max: number;
  allP99: number;
  allMax: number;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return num / den;
}

async function exactness(store: Store, from: number, to: number) {
  const runs = await store.runs.list();
  const now = Date.now();
  let sum = 0;
  let overspend = 0;
  let stopped = 0;
  const limit = usdToNano(RUN_MAX_COST_USD);
  const CHUNK = 500;
  for (let i = 0; i < runs.length; i += CHUNK) {
    const chunk = runs.slice(i, i + CHUNK);
    const balances = await store.ledger.balances(
      chunk.map((r) => ({ key: accounts.run(r.id), dim: 'cost' })),
      now,
    );
    chunk.forEach((run, j) => {
      const used = balances[j]!.used;
      if (run.depth === 0) sum += used;
      if (used > limit) overspend += used - limit;
      if (run.status === 'stopped') stopped++;
    });
  }
  const budgets: Array<{ scope: string; used: number; equal: boolean }> = [];
  for (const scope of ['tenant:soak', 'agent:soak', `key:`]) {
    if (scope === 'key:') continue;
    for (const period of ['day', 'month'] as const) {
      const windows = [...new Set([windowId(period, from), windowId(period, to)])];
      const b = await store.ledger.balances(
        windows.map((w) => ({ key: accounts.budget(scope, period, w), dim: 'cost' })),
        now,
      );
      const used = b.reduce((a, x) => a + x.used, 0);
      overspend += Math.max(0, used - usdToNano(BUDGET_USD) * windows.length);
      budgets.push({ scope: `${scope} (${period})`, used, equal: used === sum });
    }
  }
  return { runs: runs.length, stopped, sum, budgets, overspend };
}

let redis: Started | undefined;
let redisPort = 0;
const redisArgs = () => ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
const startRedis = () =>
  start('redis-server (soak)', { command: 'redis-server', args: redisArgs() }, { ready: (_, line) => (line.includes('Ready to accept connections') ? `redis://127.0.0.1:${redisPort}` : undefined) });

stopAllOnExit(async () => rmSync(dir, { recursive: true, force: true }));

try {
  if (STORE === 'redis') {
    redisPort = await freePort();
    redis = await startRedis();
  }
  const configPath = join(dir, 'soak.yaml');
  writeFileSync(configPath, config(redis?.url));
  const serve = fmguardCommand('serve', '-c', configPath, '-p', '0');
  serve.args.unshift('--import', new URL('./soak-probe.mjs', import.meta.url).href);
  const gateway = await start('fmguard (soak)', serve, {
    ready: /listening on (http:\/\/\S+)/,
    env: { FMGUARD_SOAK_PROBE: probePath, FMGUARD_SOAK_PROBE_MS: String(PROBE_MS) },
  });
  progress(`gateway ${gateway.url} (${STORE}); load for ${MINUTES} min, ${CONCURRENCY} workers`);
  const t0 = Date.now();
  const load = await new Promise<Started>((resolve, reject) => {
    const command = benchScriptCommand('./soak-load.ts', gateway.url, KEY, ADMIN_TOKEN, String(CONCURRENCY), `soak-${TAG}`);
    // The load prints nothing until it stops: "ready" as soon as it runs.
    import('node:child_process').then(({ spawn }) => {
      const child = spawn(command.command, command.args, { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
      child.once('error', reject);
      resolve({ name: 'soak load', child, url: '', output: () => '' });
    }, reject);
  });
  let loadOut = '';
  load.child.stdout!.on('data', (d: Buffer) => {
    loadOut += d.toString();
  });
  const loadDone = new Promise<void>((resolve) => load.child.once('exit', () => resolve()));

  const end = t0 + MINUTES * 60_000;
  let disturbances = 0;
  let nextDisturb = t0 + DISTURB_MS;
  while (Date.now() < end) {
    await sleep(Math.min(5000, end - Date.now()));
    if (Date.now() >= nextDisturb && Date.now() < end - 30_000) {
      nextDisturb += DISTURB_MS;
      disturbances++;
      if (STORE === 'sqlite') {
        const db = new Database(dbPath, { timeout: 10_000 });
        db.exec('BEGIN IMMEDIATE');
        const until = Date.now() + 1000;
        while (Date.now() < until) {
          // hold the write lock: the gateway's writes wait (busy timeout) meanwhile
        }
        db.exec('COMMIT');
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.close();
        progress(`disturbance ${disturbances}: SQLite write lock held 1 s by another connection, WAL truncated`);
      } else {
        await stop(redis!.child, 10_000);
        redis = await startRedis();
        progress(`disturbance ${disturbances}: redis-server restarted on its append-only file`);
      }
    }
    const last = readFileSync(probePath, 'utf8').trimEnd().split('\n').at(-1);
    if (last) {
      const s = JSON.parse(last) as Sample;
      progress(`${((Date.now() - t0) / 60_000).toFixed(1)} min: RSS ${(s.rss / 2 ** 20).toFixed(1)} MB, loop p99 ${s.p99} ms (interval), ${s.allP99} ms (all)`);
    }
  }
  load.child.kill('SIGTERM');
  await loadDone;
  const loadStats = JSON.parse(loadOut.trim().split('\n').at(-1) ?? '{}') as { counts?: Record<string, number>; runs?: number };
  const t1 = Date.now();
  await sleep(PROBE_MS + 500);
  await stop(gateway.child, 20_000);

  const samples = readFileSync(probePath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Sample)
    .filter((s) => s.t <= t1);
  const steady = samples.filter((s) => s.t >= t0 + WARMUP_MS);
  const rssSlope = slope(steady.map((s) => [(s.t - t0) / 60_000, s.rss / 2 ** 20]));
  const last = samples.at(-1)!;
  const worstInterval = Math.max(...samples.map((s) => s.p99));
  const rssFirst = steady[0]?.rss ?? NaN;
  const rssLast = steady.at(-1)?.rss ?? NaN;

  const store = STORE === 'sqlite' ? createSqliteStore({ path: dbPath }) : createRedisStore({ url: redis!.url, prefix: REDIS_PREFIX });
  let exact: Awaited<ReturnType<typeof exactness>>;
  try {
    exact = await exactness(store, t0, t1);
  } finally {
    await store.close();
  }
  if (STORE === 'redis') {
    const { Redis } = await import('ioredis');
    const r = new Redis(redis!.url);
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000);
      if (keys.length) await r.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    r.disconnect();
  }

  const counts = loadStats.counts ?? {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  const exactAll = exact.budgets.every((b) => b.equal);
  const summary = [
    `store: ${STORE}, ${MINUTES} min, ${CONCURRENCY} workers, ${total} requests (${((total / (t1 - t0)) * 1000).toFixed(0)}/s), ${exact.runs} runs (${exact.stopped} stopped), ${disturbances} store disturbances`,
    `RSS slope: ${rssSlope.toFixed(3)} MB/min (least squares over ${steady.length} samples after ${WARMUP_MS / 60_000} min warm-up; ${mb(rssFirst)} → ${mb(rssLast)} MB)`,
    `event-loop delay: p99 ${last.allP99} ms over the soak, worst 5-s interval p99 ${worstInterval} ms, max ${last.allMax} ms`,
    `budget exactness: sum of runs' settled cost ${exact.sum} nano-USD; ${exact.budgets.map((b) => `${b.scope} ${b.used} (${b.equal ? 'equal' : 'DIFFERS'})`).join(', ')}; overspend ${exact.overspend} nano-USD`,
  ];
  console.log(summary.join('\n'));
  console.log(`responses: ${JSON.stringify(counts)}`);
  appendFileSync(join(dir, 'summary.txt'), summary.join('\n'));

  if (!opts['no-write']) {
    const rows = Object.entries(counts)
      .sort()
      .map(([k, v]) => `| ${k} | ${v} |`)
      .join('\n');
    writeSection(
      `Soak (npm run soak, ${STORE})`,
      `\`npm run soak -- --minutes ${MINUTES}${STORE === 'redis' ? ' --store redis' : ''}\`: \`fmguard serve\` on the ${STORE === 'sqlite' ? 'SQLite' : 'Redis'} store (simulated provider, builtin demo tools), ${CONCURRENCY} concurrent clients in another process (bench/soak-load.ts): plain and streamed chat (each a run of its own), MCP \`tools/call\` (stateless), and budgeted runs (a client-chosen run id, chat and streamed chat until the run's $${RUN_MAX_COST_USD} cost limit refuses it; every 5th run killed through \`POST /admin/runs/{id}/kill\` after 3 steps). Every ${DISTURB_MS / 60_000} min the store is disturbed (${STORE === 'sqlite' ? 'another connection holds the SQLite write lock for 1 s, then truncates the WAL' : 'redis-server is stopped and restarted on its append-only file'}). RSS and event-loop delay are sampled inside the gateway (\`bench/soak-probe.mjs\`, \`monitorEventLoopDelay\`, every 5 s).

| figure | value |
| --- | --- |
| duration | ${((t1 - t0) / 60_000).toFixed(1)} min |
| requests | ${total} (${((total / (t1 - t0)) * 1000).toFixed(0)}/s) |
| runs | ${exact.runs} (${exact.stopped} stopped by a limit or a kill) |
| store disturbances | ${disturbances} |
| RSS slope (after ${WARMUP_MS / 60_000} min warm-up, least squares) | ${rssSlope.toFixed(3)} MB/min (${mb(rssFirst)} → ${mb(rssLast)} MB) |
| event-loop delay p99 (whole soak) | ${last.allP99} ms |
| event-loop delay, worst 5-s interval p99 / max | ${worstInterval} ms / ${last.allMax} ms |
| sum of runs' settled cost | ${exact.sum} nano-USD |
${exact.budgets.map((b) => `| budget ${b.scope} | ${b.used} nano-USD (${b.equal ? 'equal to the runs’ sum' : '**differs**'}) |`).join('\n')}
| overspend (runs over their cost limit + budgets over theirs) | ${exact.overspend} nano-USD |

Responses by kind and status:

| kind and status | count |
| --- | --- |
${rows}
`,
    );
  }
  if (!exactAll || exact.overspend !== 0) process.exitCode = 1;
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
