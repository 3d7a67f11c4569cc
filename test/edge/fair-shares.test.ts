import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createSimModel } from '../../src/providers/simulated/sim-model.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { BOT_KEY, edgeConfig, MCP_HEADERS, OTHER_KEY, raw } from './helpers.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function start(server: Record<string, unknown> = {}) {
  const base = edgeConfig();
  const config = { ...base, server: { ...(base.server as object), ...server } } as ConfigInput;
  const guard = createGuard({ config, providers: { sim: createSimModel() }, audit: false });
  const gateway = createGateway({ guard });
  const address = await gateway.listen(0, '127.0.0.1');
  closers.push(async () => {
    await gateway.close(100);
    await guard.close();
  });
  return { guard, gateway, url: address.url, port: address.port };
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'edge', version: '0' } },
});

function initialize(url: string, key = BOT_KEY) {
  return raw(url, { path: '/mcp/demo', headers: { ...MCP_HEADERS, authorization: `Bearer ${key}` }, body: INIT });
}

/** A raw socket: what the server sends back, and how long until it closed. */
function slowClient(port: number, parts: string[], everyMs: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let i = 0;
    const timer = setInterval(() => {
      if (i < parts.length && !socket.destroyed) socket.write(parts[i++]!);
    }, everyMs);
    socket.on('data', (p: Buffer) => received.push(p));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ text: Buffer.concat(received).toString('utf8'), closedAfterMs: Date.now() - started });
    });
  });
}

describe('fair shares of shared resources (issue 11 item 5)', () => {
  it('MCP sessions are capped per agent (429 rate.limited); another agent still gets one; closing one frees a place', async () => {
    const { url } = await start({ mcpSessionsPerAgent: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await initialize(url);
      expect(res.status).toBe(200);
      ids.push(res.headers['mcp-session-id'] as string);
    }
    const refused = await initialize(url);
    expect(refused.status).toBe(429);
    expect(refused.headers['x-fmguard-code']).toBe('rate.limited');
    expect(JSON.parse(refused.text)).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'rate.limited' } } });
    expect(refused.headers['retry-after']).toBeDefined();
    // Another agent is not starved by the first.
    expect((await initialize(url, OTHER_KEY)).status).toBe(200);
    const closed = await raw(url, { method: 'DELETE', path: '/mcp/demo', headers: { ...MCP_HEADERS, 'mcp-session-id': ids[0]! } });
    expect(closed.status).toBe(200);
    expect((await initialize(url)).status).toBe(200);
  });

  it('an idle session expires and frees its place', async () => {
    const { url } = await start({ mcpSessionsPerAgent: 1, mcpSessionIdleMs: 300 });
    expect((await initialize(url)).status).toBe(200);
    expect((await initialize(url)).status).toBe(429);
    await new Promise((r) => setTimeout(r, 500));
    expect((await initialize(url)).status).toBe(200);
  });

  it('headers sent slowly are cut with a catalogue 408 (configured 1 s; the default is 10 s)', async () => {
    const defaults = await start();
    expect(defaults.gateway.server.headersTimeout).toBe(10_000);
    const { port } = await start({ headersTimeoutMs: 1000 });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${BOT_KEY}\r\n`;
    const { text, closedAfterMs } = await slowClient(port, head.split(''), 200);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('"code":"request.invalid"');
    expect(closedAfterMs).toBeLessThan(5000);
  }, 20_000);

  it('a body sent slowly is cut at the configured request timeout with a catalogue 408', async () => {
    const { port } = await start({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${BOT_KEY}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`;
    const { text, closedAfterMs } = await slowClient(port, [head, ...'{"model":"sim-small","messages":['.split('')], 250);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(text).toContain('"code":"request.invalid"');
    expect(closedAfterMs).toBeLessThan(6000);
  }, 20_000);

  it('connections are capped: one more is answered 503 rate.limited, not dropped', async () => {
    const { url, port } = await start({ maxConnections: 2 });
    const held = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
    await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
    await new Promise((r) => setTimeout(r, 100));
    const extra = await raw(url, { method: 'GET', path: '/healthz' }).catch((e: Error) => ({ status: 0, headers: {}, text: e.message }));
    expect(extra.status).toBe(503);
    expect((extra.headers as Record<string, unknown>)['x-fmguard-code']).toBe('rate.limited');
    expect(JSON.parse(extra.text)).toMatchObject({ error: { code: 'rate.limited' } });
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect((await raw(url, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });
});

describe('small protocol gaps (issue 11 item 12)', () => {
  it('notifications/cancelled as a stateless POST is answered 202', async () => {
    const { url } = await start();
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'user' } });
    const res = await Promise.race([
      raw(url, { path: '/mcp/demo', headers: MCP_HEADERS, body }),
      new Promise<{ status: string }>((r) => setTimeout(() => r({ status: 'no answer in 5 s' }), 5000)),
    ]);
    expect(res.status).toBe(202);
  });

  it('an empty body gets a catalogue error on chat, MCP and admin commands that need one', async () => {
    const { url } = await start();
    const chat = await raw(url, {
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
      body: '',
    });
    expect(chat.status).toBe(400);
    expect(JSON.parse(chat.text)).toMatchObject({ error: { code: 'request.invalid', type: 'fmguard_error' } });
    const mcp = await raw(url, { path: '/mcp/demo', headers: MCP_HEADERS, body: '' });
    expect(mcp.status).toBe(400);
    expect(JSON.parse(mcp.text)).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'request.invalid' } } });
    expect(mcp.headers['x-fmguard-code']).toBe('request.invalid');
  });

  it('oversized headers get a catalogue 431', async () => {
    const { url } = await start();
    const res = await raw(url, { method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${BOT_KEY}`, 'x-big': 'a'.repeat(40_000) } });
    expect(res.status).toBe(431);
    expect(res.headers['x-fmguard-code']).toBe('request.invalid');
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'request.invalid' } });
  });
});
