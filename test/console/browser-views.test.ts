/**
 * The console's views in a real browser over real traffic: pages of many runs, spend and alarm charts
 * drawn from the metrics, a run's timeline, audit search and verify, the config; an accessibility
 * check (axe-core) and a screenshot of each view.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  launchBrowser,
  OTHER_KEY,
  screenshot,
  seriousViolations,
  signInWithForm,
  startConsoleGateway,
  until,
  type ConsoleGateway,
} from './helpers.ts';

let gw: ConsoleGateway;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
/** The 10 s period the alarm's burst of calls fell in: the alarm can be judged once it has ended. */
let burstPeriodEnd = 0;
const cspViolations: string[] = [];

async function traffic() {
  const bot = gw.client({ run: 'view-run' });
  const ask = (content: string, model = 'sim-small') => ({ model, max_tokens: 40, messages: [{ role: 'user' as const, content }] });
  // A burst of calls in one 10 s period: the sim-calls alarm (Sum of calls > 3) breaches on it. Start it
  // with at least 5 s of the period left, so that on a loaded machine it cannot straddle two periods.
  if (Date.now() % 10_000 > 5_000) await new Promise((r) => setTimeout(r, 10_000 - (Date.now() % 10_000) + 20));
  burstPeriodEnd = Math.floor(Date.now() / 10_000) * 10_000 + 10_000;
  await Promise.all([0, 1, 2, 3, 4].map((i) => bot.chat.completions.create(ask(`question ${i}`))));
  await bot.chat.completions.create(ask('the expensive one', 'sim-pricey'));
  await gw.client({ key: OTHER_KEY, run: 'beta-run' }).chat.completions.create(ask('beta spends too'));
  // A tool call through MCP in the same run, and a sub-run with its own model call.
  const mcp = await gw.mcp('view-run');
  await mcp.callTool({ name: 'search', arguments: { query: 'refund policy' } });
  await gw.guard.startRun({ agent: 'bot', id: 'view-child', parentId: 'view-run' });
  await gw.client({ run: 'view-child' }).chat.completions.create(ask('sub-task'));
  // Breaker history: opened and closed again by an operator.
  await gw.admin('POST', '/admin/breakers/provider%3Asim/open', { by: 'drill', reason: 'failover drill', cooldownMs: null });
  await gw.admin('POST', '/admin/breakers/provider%3Asim/close', { by: 'drill' });
  // Many runs through the store API, for paging: 600 of them, one in four stopped by a kill switch.
  const now = Date.now();
  for (let i = 0; i < 600; i++) {
    const id = `bulk-${String(i).padStart(4, '0')}`;
    await gw.guard.store.runs.create({
      id,
      agent: i % 2 ? 'bot' : 'other',
      tenant: i % 2 ? 'acme' : 'beta',
      ancestors: [],
      depth: 0,
      startedAt: now - 3_600_000 + i * 1000,
      deadline: now + 600_000,
      status: 'running',
    });
    if (i % 4 === 0) await gw.guard.store.runs.end(id, 'stopped', now, 'kill.switch', 'bulk');
    else if (i % 4 === 1) await gw.guard.store.runs.end(id, 'completed', now);
  }
}

