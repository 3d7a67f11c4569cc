import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { describe, expect, it } from 'vitest';
import { createDemoToolServer } from '../../src/demo/tools/index.ts';
import { ClientUpstream, type Connection } from '../../src/mcp/index.ts';
import { backoffDelay, DEFAULT_BACKOFF } from '../../src/mcp/upstreams/backoff.ts';

/** A demo server whose "process" the test can crash, and whose start the test can make fail. */
function harness() {
  let t = 1_000_000;
  let server: Server | undefined;
  let failStarts = 0;
  let starts = 0;
  const connect = async (): Promise<Connection> => {
    starts++;
    if (failStarts > 0) {
      failStarts--;
      throw new Error('spawn failed');
    }
    const [a, b] = InMemoryTransport.createLinkedPair();
    server = createDemoToolServer();
    await server.connect(b);
    const client = new Client({ name: 't', version: '0' });
    await client.connect(a);
    return { client, close: () => client.close() };
  };
  const upstream = new ClientUpstream({ name: 'x', kind: 'stdio', connect, backoff: { baseMs: 100, maxMs: 1000, stableMs: 5000 }, now: () => t });
  return {
    upstream,
    crash: () => server!.close(),
    failNext: (n: number) => void (failStarts = n),
    advance: (ms: number) => void (t += ms),
    get starts() {
      return starts;
    },
  };
}

const never = new AbortController().signal;

describe('backoffDelay', () => {
  it('retries a first failure at once, then doubles from the base up to the cap', () => {
    const o = { ...DEFAULT_BACKOFF, baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, o))).toEqual([0, 100, 200, 400, 800, 1000, 1000]);
  });
});

describe('ClientUpstream supervision', () => {
  it('connects on first use and reuses the connection', async () => {
    const h = harness();
    expect(h.upstream.status().state).toBe('idle');
    await h.upstream.call('search', { query: 'refund' }, never);
    await h.upstream.call('search', { query: 'refund' }, never);
    expect(h.starts).toBe(1);
    expect(h.upstream.status()).toMatchObject({ state: 'ready', restarts: 0, consecutiveFailures: 0 });
    await h.upstream.close();
  });

  it('after repeated failed starts, calls fail fast until the backoff has passed', async () => {
    const h = harness();
    h.failNext(3);
    await expect(h.upstream.call('search', { query: 'a' }, never)).rejects.toMatchObject({ code: 'upstream.error' });
    // A first failure may retry at once.
    await expect(h.upstream.call('search', { query: 'a' }, never)).rejects.toMatchObject({
      code: 'upstream.error',
      message: expect.stringContaining('spawn failed'),
    });
    expect(h.starts).toBe(2);
    // Now backing off 100 ms: no start attempt, a fast refusal saying when.
    await expect(h.upstream.call('search', { query: 'a' }, never)).rejects.toMatchObject({ code: 'upstream.error', details: { retryAfterMs: 100 } });
    expect(h.starts).toBe(2);
    h.advance(100);
    await expect(h.upstream.call('search', { query: 'a' }, never)).rejects.toMatchObject({ code: 'upstream.error' });
    expect(h.upstream.status()).toMatchObject({ state: 'backoff', consecutiveFailures: 3 });
    h.advance(200);
    await expect(h.upstream.call('search', { query: 'a' }, never)).resolves.toMatchObject({ content: [{ type: 'text' }] });
    expect(h.starts).toBe(4);
    await h.upstream.close();
  });

  it('a crash fails the calls in flight with upstream.error and the next use reconnects', async () => {
    const h = harness();
    const slow = h.upstream.call('sleep', { ms: 10_000 }, never);
    await new Promise((r) => setTimeout(r, 20));
    await h.crash();
    await expect(slow).rejects.toMatchObject({ code: 'upstream.error', details: { server: 'x' } });
    expect(h.upstream.status()).toMatchObject({ state: 'backoff', restarts: 1, lastError: 'the connection closed' });
    await expect(h.upstream.call('search', { query: 'a' }, never)).resolves.toBeDefined();
    expect(h.starts).toBe(2);
    await h.upstream.close();
  });

  it('a connection that stayed up long enough resets the failure count', async () => {
    const h = harness();
    await h.upstream.call('search', { query: 'a' }, never);
    await h.crash();
    await h.upstream.call('search', { query: 'a' }, never);
    await h.crash(); // crashed again at once: counts as a second failure in a row
    expect(h.upstream.status().consecutiveFailures).toBe(2);
    h.advance(100);
    await h.upstream.call('search', { query: 'a' }, never);
    h.advance(6000);
    await h.crash(); // up for 6 s, longer than stableMs
    expect(h.upstream.status().consecutiveFailures).toBe(1);
    await h.upstream.close();
  });

  it('keeps the last tool list while the server is down, and refreshes it once back', async () => {
    const h = harness();
    expect((await h.upstream.tools()).size).toBe(7);
    await h.crash();
    h.failNext(1);
    await expect(h.upstream.call('search', { query: 'a' }, never)).rejects.toMatchObject({ code: 'upstream.error' });
    expect((await h.upstream.tools()).has('read_file')).toBe(true);
    await h.upstream.close();
    await expect(h.upstream.call('search', { query: 'a' }, never)).rejects.toMatchObject({ message: 'tool server "x" is shut down' });
  });
});
