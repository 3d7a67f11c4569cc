/**
 * npm run bench:console — what the console costs a browser, and how fast Live runs is with 10,000
 * runs in the store.
 *
 * 1. Builds the console (console/build.ts) and reports each file's size, raw and gzip: what the
 *    first view (Live runs) loads, and the chart chunk the Spend and Alarms views add.
 * 2. Seeds 10,000 runs into a SQLite store through the store API (each with ledger usage and a
 *    model call in the audit log, like a real run), starts a real gateway on it, and times
 *    - the API read behind Live runs (`/console/api/live/runs`: one store read, 50 rows enriched),
 *      unfiltered, filtered (state + stop code, tenant) and a deep page;
 *    - in headless Chromium (Debian's /usr/bin/chromium), from navigation to the 50th row drawn.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildConsole } from '../console/build.ts';
import { createGateway } from '../src/wiring/gateway.ts';
import { createGuard } from '../src/wiring/guard.ts';
import { accounts } from '../src/store/store.ts';
import { percentile, writeSection } from './results.ts';

const RUNS = 10_000;
const API_ROUNDS = 40;
const BROWSER_ROUNDS = 8;
const TOKEN = 'adm-bench-console-0001';
const CHROMIUM = '/usr/bin/chromium';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

// 1. Sizes.
const built = await buildConsole();
const size = (name: string) => built.files.find((f) => f.name === name)!;
const js = size(built.js);
const css = size(built.css);
const chunks = built.files.filter((f) => f.name.endsWith('.js') && f.name !== built.js);
const chartBytes = chunks.reduce((a, f) => ({ bytes: a.bytes + f.bytes, gzip: a.gzip + f.gzipBytes }), { bytes: 0, gzip: 0 });
process.stdout.write(`built: ${built.js} ${js.bytes} B (${js.gzipBytes} gzip), ${built.css} ${css.bytes} B (${css.gzipBytes} gzip), chunks ${chartBytes.bytes} B (${chartBytes.gzip} gzip)\n`);

// 2. A gateway over 10,000 runs.
const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-console-'));
const guard = createGuard({
  config: {
    store: { kind: 'sqlite', path: join(dir, 'state.db') },
    providers: { sim: { kind: 'simulated' } },
    models: { 'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 }, 'sim-large': { provider: 'sim', inputPerMTok: 3, outputPerMTok: 15 } },
    tenants: { acme: {}, beta: {}, gamma: {} },
    agents: Object.fromEntries(['support', 'research', 'billing', 'ops'].map((name, i) => [name, { tenant: ['acme', 'beta', 'gamma', 'acme'][i], keys: [`sk-bench-${name}-0001`], allow: { models: ['*'] } }])),
    server: { adminToken: TOKEN },
  },
  background: false,
});
const agents = ['support', 'research', 'billing', 'ops'];
const tenantOf: Record<string, string> = { support: 'acme', research: 'beta', billing: 'gamma', ops: 'acme' };
const codes = ['kill.switch', 'limit.steps', 'limit.cost', 'loop.repeated_tool_call', 'limit.duration'] as const;
const seedStart = performance.now();
const now = Date.now();
for (let i = 0; i < RUNS; i++) {
  const agent = agents[i % agents.length]!;
  const id = `run-${String(i).padStart(5, '0')}`;
  const startedAt = now - (RUNS - i) * 2000;
  await guard.store.runs.create({ id, agent, tenant: tenantOf[agent]!, ancestors: [], depth: 0, startedAt, deadline: startedAt + 600_000, status: 'running' });
  const steps = 1 + (i % 17);
  await guard.store.ledger.reserve({
    id: `seed-${i}`,
    charges: [
      { key: accounts.run(id), dim: 'steps', amount: steps, code: 'limit.steps' },
      { key: accounts.run(id), dim: 'cost', amount: steps * 120_000, code: 'limit.cost' },
    ],
    expiresAt: now + 60_000,
    now,
  });
  await guard.store.ledger.settle({ id: `seed-${i}`, actual: [steps, steps * 120_000], now });
  guard.audit!.record({ type: 'call.allowed', time: startedAt + 500, run: id, agent, tenant: tenantOf[agent], action: 'invokeModel', resource: i % 3 ? 'sim-small' : 'sim-large', costUsd: steps * 0.00012 });
  // One in ten still running; the rest ended, a third of those by a stop code.
  if (i % 10 !== 0) {
    if (i % 3 === 0) await guard.store.runs.end(id, 'stopped', startedAt + 60_000, codes[i % codes.length], 'seeded');
    else await guard.store.runs.end(id, 'completed', startedAt + 60_000);
  }
}
await guard.audit!.flush();
const seedMs = performance.now() - seedStart;
process.stdout.write(`seeded ${RUNS} runs in ${(seedMs / 1000).toFixed(1)} s\n`);

const gateway = createGateway({ guard });
const { url } = await gateway.listen(0, '127.0.0.1');
const login = await fetch(`${url}/console/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url }, body: `token=${TOKEN}` });
const cookie = login.headers.get('set-cookie')!.split(';')[0]!;

async function timeApi(query: string): Promise<{ p50: number; p95: number; total: number; rows: number }> {
  const times: number[] = [];
  let total = 0;
  let rows = 0;
  for (let i = 0; i < API_ROUNDS + 3; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/console/api/live/runs?${query}`, { headers: { cookie } });
    const body = (await res.json()) as { total: number; runs: unknown[] };
    if (res.status !== 200) throw new Error(`live/runs?${query}: HTTP ${res.status}`);
    if (i >= 3) times.push(performance.now() - t0);
    total = body.total;
    rows = body.runs.length;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), total, rows };
}

const queries: Array<[string, string]> = [
  ['first page, no filter', 'limit=50'],
  ['state=stopped & code=kill.switch', 'state=stopped&code=kill.switch&limit=50'],
  ['tenant=acme & state=running', 'tenant=acme&state=running&limit=50'],
  ['page 150 of 200', 'page=150&limit=50'],
];
const apiRows: string[] = [];
for (const [name, query] of queries) {
  const r = await timeApi(query);
  apiRows.push(`| ${name} | ${r.total.toLocaleString('en-US')} | ${r.rows} | ${ms(r.p50)} | ${ms(r.p95)} |`);
  process.stdout.write(`api ${name}: p50 ${ms(r.p50)} p95 ${ms(r.p95)}\n`);
}

let browserLine = 'Chromium not found at /usr/bin/chromium: browser timing skipped.';
if (existsSync(CHROMIUM)) {
  const profile = mkdtempSync(join(tmpdir(), 'fmguard-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const [name, value] = cookie.split('=') as [string, string];
  await context.addCookies([{ name, value, url: `${url}/console/` }]);
  const page = await context.newPage();
  const loads: number[] = [];
  let cold = 0;
  for (let i = 0; i < BROWSER_ROUNDS + 1; i++) {
    const t0 = performance.now();
    await page.goto(`${url}/console/`, { waitUntil: 'commit' });
    await page.locator('table.runs tbody tr').nth(49).waitFor({ timeout: 30_000 });
    const took = performance.now() - t0;
    if (i === 0) cold = took;
    else loads.push(took);
  }
  loads.sort((a, b) => a - b);
  browserLine = `Live runs in headless Chromium, from navigation to the 50th row drawn (10,000 runs in the store): first load (empty cache) ${ms(cold)}; reloads (cached assets) p50 ${ms(percentile(loads, 50))}, max ${ms(loads[loads.length - 1]!)} over ${BROWSER_ROUNDS}.`;
  process.stdout.write(`${browserLine}\n`);
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

await gateway.close(100);
await guard.close();
rmSync(dir, { recursive: true, force: true });

const body = `
Built with esbuild (minified, ES2022 modules): Preact for the views, uPlot for the charts, in a chunk
of its own that only the Spend and Alarms views load. No CDN, no web fonts; gzip copies are served to
browsers that take them.

| file | raw | gzip |
|---|---|---|
| \`${built.js}\` (the app: every view) | ${kb(js.bytes)} | ${kb(js.gzipBytes)} |
| \`${built.css}\` | ${kb(css.bytes)} | ${kb(css.gzipBytes)} |
${chunks.map((f) => `| \`${f.name}\` (charts, loaded on demand) | ${kb(f.bytes)} | ${kb(f.gzipBytes)} |`).join('\n')}
| **Live runs loads** (app + CSS) | **${kb(js.bytes + css.bytes)}** | **${kb(js.gzipBytes + css.gzipBytes)}** |
| everything | ${kb(js.bytes + css.bytes + chartBytes.bytes)} | ${kb(js.gzipBytes + css.gzipBytes + chartBytes.gzip)} |

Live runs over ${RUNS.toLocaleString('en-US')} runs in a SQLite store (seeded through the store API, each with ledger usage
and an audit event), a real gateway, \`GET /console/api/live/runs\` with a session, ${API_ROUNDS} reads each:

| query | matching runs | rows | p50 | p95 |
|---|---|---|---|---|
${apiRows.join('\n')}

Most of each read is the store handing over every run that matches the store-side filters (tenant,
agent): \`RunStore.list\` has no offset and no stop-code filter, so the page and the code are applied in
the gateway. The page's 50 rows (ledger usage, last model from the audit log) cost a few ms. Live
events re-read at most every 0.7 s per open console.

${browserLine}
`;
writeSection('Console (bench:console)', body);
process.stdout.write('written to bench/RESULTS.md\n');
