import { afterEach, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/chat.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { createSimModel } from '../../src/providers/simulated/sim-model.ts';
import type { ModelProvider } from '../../src/providers/provider.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { ADMIN_TOKEN, BOT_KEY, edgeConfig, MCP_HEADERS, nested, raw } from './helpers.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(providers?: Record<string, ModelProvider>) {
  const guard = createGuard({ config: edgeConfig(), providers: providers ?? { sim: createSimModel() }, audit: false });
  const gateway = createGateway({ guard });
  const { url } = await gateway.listen(0, '127.0.0.1');
  closers.push(async () => {
    await gateway.close(100);
    await guard.close();
  });
  return { guard, url };
}

/** Every breaker the admin API shows, as scope → kind and failures. */
async function breakerBoard(url: string): Promise<Array<{ scope: string; kind: string; failures?: number }>> {
  const res = await raw(url, { method: 'GET', path: '/admin/live/breakers', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return (JSON.parse(res.text) as { breakers: Array<{ scope: string; kind: string; failures?: number }> }).breakers;
}

function expectUntouched(board: Array<{ scope: string; kind: string; failures?: number }>) {
  expect(board.length).toBeGreaterThan(0);
  for (const b of board) expect({ scope: b.scope, kind: b.kind, failures: b.failures ?? 0 }).toEqual({ scope: b.scope, kind: 'closed', failures: 0 });
}

const DEEP = 10_000;
const JSON_HEADERS = { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json', 'x-api-key': BOT_KEY };

describe('client input never moves a shared breaker (issue 11 item 1)', () => {
  it('a body nested 10,000 deep is 400 request.invalid on every route, and no breaker moves', async () => {
    const { url } = await start();
    const deep = nested(DEEP);
    const bodies: Array<[string, string]> = [
      [
        '/v1/chat/completions',
        `{"model":"sim-small","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deep}}}]}`,
      ],
      ['/v1/chat/completions', `{"model":"sim-small","messages":[{"role":"user","content":"hi"}],"metadata":${deep}}`],
      ['/v1/chat/completions', `{"model":"sim-small","messages":[{"role":"user","content":[{"type":"text","text":"hi","x":${deep}}]}]}`],
      ['/v1/responses', `{"model":"sim-small","input":"hi","tools":[{"type":"function","name":"f","parameters":${deep}}]}`],
      ['/v1/messages', `{"model":"sim-small","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${deep}}]}`],
      ['/v1/embeddings', `{"model":"sim-small","input":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`],
    ];
    for (const [path, body] of bodies) {
      const res = await raw(url, { path, headers: JSON_HEADERS, body });
      expect({ path, status: res.status, code: res.headers['x-fmguard-code'] }).toEqual({ path, status: 400, code: 'request.invalid' });
    }

    // MCP tools/call with deep arguments: a JSON-RPC error carrying request.invalid, never a 200 with store.unavailable.
    const call = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":"x","deep":${deep}}}}`;
    const mcp = await raw(url, { path: '/mcp/demo', headers: MCP_HEADERS, body: call });
    expect(mcp.status).toBe(400);
    expect(JSON.parse(mcp.text)).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'request.invalid' } } });

    const admin = await raw(url, {
      path: '/admin/kill',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: `{"scope":"agent:bot","x":${deep}}`,
    });
    expect(admin.status).toBe(400);
    expect(JSON.parse(admin.text)).toMatchObject({ error: { code: 'request.invalid' } });

    expectUntouched(await breakerBoard(url));
    // Moderate nesting (a real JSON schema) is still served.
    const ok = await raw(url, {
      path: '/v1/chat/completions',
      headers: JSON_HEADERS,
      body: `{"model":"sim-small","messages":[{"role":"user","content":"hi"}],"metadata":${nested(30, 'v')}}`,
    });
    expect(ok.status).not.toBe(500);
    expect(ok.status).not.toBe(503);
  });

  it('the rule lives in one place: fmguard failing on a hostile shape is not the upstream failing', async () => {
    // A provider that overflows the stack on what it was given (as a serialiser would on deep input),
    // and one that fails for real: only the second opens the breakers.
    const overflow: ModelProvider = {
      name: 'sim',
      async complete(req: ChatRequest) {
        const recurse = (n: number): number => recurse(n + 1) + 1;
        return recurse(req.messages.length) as never;
      },
      // biome-ignore lint/correctness/useYield: it fails before its first chunk
      async *stream() {
        throw new RangeError('Maximum call stack size exceeded');
      },
    };
    const { url, guard } = await start({ sim: overflow });
    const ask = JSON.stringify({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] });
    for (let i = 0; i < 3; i++) {
      const res = await raw(url, { path: '/v1/chat/completions', headers: JSON_HEADERS, body: ask });
      expect(res.status).toBe(400);
      expect(res.headers['x-fmguard-code']).toBe('request.invalid');
    }
    const streamed = await raw(url, { path: '/v1/chat/completions', headers: JSON_HEADERS, body: JSON.stringify({ ...JSON.parse(ask), stream: true }) });
    expect(streamed.status).not.toBe(503);
    expectUntouched(await breakerBoard(url));

    // Tools through the runtime: the same rule. A RangeError is fmguard's; an Error is the tool's.
    const run = await (guard as Guard).startRun({ agent: 'bot' });
    for (let i = 0; i < 3; i++) {
      const error = await run
        .callTool({
          tool: 'demo.search',
          args: { i },
          execute: () => {
            throw new RangeError('Invalid string length');
          },
        })
        .catch((e: unknown) => e as { code: string });
      expect((error as { code: string }).code).toBe('request.invalid');
    }
    expect((await guard.breakers.get('server:demo')).kind).toBe('closed');
    await run.callTool({ tool: 'demo.search', args: {}, execute: () => Promise.reject(new Error('tool down')) }).catch(() => {});
    expect((await guard.breakers.get('server:demo')).kind).toBe('open');
    await run.end();
  });
});
