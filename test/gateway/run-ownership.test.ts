import { afterEach, describe, expect, it } from 'vitest';
import { BOT_KEY, closeAll, gatewayConfig, OTHER_KEY, startGateway, type TestGateway } from './helpers.ts';

const PLANNER_KEY = 'sk-test-planner-0001';

/** bot and other in one tenant; planner lets bot make sub-runs of its runs (`delegatesTo`). */
function config() {
  const base = gatewayConfig({}, { audit: { sink: 'memory' }, toolServers: { demo: { kind: 'builtin' } } });
  return {
    ...base,
    agents: {
      ...base.agents,
      planner: { tenant: 'acme', keys: [PLANNER_KEY], allow: { models: ['*'], tools: ['*'] }, delegatesTo: ['bot'] },
    },
  } as typeof base;
}

function chat(gw: TestGateway, key: string, headers: Record<string, string> = {}) {
  return gw.post({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${key}`, ...headers });
}

function mcpCall(gw: TestGateway, key: string, headers: Record<string, string> = {}) {
  return fetch(`${gw.url}/mcp/demo`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search', arguments: { query: 'x' } } }),
  });
}

async function code(res: Response): Promise<string | undefined> {
  const body = (await res.json()) as { error?: { code?: string } };
  return body.error?.code;
}

afterEach(closeAll);

describe('runs belong to their agent', () => {
  it('mints run ids from the CSPRNG: a UUID each, nothing sequential', async () => {
    const gw = await startGateway({ config: config() });
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await chat(gw, BOT_KEY);
      expect(res.status).toBe(200);
      const id = res.headers.get('x-fmguard-run')!;
      expect(id).toMatch(/^run_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(5);
    // The SDK mints the same way; the stored id is the name scoped to the agent.
    const run = await gw.guard.startRun({ agent: 'bot' });
    expect(run.id).toMatch(/^run_[0-9a-f-]{36}@bot$/);
    expect(run.name).toBe(run.id.slice(0, -'@bot'.length));
  });

  it('scopes client-chosen ids per agent: nobody can squat a name, nobody shares a run by naming it', async () => {
    const gw = await startGateway({ config: config() });
    // other takes the name first …
    const squat = await chat(gw, OTHER_KEY, { 'x-fmguard-run': 'job-1' });
    expect(squat.status).toBe(200);
    // … and bot still gets a run of its own under it, echoed as sent.
    const mine = await chat(gw, BOT_KEY, { 'x-fmguard-run': 'job-1' });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('x-fmguard-run')).toBe('job-1');
    expect(mine.headers.get('x-fmguard-run-steps')).toBe('1');
    expect((await chat(gw, OTHER_KEY, { 'x-fmguard-run': 'job-1' })).headers.get('x-fmguard-run-steps')).toBe('2');
    const runs = await gw.guard.store.runs.list({});
    expect(runs.filter((r) => r.id.startsWith('job-1')).map((r) => [r.id, r.agent])).toEqual(
      expect.arrayContaining([
        ['job-1@bot', 'bot'],
        ['job-1@other', 'other'],
      ]),
    );
    // The scoped id of another agent's run is refused, with its code and an audit event.
    const foreign = await chat(gw, OTHER_KEY, { 'x-fmguard-run': 'job-1@bot' });
    expect(foreign.status).toBe(401);
    expect(await code(foreign)).toBe('auth.invalid');
    // MCP: the same names, the same scoping.
    const tool = await mcpCall(gw, BOT_KEY, { 'x-fmguard-run': 'job-1' });
    expect(tool.status).toBe(200);
    expect(await gw.guard.store.runs.get('job-1@bot')).toMatchObject({ agent: 'bot' });
    await gw.guard.audit!.flush();
    const refused = (await gw.guard.audit!.sink.tail(200)).filter((e) => e.type === 'run.refused');
    expect(refused).toEqual([
      expect.objectContaining({ agent: 'other', code: 'auth.invalid', details: expect.objectContaining({ requestedRun: 'job-1@bot' }) }),
    ]);
  });

  it("refuses another agent's run as a parent unless its agent delegates to the caller", async () => {
    const gw = await startGateway({ config: config() });
    expect((await chat(gw, BOT_KEY, { 'x-fmguard-run': 'mine' })).status).toBe(200);
    // Naming the bare id is the caller's own namespace: no such parent.
    const bare = await chat(gw, OTHER_KEY, { 'x-fmguard-parent-run': 'mine' });
    expect(bare.status).toBe(400);
    expect(await code(bare)).toBe('request.invalid');
    // Naming bot's run explicitly: refused (bot delegates to nobody), on every interface.
    const scoped = await chat(gw, OTHER_KEY, { 'x-fmguard-parent-run': 'mine@bot' });
    expect(scoped.status).toBe(401);
    expect(await code(scoped)).toBe('auth.invalid');
    const viaMcp = await mcpCall(gw, OTHER_KEY, { 'x-fmguard-parent-run': 'mine@bot' });
    expect(await viaMcp.text()).toContain('auth.invalid');
    const botRun = await gw.guard.startRun({ agent: 'bot', id: 'mine' });
    await expect(gw.guard.startRun({ agent: 'other', parentId: botRun.id })).rejects.toMatchObject({ code: 'auth.invalid' });
    await expect(botRun.subRun({ agent: 'other' })).rejects.toMatchObject({ code: 'auth.invalid' });
    await expect(gw.guard.startRun({ agent: 'other', id: botRun.id })).rejects.toMatchObject({ code: 'auth.invalid' });
    // None of it made a run under bot's.
    expect((await gw.guard.store.runs.list({})).filter((r) => r.parentId !== undefined)).toEqual([]);

    // planner delegates to bot: bot's sub-run of a planner run is accepted and counts against it.
    expect((await chat(gw, PLANNER_KEY, { 'x-fmguard-run': 'plan' })).status).toBe(200);
    const delegated = await chat(gw, BOT_KEY, { 'x-fmguard-parent-run': 'plan@planner' });
    expect(delegated.status).toBe(200);
    expect((await chat(gw, PLANNER_KEY, { 'x-fmguard-run': 'plan' })).headers.get('x-fmguard-run-steps')).toBe('3');
    // … but not the other way round, and not for other.
    const planRun = await gw.guard.startRun({ agent: 'planner', id: 'plan' });
    expect((await planRun.subRun({ agent: 'bot' })).parentId).toBe('plan@planner');
    expect(await code(await chat(gw, OTHER_KEY, { 'x-fmguard-parent-run': 'plan@planner' }))).toBe('auth.invalid');
    expect(await code(await chat(gw, PLANNER_KEY, { 'x-fmguard-parent-run': 'mine@bot' }))).toBe('auth.invalid');

    await gw.guard.audit!.flush();
    const refused = (await gw.guard.audit!.sink.tail(500)).filter((e) => e.type === 'run.refused');
    expect(refused.map((e) => [e.agent, e.code, (e.details as { requestedParent?: string }).requestedParent])).toEqual(
      expect.arrayContaining([
        ['other', 'request.invalid', 'mine'],
        ['other', 'auth.invalid', 'mine@bot'],
        ['other', 'auth.invalid', 'plan@planner'],
        ['planner', 'auth.invalid', 'mine@bot'],
      ]),
    );
    expect(refused.length).toBeGreaterThanOrEqual(8);
  });

  it('config check names an unknown or cross-tenant delegate', async () => {
    const { parseConfig } = await import('../../src/index.ts');
    const base = config();
    expect(() => parseConfig({ ...base, agents: { ...base.agents, bot: { ...base.agents!.bot!, delegatesTo: ['ghost'] } } } as never)).toThrow(
      /agents\.bot\.delegatesTo\[0\]: unknown agent "ghost"/,
    );
  });
});