beforeAll(async () => {
  [gw, browser] = await Promise.all([startConsoleGateway(), launchBrowser()]);
  browser.context.setDefaultTimeout(8000);
  await traffic();
  page = await browser.context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await signInWithForm(page, gw.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** Pixels of the chart's canvas within `tolerance` of an RGB colour, with an alpha in `alpha` (opaque by default). */
function pixelsOf(page: Page, chart: string, rgb: [number, number, number], tolerance = 24, alpha: [number, number] = [200, 255]): Promise<number> {
  return page.evaluate(
    ({ chart, rgb, tolerance, alpha }) => {
      const canvas = document.querySelector<HTMLCanvasElement>(`[data-chart="${chart}"] canvas`);
      if (!canvas) return -1;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs(data[i]! - rgb[0]) <= tolerance &&
          Math.abs(data[i + 1]! - rgb[1]) <= tolerance &&
          Math.abs(data[i + 2]! - rgb[2]) <= tolerance &&
          data[i + 3]! >= alpha[0] &&
          data[i + 3]! <= alpha[1]
        )
          n++;
      }
      return n;
    },
    { chart, rgb, tolerance, alpha },
  );
}

/** The numbers a chart's data table holds for one series (by column header). */
function tableColumn(page: Page, chart: string, series: string): Promise<number[]> {
  return page.evaluate(
    ({ chart, series }) => {
      const table = document.querySelector(`[data-chart-table="${chart}"]`)!;
      const col = [...table.querySelectorAll('thead th')].findIndex((th) => th.textContent === series);
      return [...table.querySelectorAll('tbody tr')].map((tr) => Number(tr.children[col]!.getAttribute('data-value') || 0));
    },
    { chart, series },
  );
}

const BLUE: [number, number, number] = [37, 99, 235];
const PINK: [number, number, number] = [219, 39, 119];
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('console in the browser: views', () => {
  it('Live runs pages 600+ runs on the server; state and stop-code filters narrow what it returns', async () => {
    await page.goto(`${gw.url}/console/`);
    const pager = page.locator('nav.pager span');
    await pager.filter({ hasText: /Page 1 of \d+/ }).waitFor();
    const total = (await gw.admin('GET', '/admin/live/runs?limit=1')).json.total;
    expect(total).toBeGreaterThan(600);
    expect(await pager.textContent()).toBe(`Page 1 of ${Math.ceil(total / 50)} · ${total.toLocaleString('en-US')} runs`);
    expect(await page.locator('table.runs tbody tr').count()).toBe(50);
    const firstPage = await page.locator('table.runs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
    await page.getByRole('button', { name: 'Older →' }).click();
    await pager.filter({ hasText: /^Page 2 of/ }).waitFor();
    const secondPage = await page.locator('table.runs tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-run')));
    expect(secondPage.some((id) => firstPage.includes(id))).toBe(false);

    await page.getByRole('button', { name: /^Stopped/ }).click();
    await page.selectOption('#f-code', 'kill.switch');
    await pager.filter({ hasText: '150 runs' }).waitFor();
    const statuses = await page
      .locator('table.runs tbody tr')
      .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-status'), r.querySelector('[data-col=code]')!.textContent]));
    expect(statuses.every(([status, code]) => status === 'stopped' && code === 'kill.switch')).toBe(true);
    expect(page.url()).toContain('state=stopped');
    expect(page.url()).toContain('code=kill.switch');
    await page.selectOption('#f-tenant', 'beta');
    await pager.filter({ hasText: '150 runs' }).waitFor();
    await page.goto(`${gw.url}/console/?tenant=acme&state=completed`);
    await pager.filter({ hasText: '150 runs' }).waitFor();
  });

  it('Spend: the cost and tokens charts draw the real spend per tenant, and the budget chart ends at the ledger', async () => {
    await page.goto(`${gw.url}/console/spend?range=15m`);
    await page.locator('[data-chart=cost] canvas').waitFor();
    await page.locator('[data-chart=tokens] canvas').waitFor();
    const api = (await gw.admin('GET', '/admin/spend?by=tenant&range=15m')).json;
    const acme = api.series.find((s: { id: string }) => s.id === 'acme');
    const beta = api.series.find((s: { id: string }) => s.id === 'beta');
    expect(acme.totalCostUsd).toBeGreaterThan(0);
    // What the chart was given is what the server measured.
    expect(sum(await tableColumn(page, 'cost', 'acme'))).toBeCloseTo(acme.totalCostUsd, 9);
    expect(sum(await tableColumn(page, 'cost', 'beta'))).toBeCloseTo(beta.totalCostUsd, 9);
    expect(sum(await tableColumn(page, 'tokens', 'acme'))).toBe(acme.totalTokens);
    // And it is on the canvas: acme's line (blue) and beta's (pink) were drawn.
    expect(await pixelsOf(page, 'cost', BLUE)).toBeGreaterThan(30);
    expect(await pixelsOf(page, 'cost', PINK)).toBeGreaterThan(30);
    expect(await pixelsOf(page, 'tokens', BLUE)).toBeGreaterThan(30);
    // The budget: spend this day against the $2 limit, ending where the ledger is.
    const budget = api.budgets.find((b: { scope: string }) => b.scope === 'tenant:acme');
    const chart = 'budget-tenant:acme-day';
    await page.locator(`[data-chart="${chart}"] canvas`).waitFor();
    const spent = await tableColumn(page, chart, 'spent');
    expect(spent.at(-1)).toBeCloseTo(budget.usedUsd, 9);
    expect(new Set(await tableColumn(page, chart, 'budget'))).toEqual(new Set([2]));
    expect(await page.locator('tr[data-budget="tenant:acme/day"]').textContent()).toContain('50%, 80%, 100%');
    await screenshot(page, 'spend');
  });

  it('Alarms: the metric is drawn against its threshold, with the ALARM band of a real evaluation', async () => {
    // Judge the alarm once the burst's period is over: Sum of calls > 3 → ALARM.
    await until(() => Date.now() >= burstPeriodEnd + 50, 15_000, 'the burst period to end');
    // The calls reach the store with the metrics' next flush: evaluate again until they are there.
    await until(
      async () => {
        await gw.guard.alarms!.evaluateAll();
        return gw.guard.alarms!.status('sim-calls')!.state === 'ALARM';
      },
      15_000,
      'the sim-calls alarm to see the burst',
    );
    // Let the ALARM band grow a few seconds wide on a 5-minute chart.
    await new Promise((r) => setTimeout(r, 3000));
    await page.goto(`${gw.url}/console/alarms?range=5m`);
    const card = page.locator('[data-alarm="sim-calls"]');
    await card.locator('canvas').waitFor();
    expect(await card.locator('h3 .badge').textContent()).toBe('ALARM');
    const calls = await tableColumn(page, 'alarm-sim-calls', 'calls');
    expect(Math.max(...calls)).toBeGreaterThan(3);
    expect(new Set(await tableColumn(page, 'alarm-sim-calls', 'threshold'))).toEqual(new Set([3]));
    expect(await card.locator('.band-legend').textContent()).toContain('ALARM');
    expect(await pixelsOf(page, 'alarm-sim-calls', BLUE)).toBeGreaterThan(20);
    // The threshold line (opaque red) and the ALARM band (translucent red behind the plot) are drawn.
    expect(await pixelsOf(page, 'alarm-sim-calls', [220, 38, 38])).toBeGreaterThan(20);
    expect(await pixelsOf(page, 'alarm-sim-calls', [220, 38, 38], 8, [35, 60])).toBeGreaterThan(50);
    // The breaker drill shows in provider:sim's history.
    const breaker = page.locator('tr[data-breaker="provider:sim"]');
    expect(await breaker.textContent()).toContain('2 changes');
    expect(await breaker.locator('.strip span').count()).toBe(3);
    await screenshot(page, 'alarms-and-breakers');
  });

  it("a run's timeline: model and tool calls in order with tokens, cost and latency; the sub-run in the tree", async () => {
    await page.goto(`${gw.url}/console/runs/view-run`);
    await page.locator('table.timeline tbody tr').first().waitFor();
    const rows = await page
      .locator('table.timeline tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-event'), ...[...tr.children].map((td) => td.textContent)]));
    const kinds = rows.map((r) => r[0]);
    expect(kinds[0]).toBe('run.started');
    expect(kinds.filter((k) => k === 'call.allowed')).toHaveLength(7);
    expect(kinds).toContain('subrun.started');
    const tool = rows.find((r) => r[4] === 'demo.search')!;
    expect(tool[3]).toContain('tool');
    const model = rows.find((r) => r[4] === 'sim-pricey')!;
    expect(model[6]).toMatch(/\d+ → \d+/);
    expect(model[7]).toMatch(/^\$0\.\d+/);
    expect(model[8]).toMatch(/ms|s$/);
    await page.locator('ul.tree a', { hasText: 'view-child' }).waitFor();
    await screenshot(page, 'run-timeline-tree');
  });

  it('Audit: search by run finds its events; Verify shows the chain intact and its head', async () => {
    await page.goto(`${gw.url}/console/audit`);
    // The audit log knows a run by its stored id: the name the client sent, scoped to its agent.
    await page.fill('#q-run', 'beta-run@other');
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('/console/api/audit?') && r.url().includes('run=beta-run')),
      page.getByRole('button', { name: 'Search' }).click(),
    ]);
    expect(page.url()).toContain('run=beta-run');
    // Every row the search shows is the run's (the unfiltered rows it replaces go).
    const runs = await until(
      async () => {
        const cells = await page.locator('tr[data-seq] td:nth-child(4)').allTextContents();
        return cells.length > 0 && cells.every((c) => c === 'beta-run@other') ? cells : undefined;
      },
      5000,
      'the search results',
    );
    expect(runs!.length).toBeGreaterThanOrEqual(2);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    const result = page.locator('[data-verify=ok]');
    await result.waitFor();
    const verify = (await gw.admin('GET', '/admin/audit/verify')).json;
    expect(verify.ok).toBe(true);
    expect(await result.textContent()).toContain(`event ${verify.head.seq}`);
    expect(await result.textContent()).toContain(verify.head.hash);
    await screenshot(page, 'audit');
  });

  it('Config: the running config with secrets masked and when it was loaded', async () => {
    await page.goto(`${gw.url}/console/config`);
    await page.locator('pre[data-section=server]').waitFor();
    expect(await page.locator('pre[data-section=server]').textContent()).toContain('"adminToken": "****');
    expect(await page.content()).not.toContain(ADMIN_TOKEN);
    expect(await page.content()).not.toContain('sk-console-bot-0001');
    expect(await page.locator('header.view-head p').textContent()).toMatch(/Loaded \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\./);
    await screenshot(page, 'config');
  });

  it('every view: no serious or critical accessibility violation (axe-core), and a screenshot', async () => {
    const views: Array<[string, string, string]> = [
      ['live-runs', '/console/', 'table.runs'],
      ['run', '/console/runs/view-run', 'table.timeline'],
      ['spend', '/console/spend', '[data-chart=cost] canvas'],
      ['alarms', '/console/alarms', '[data-alarm] canvas'],
      ['approvals', '/console/approvals', 'h2'],
      ['kill-switches', '/console/kills', '#k-kind'],
      ['audit', '/console/audit', 'tr[data-seq]'],
      ['config', '/console/config', 'pre.config'],
    ];
    const found: Record<string, unknown> = {};
    for (const [name, path, ready] of views) {
      await page.goto(`${gw.url}${path}`);
      await page.locator(ready).first().waitFor();
      const violations = await seriousViolations(page);
      if (violations.length > 0) found[name] = violations;
      await screenshot(page, name);
    }
    // The sign-in page and a confirmation dialog too.
    await page.goto(`${gw.url}/console/`);
    await page.locator('tr[data-status=running] button').first().click();
    await page.locator('dialog.confirm [data-impact]').filter({ hasText: 'will stop' }).waitFor();
    const dialog = await seriousViolations(page);
    if (dialog.length > 0) found['kill-dialog'] = dialog;
    // Signed out first, so the sign-in page is not redirected away while it loads.
    await browser.context.clearCookies();
    const login = await browser.context.newPage();
    await login.goto(`${gw.url}/console/login`);
    await login.locator('#token').waitFor();
    const signIn = await seriousViolations(login);
    if (signIn.length > 0) found['sign-in'] = signIn;
    await screenshot(login, 'sign-in');
    await login.close();
    expect(found).toEqual({});
    // Ten pages, each loaded, checked by axe-core and photographed: slow on a loaded 2-core machine.
  }, 120_000);

  it('nothing the console did broke its Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });
});
