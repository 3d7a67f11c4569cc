/**
 * Everything the console tests take from the rest of fmguard goes through this file (one place to
 * update when modules move), plus the browser, the agent loop and the sign-in helpers they share.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildConsole, type BuildResult } from '../../console/build.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/wiring/gateway.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { createGuard, type CreateGuardOptions } from '../../src/wiring/guard.ts';

export { accounts } from '../../src/store/store.ts';
export { bandsOf } from '../../src/admin/history.ts';
export { cumulativeSpend } from '../../src/admin/spend.ts';
export { periodFor, periodRange } from '../../src/admin/range.ts';
export { createSessionKeeper } from '../../src/console/session.ts';
export { createGuard, createGateway };
export type { Guard, Gateway, ConfigInput };

export const ADMIN_TOKEN = 'adm-console-test-token-7f3a9c';
export const BOT_KEY = 'sk-console-bot-0001';
export const OTHER_KEY = 'sk-console-other-0001';

/** Tenants acme (with a day budget) and beta, the built-in demo tools, one alarm, SQLite in `dir`. */
export function consoleConfig(dir: string, extra: Partial<ConfigInput> = {}): ConfigInput {
  return {
    store: { kind: 'sqlite', path: join(dir, 'state.db') },
    providers: { sim: { kind: 'simulated', tokensPerSecond: 400 } },
    models: {
      'sim-small': { provider: 'sim', inputPerMTok: 15, outputPerMTok: 60 },
      'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
      // Served by sim-small whenever its own breaker is open.
      'sim-mini': { provider: 'sim', inputPerMTok: 5, outputPerMTok: 20, fallbacks: ['sim-small'] },
    },
    toolServers: { demo: { kind: 'builtin' } },
    tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 2, alertAt: [0.5, 0.8, 1] }] }, beta: {} },
    agents: {
      bot: {
        tenant: 'acme',
        keys: [BOT_KEY],
        allow: { models: ['*'], tools: ['*'] },
        approve: { tools: ['demo.send_email'] },
        approvals: { waitMs: '30s' },
        limits: { maxSteps: 500, maxCostUsd: 5, maxDurationMs: 600_000 },
      },
      other: { tenant: 'beta', keys: [OTHER_KEY], allow: { models: ['*'], tools: ['*'] } },
    },
    alarms: [
      {
        name: 'sim-calls',
        scope: 'provider:sim',
        metric: 'calls',
        statistic: 'Sum',
        period: '10s',
        evaluationPeriods: 3,
        datapointsToAlarm: 1,
        comparison: 'GreaterThanThreshold',
        threshold: 3,
        treatMissingData: 'notBreaching',
      },
    ],
    defaults: { retry: [] },
    server: { adminToken: ADMIN_TOKEN },
    ...extra,
  } as ConfigInput;
}

let built: Promise<BuildResult> | undefined;

/** The console built from the current sources, once per test file, into a folder of its own (removed at exit). */
export function builtConsole(): Promise<BuildResult> {
  if (!built) {
    const outDir = mkdtempSync(join(tmpdir(), 'fmguard-console-ui-'));
    process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
    built = buildConsole({ outDir });
  }
  return built;
}

export interface ConsoleGateway {
  url: string;
  guard: Guard;
  gateway: Gateway;
  dir: string;
  /** The official OpenAI client as an agent (`key`), optionally inside a named run. */
  client(options?: { key?: string; run?: string }): OpenAI;
  /** An MCP client on /mcp/demo for the agent, inside `run`. */
  mcp(run: string, key?: string): Promise<Client>;
  /** The admin API with the bearer token. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }>;
  close(): Promise<void>;
}

export interface StartOptions {
  config?: (dir: string) => ConfigInput;
  guard?: Partial<CreateGuardOptions>;
  console?: GatewayOptions['console'];
}

/** A real gateway on a loopback port: SQLite store and audit log in a temp folder, the simulated model, the console mounted. */
export async function startConsoleGateway({
  config = consoleConfig,
  guard: guardOptions,
  console: consoleOptions,
}: StartOptions = {}): Promise<ConsoleGateway> {
  const ui = await builtConsole();
  const dir = mkdtempSync(join(tmpdir(), 'fmguard-console-'));
  const guard = createGuard({ config: config(dir), background: false, ...guardOptions });
  const gateway = createGateway({ guard, console: { assetsDir: ui.outDir, ...consoleOptions } });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const clients: Client[] = [];
  return {
    url,
    guard,
    gateway,
    dir,
    client: ({ key = BOT_KEY, run } = {}) =>
      new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: run ? { 'x-fmguard-run': run } : undefined }),
    async mcp(run, key = BOT_KEY) {
      const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp/demo`), {
        requestInit: { headers: { authorization: `Bearer ${key}`, 'x-fmguard-run': run } },
      });
      const client = new Client({ name: 'console-test-agent', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async admin(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any = text;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, json, headers: res.headers };
    },
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await gateway.close(100);
      await guard.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How an agent loop ended: its stop code from the gateway, and how many answers it read. */
export interface LoopEnd {
  code: string | null;
  turns: number;
}

/**
 * An agent with no stopping condition of its own, as people write them: stream an answer, ask for a
 * better one, forever. The simulated model's `[sim:refine]` never converges. Ends only when fmguard
 * stops it (or after `maxTurns`).
 */
export async function refineLoop(client: OpenAI, maxTurns = 1000, model = 'sim-small'): Promise<LoopEnd> {
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: '[sim:refine] Write the launch plan.' }];
  let turns = 0;
  try {
    for (; turns < maxTurns; turns++) {
      const stream = await client.chat.completions.create({ model, messages, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      messages.push({ role: 'assistant', content: text }, { role: 'user', content: 'Good. Make it better.' });
    }
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { code: error.code ?? error.headers?.get('x-fmguard-code') ?? `http ${error.status}`, turns };
    throw error;
  }
  return { code: null, turns };
}

/** Sign in over plain HTTP: the session cookie (name=value) and the page's CSRF token. */
export async function signIn(url: string, token = ADMIN_TOKEN, who = ''): Promise<{ cookie: string; csrf: string; response: Response }> {
  const response = await fetch(`${url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: new URLSearchParams({ token, who, next: '/console/' }).toString(),
  });
  const setCookie = response.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0]!;
  if (response.status !== 303) return { cookie: '', csrf: '', response };
  const page = await (await fetch(`${url}/console/`, { headers: { cookie } })).text();
  const csrf = /name="fmguard-csrf" content="([^"]+)"/.exec(page)?.[1] ?? '';
  return { cookie, csrf, response };
}

export const CHROMIUM = '/usr/bin/chromium';

/** Headless Debian Chromium with a fresh profile (one per test file). */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does: apt-get install -y chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'fmguard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's WCAG 2 A/AA checks on the page as it is now; the serious and critical violations. Axe is
 * evaluated through the DevTools protocol, so the page's CSP (no inline script) stays in force.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: unknown,
            opts: unknown,
          ) => Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }>;
        };
      }
    ).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Where the tests put their screenshots (git-ignored). */
export const SCREENSHOTS = join(process.cwd(), 'artifacts', 'console');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** Sign in through the form in the browser. */
export async function signInWithForm(page: Page, url: string, token = ADMIN_TOKEN, who = 'alice'): Promise<void> {
  await page.goto(`${url}/console/login`);
  await page.fill('#token', token);
  await page.fill('#who', who);
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith('/console/') && u.pathname !== '/console/login'), page.click('button[type=submit]')]);
}

/** Poll until `check` is truthy (or throw after `timeoutMs`). */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
