/**
 * The console in a real browser (Debian's Chromium, headless) against a real gateway: sign-in, a live
 * agent run, kill, approvals, breakers and kill switches, each done by clicking the console.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  BOT_KEY,
  launchBrowser,
  OTHER_KEY,
  refineLoop,
  screenshot,
  signInWithForm,
  startConsoleGateway,
  until,
  type ConsoleGateway,
} from './helpers.ts';

let gw: ConsoleGateway;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
const cspViolations: string[] = [];

beforeAll(async () => {
  [gw, browser] = await Promise.all([startConsoleGateway(), launchBrowser()]);
  browser.context.setDefaultTimeout(8000);
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

const chat = (key: string, model = 'sim-small') =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'ping' }] }),
  });

/** Click the dialog's confirm button and wait for the dialog to go. */
async function confirm(label: string) {
  await page.locator('dialog.confirm').getByRole('button', { name: label, exact: true }).click();
  await page.locator('dialog.confirm').waitFor({ state: 'detached' });
}

describe('console in the browser: actions', () => {
  it('sign-in: a wrong token is refused; the right one opens Live runs; a POST without the CSRF token gets 403 with a catalogue code', async () => {
    const fresh = await browser.context.newPage();
    await browser.context.clearCookies();
    await fresh.goto(`${gw.url}/console/`);
    expect(fresh.url()).toBe(`${gw.url}/console/login`);
    await fresh.fill('#token', 'definitely-wrong');
    const [refused] = await Promise.all([
      fresh.waitForResponse((r) => r.url().endsWith('/console/login') && r.request().method() === 'POST'),
      fresh.click('button[type=submit]'),
    ]);
    expect(refused.status()).toBe(401);
    await expect(fresh.locator('[role=alert]').textContent()).resolves.toContain('That is not the admin token.');
    expect(fresh.url()).not.toContain('definitely-wrong');

    await signInWithForm(fresh, gw.url, ADMIN_TOKEN, 'alice');
    await fresh.getByRole('heading', { name: 'Live runs' }).waitFor();
    expect(fresh.url()).toBe(`${gw.url}/console/`);
    expect(await fresh.content()).not.toContain(ADMIN_TOKEN);
    // The cookie is out of the page's reach.
    expect(await fresh.evaluate(() => document.cookie)).toBe('');
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'fmguard_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });

    const forged = await fresh.evaluate(async () => {
      const res = await fetch('/console/api/kill', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'global' }),
      });
      return { status: res.status, body: await res.json() };
    });
    expect(forged.status).toBe(403);
    expect(forged.body.error).toMatchObject({ code: 'auth.invalid', type: 'fmguard_error' });
    expect((await gw.admin('GET', '/admin/kill')).json.switches).toEqual([]);
    await fresh.close();
  });

  let loop: ReturnType<typeof refineLoop>;
  /** The agent names its run `live-loop`; the gateway stores it scoped to the agent (bot). */
  const LIVE = 'live-loop@bot';

  it('an agent loop shows up in Live runs within 1 s without a reload, and its steps and cost rise', async () => {
    await page.goto(`${gw.url}/console/`);
    await page.locator('[data-live=live]').waitFor();
    // Mark the document (a reload would lose it) and note when the run's row first appears.
    await page.evaluate(() => {
      const w = window as unknown as { marker: string; seenAt?: number };
      w.marker = 'same document';
      new MutationObserver(() => {
        if (w.seenAt === undefined && document.querySelector('tr[data-run="live-loop@bot"]')) w.seenAt = Date.now();
      }).observe(document.body, { childList: true, subtree: true });
    });
    let startedAt = 0;
    const off = gw.guard.on((e) => {
      if (e.type === 'run.started' && e.run.id === LIVE) startedAt = e.at;
    });
    loop = refineLoop(gw.client({ run: 'live-loop' }));
    await page.locator(`tr[data-run="${LIVE}"]`).waitFor({ timeout: 5000 });
    off();
    const seenAt = await page.evaluate(() => (window as unknown as { seenAt: number }).seenAt);
    expect(startedAt).toBeGreaterThan(0);
    expect(seenAt - startedAt).toBeLessThan(1000);
    expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');

    const row = page.locator(`tr[data-run="${LIVE}"]`);
    const read = async () => ({
      steps: Number((await row.locator('[data-col=steps]').textContent())!.split('/')[0]!.replace(/,/g, '').trim()),
      cost: Number(/\$([\d.]+)/.exec((await row.locator('[data-col=cost]').textContent())!)?.[1] ?? 0),
    });
    const first = await read();
    await until(
      async () => {
        const now = await read();
        return now.steps >= first.steps + 2 && now.cost > first.cost;
      },
      // Two more turns take about 3 s (600 tokens at 400 tokens/s each); the bound is for a loaded machine.
      30_000,
      'steps and cost to rise',
    );
    expect(await row.locator('[data-col=state]').textContent()).toBe('running');
    await screenshot(page, 'live-runs-running');
  });

  it('Kill on that run: the confirmation names it, the agent stream ends with kill.switch, the run shows stopped with the code', async () => {
    const row = page.locator(`tr[data-run="${LIVE}"]`);
    await row.getByRole('button', { name: `Kill run ${LIVE}` }).click();
    const dialog = page.locator('dialog.confirm');
    await expect(dialog.locator('h2').textContent()).resolves.toBe(`Kill run ${LIVE}?`);
    await dialog.locator('[data-impact]').filter({ hasText: '1 run in flight will stop.' }).waitFor();
    await screenshot(page, 'kill-run-confirm');
    await confirm('Kill run');
    const ended = await loop;
    expect(ended.code).toBe('kill.switch');
    await page.locator(`tr[data-run="${LIVE}"][data-status=stopped]`).waitFor({ timeout: 5000 });
    expect(await row.locator('[data-col=code]').textContent()).toBe('kill.switch');

    // The run's timeline tells the same story, ending with the stop.
    await row.getByRole('link', { name: LIVE }).click();
    await page.locator('[data-stopped="kill.switch"]').waitFor();
    const events = await page.locator('table.timeline tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    expect(events[0]).toBe('run.started');
    expect(events.filter((e) => e === 'call.allowed').length).toBeGreaterThanOrEqual(2);
    expect(events).toContain('run.stopped');
    expect(await page.locator('tr[data-event="run.stopped"]').textContent()).toContain('kill.switch');
    await screenshot(page, 'run-timeline');
  });

  it('approvals: a pending MCP tool call appears with its arguments; Approve lets it run; Deny on another gets approval.denied', async () => {
    await page.goto(`${gw.url}/console/approvals`);
    await page.getByRole('heading', { name: 'Pending' }).waitFor();
    const mcp = await gw.mcp('mcp-approvals');
    const approved = mcp.callTool({ name: 'send_email', arguments: { to: 'ops@example.com', subject: 'Refund', body: 'Refund order 1234' } }, undefined, {
      timeout: 60_000,
    });
    const pendingRow = page.locator('tr[data-tool="demo.send_email"]');
    await pendingRow.waitFor({ timeout: 5000 });
    expect(await pendingRow.locator('pre.args').textContent()).toContain('"to": "ops@example.com"');
    expect(await pendingRow.textContent()).toContain('mcp-approvals');
    expect(await pendingRow.locator('[data-countdown]').textContent()).toMatch(/^\d+m \d{2}s$/);
    await screenshot(page, 'approvals-pending');
    await pendingRow.getByRole('button', { name: /^Approve/ }).click();
    await confirm('Approve');
    const ok = await approved;
    expect(ok.isError).toBeFalsy();
    expect((ok.content as Array<{ text: string }>)[0]!.text).toMatch(/^sent msg_\d+ to ops@example.com$/);

    const denied = mcp.callTool({ name: 'send_email', arguments: { to: 'everyone@example.com', subject: 'Hi', body: 'Spam' } }, undefined, { timeout: 60_000 });
    const second = page.locator('tr[data-tool="demo.send_email"]');
    await second.filter({ hasText: 'everyone@example.com' }).waitFor({ timeout: 5000 });
    await second.getByRole('button', { name: /^Deny/ }).click();
    await page.fill('#confirm-reason', 'not to everyone');
    await confirm('Deny');
    const refused = await denied;
    expect(refused.isError).toBe(true);
    expect((refused.content as Array<{ text: string }>)[0]!.text).toMatch(/^approval\.denied: /);
    // Both are below, decided.
    await page.locator('tr[data-status=denied]').waitFor();
    const statuses = await page.locator('table[aria-label="Decided approvals"] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    expect(statuses.sort()).toEqual(['consumed', 'denied']);
    expect(await page.locator('tr[data-status=denied]').textContent()).toContain('not to everyone');

    // The run's timeline holds the approvals between its calls.
    await page.goto(`${gw.url}/console/runs/mcp-approvals`);
    await page.locator('table.timeline tbody tr').first().waitFor();
    const events = await page.locator('table.timeline tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
    expect(events).toEqual(expect.arrayContaining(['approval.requested', 'approval.decided', 'approval.consumed', 'call.allowed', 'call.refused']));
    expect(await page.locator('tr[data-event="call.refused"]').textContent()).toContain('approval.denied');
  });

  it('breakers: Open one and the next request gets breaker.open; Close it and requests pass', async () => {
    await page.goto(`${gw.url}/console/alarms`);
    const row = page.locator('tr[data-breaker="model:sim-small"]');
    await row.waitFor();
    await row.getByRole('button', { name: 'Open breaker model:sim-small' }).click();
    await confirm('Open breaker');
    await page.locator('tr[data-breaker="model:sim-small"][data-state=open]').waitFor({ timeout: 5000 });
    const refused = await chat(BOT_KEY);
    expect(refused.status).toBe(503);
    expect((await refused.json()).error.code).toBe('breaker.open');
    await screenshot(page, 'breaker-open');

    await row.getByRole('button', { name: 'Close breaker model:sim-small' }).click();
    await confirm('Close breaker');
    await page.locator('tr[data-breaker="model:sim-small"][data-state=closed]').waitFor({ timeout: 5000 });
    expect((await chat(BOT_KEY)).status).toBe(200);
    expect(await row.textContent()).toContain('2 changes');
  });

  it('kill switches: the confirmation names the scope and the runs in flight; lifting it works the same way', async () => {
    await gw.guard.startRun({ agent: 'other', id: 'beta-run' });
    await page.goto(`${gw.url}/console/kills`);
    await page.selectOption('#k-kind', 'tenant');
    await page.locator('#k-id option', { hasText: 'beta' }).waitFor({ state: 'attached' });
    await page.selectOption('#k-id', 'beta');
    await page.getByRole('button', { name: 'Kill…' }).click();
    const dialog = page.locator('dialog.confirm');
    await expect(dialog.locator('h2').textContent()).resolves.toBe('Kill tenant:beta?');
    await dialog.locator('[data-impact]').filter({ hasText: '1 run in flight will stop.' }).waitFor();
    expect(await dialog.textContent()).toContain('beta-run');
    await confirm('Kill');
    await page.locator('tr[data-switch="tenant:beta"]').waitFor();
    expect((await gw.guard.store.runs.get('beta-run@other'))!.stopCode).toBe('kill.switch');
    const refused = await chat(OTHER_KEY);
    expect(refused.status).toBe(403);
    expect((await refused.json()).error.code).toBe('kill.switch');
    await screenshot(page, 'kill-switches');

    await page.getByRole('button', { name: 'Lift kill switch tenant:beta' }).click();
    await expect(page.locator('dialog.confirm h2').textContent()).resolves.toBe('Lift the kill switch on tenant:beta?');
    await confirm('Lift kill switch');
    await page.locator('tr[data-switch="tenant:beta"]').waitFor({ state: 'detached' });
    expect((await chat(OTHER_KEY)).status).toBe(200);
  });

  it('nothing the console did broke its Content-Security-Policy', () => {
    expect(cspViolations).toEqual([]);
  });
});
