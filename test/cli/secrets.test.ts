import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from './serve-process.ts';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-secrets-'));
let serve: ServeProcess | undefined;
afterAll(async () => {
  serve?.child.kill('SIGKILL');
  await serve?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/** Every secret in the fixture, each a distinctive string that can only come from the config. */
const SECRETS = {
  agentKey: 'sk-agentkey-QZX1a7c3e9f2',
  providerKey: 'sk-provkey-QZX2b8d4f0a3',
  providerHeader: 'provhdr-QZX3c9e5a1b4',
  providerPass: 'provpass-QZX4d0f6b2c5',
  toolHeader: 'toolhdr-QZX5e1a7c3d6',
  toolPass: 'toolpass-QZX6f2b8d4e7',
  toolQuery: 'toolquery-QZX7a3c9e5f8',
  stdioArg: 'stdioarg-QZX8b4d0f6a9',
  stdioArgFlag: 'stdioflag-QZX9c5e1a7b0',
  stdioEnv: 'stdioenv-QZXAd6f2b8c1',
  auditKey: 'auditkey-QZXBe7a3c9d2',
  adminToken: 'admintok-QZXCf8b4d0e3',
  metricsToken: 'metricstok-QZXDa9c5e1f4',
  webhookHeader: 'hookhdr-QZXEb0d6f2a5',
  webhookPass: 'hookpass-QZXFc1e7a3b6',
};
/** Not secrets in the config, but what a client sends: never in a metric label or a log line. */
const PROMPT = 'prompt-QZXG-the-customer-said-hello';
const TOOL_ARG = 'toolarg-QZXH-query-text';

const CONFIG = `store: { kind: sqlite, path: state.db }
providers:
  sim: { kind: simulated }
  remote:
    kind: openai
    baseUrl: http://produser:${SECRETS.providerPass}@127.0.0.1:9/v1
    apiKey: ${SECRETS.providerKey}
    headers: { x-org: ${SECRETS.providerHeader} }
models:
  sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 }
  remote-model: { provider: remote, inputPerMTok: 1, outputPerMTok: 1 }
toolServers:
  demo: { kind: builtin }
  remote:
    kind: http
    url: https://tooluser:${SECRETS.toolPass}@tools.invalid/mcp?token=${SECRETS.toolQuery}
    headers: { authorization: "Bearer ${SECRETS.toolHeader}" }
  local:
    kind: stdio
    command: node
    args: [server.js, ${SECRETS.stdioArg}, --token=${SECRETS.stdioArgFlag}, --verbose]
    env: { API_TOKEN: ${SECRETS.stdioEnv} }
tenants: { acme: {} }
agents:
  bot:
    tenant: acme
    keys: [${SECRETS.agentKey}]
    allow: { models: ["*"], tools: [demo.*] }
alarms:
  - name: errors
    scope: provider:sim
    metric: error_rate
    period: 10s
    evaluationPeriods: 1
    comparison: GreaterThanOrEqualToThreshold
    threshold: 0.5
    actions:
      - webhook: { url: "https://hook:${SECRETS.webhookPass}@hooks.invalid/x", headers: { x-hook: ${SECRETS.webhookHeader} } }
defaults: { retry: [] }
audit: { key: ${SECRETS.auditKey} }
server: { adminToken: ${SECRETS.adminToken}, metricsToken: ${SECRETS.metricsToken} }
`;

async function cli(...args: string[]): Promise<string> {
  const { out, err } = await runCli(args, { cwd: dir });
  return out + err;
}

function leaks(where: string, text: string, needles: readonly string[]): string[] {
  return needles.filter((needle) => text.includes(needle)).map((needle) => `${where}: ${needle}`);
}

describe('secrets are never shown', { timeout: 180_000 }, () => {
  it('in config check, the admin API, the console config, logs, audit rows, /metrics and error bodies', async () => {
    writeFileSync(join(dir, 'check.yaml'), CONFIG);
    const secrets = Object.values(SECRETS);
    const found: string[] = [];
    const yaml = await cli('config', 'check', 'check.yaml');
    expect(yaml).toContain('API_TOKEN');
    expect(yaml).toContain('--verbose');
    found.push(...leaks('config check', yaml, secrets), ...leaks('config check --json', await cli('config', 'check', 'check.yaml', '--json'), secrets));

    serve = await startServe(dir, CONFIG);
    const admin = { authorization: `Bearer ${SECRETS.adminToken}` };
    const agent = { authorization: `Bearer ${SECRETS.agentKey}`, 'content-type': 'application/json' };
    const bodies: Array<[string, string]> = [];
    const take = async (where: string, res: Promise<Response>) => {
      const r = await res;
      const text = await r.text();
      bodies.push([where, `${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`]);
      return { status: r.status, text };
    };
    const chat = (model: string, extra: Record<string, string> = {}) =>
      fetch(`${serve!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...agent, ...extra },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: PROMPT }] }),
      });
    expect((await take('chat', chat('sim-small'))).status).toBe(200);
    // An upstream whose URL carries userinfo, failing: its error must not echo the URL or the key.
    expect((await take('chat to a failing upstream', chat('remote-model'))).status).toBeGreaterThanOrEqual(500);
    expect((await take('wrong key', chat('sim-small', { authorization: `Bearer ${SECRETS.agentKey}x` }))).status).toBe(401);
    const mcpHeaders = { ...agent, accept: 'application/json, text/event-stream' };
    const tool = await take(
      'mcp tools/call',
      fetch(`${serve.url}/mcp/demo`, {
        method: 'POST',
        headers: mcpHeaders,
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search', arguments: { query: TOOL_ARG } } }),
      }),
    );
    expect(tool.status).toBe(200);
    for (const path of ['config', 'config/info', 'audit?limit=1000', 'runs', 'audit/verify']) {
      const r = await take(`/admin/${path}`, fetch(`${serve.url}/admin/${path}`, { headers: admin }));
      expect(r.status, `${path}: ${r.text}`).toBe(200);
    }
    const config = JSON.parse(
      bodies
        .find(([w]) => w === '/admin/config')![1]
        .split('\n')
        .at(-1)!,
    ) as { config: Record<string, unknown> };
    expect(JSON.stringify(config.config)).toContain('"API_TOKEN":"****"');
    // /metrics wants its own token; the admin token or none is refused with the catalogue code.
    const refused = await take('/metrics without a token', fetch(`${serve.url}/metrics`));
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('auth.invalid');
    expect((await take('/metrics with the admin token', fetch(`${serve.url}/metrics`, { headers: admin }))).status).toBe(401);
    const metrics = await take('/metrics', fetch(`${serve.url}/metrics`, { headers: { authorization: `Bearer ${SECRETS.metricsToken}` } }));
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('gen_ai');
    const clientInput = [PROMPT, TOOL_ARG];
    found.push(...leaks('/metrics', metrics.text, clientInput));

    for (const [where, text] of bodies) found.push(...leaks(where, text, secrets));
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    found.push(...leaks('serve stdout', serve.stdout(), [...secrets, ...clientInput]), ...leaks('serve stderr', serve.stderr(), [...secrets, ...clientInput]));
    // The audit rows and every other byte the store wrote: agent keys only as their hashes.
    const stored = readdirSync(dir).filter((f) => f.startsWith('state.db'));
    expect(stored.length).toBeGreaterThan(0);
    for (const file of stored) found.push(...leaks(file, readFileSync(join(dir, file)).toString('latin1'), secrets));
    expect(found).toEqual([]);
  });
});
