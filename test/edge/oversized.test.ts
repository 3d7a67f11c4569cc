import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimModel } from '../../src/providers/simulated/sim-model.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import type { Gateway } from '../../src/gateway/index.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { ADMIN_TOKEN, BOT_KEY, edgeConfig, MCP_HEADERS } from './helpers.ts';

const MiB = 1024 * 1024;
const UPLOAD = 64 * MiB;
const TRIES = 3;

let guard: Guard;
let gateway: Gateway;
let url: URL;
beforeAll(async () => {
  guard = createGuard({ config: edgeConfig(), providers: { sim: createSimModel() }, audit: false });
  gateway = createGateway({ guard });
  url = new URL((await gateway.listen(0, '127.0.0.1')).url);
});
afterAll(async () => {
  await gateway.close(100);
  await guard.close();
});

/** Upload `size` bytes (declared or chunked) as fast as the socket takes them; the status the client saw, or its error. */
function upload(path: string, headers: Record<string, string>, size: number, chunked: boolean): Promise<string> {
  const block = Buffer.alloc(MiB, 0x61);
  return new Promise((resolve) => {
    let settled = false;
    const done = (outcome: string) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path,
        agent: false,
        headers: { ...headers, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) }) },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (p: Buffer) => parts.push(p));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          done(
            `${res.statusCode} ${/request\.invalid/.test(text) && res.headers['x-fmguard-code'] === 'request.invalid' ? 'request.invalid' : text.slice(0, 80)}`,
          );
        });
        res.on('error', (e) => done(`response error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      },
    );
    req.on('error', (e) => done(`request error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += block.length;
        if (!req.write(block)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

/**
 * A sequential client (as curl or Python's requests): it writes the whole body, then reads the
 * answer. A server that answers and closes without reading the rest resets it mid-upload.
 */
function sequentialUpload(path: string, headers: Record<string, string>, size: number, chunked: boolean): Promise<string> {
  const block = Buffer.alloc(MiB, 0x61);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let settled = false;
    const done = (outcome: string) => {
      if (!settled) {
        settled = true;
        socket.destroy();
        resolve(outcome);
      }
    };
    const received: Buffer[] = [];
    socket.on('data', (p: Buffer) => received.push(p));
    socket.on('error', (e: NodeJS.ErrnoException) => done(`socket error ${e.code ?? e.message}`));
    socket.on('end', () => {
      const text = Buffer.concat(received).toString('utf8');
      const status = /^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 'no answer';
      done(`${status} ${/x-fmguard-code: request\.invalid/i.test(text) && /"code":"request\.invalid"/.test(text) ? 'request.invalid' : text.slice(0, 80)}`);
    });
    const head = Object.entries({ ...headers, host: url.host, ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(size) }) })
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    const write = (data: Buffer | string) => new Promise<void>((ok, fail) => socket.write(data, (e) => (e ? fail(e) : ok())));
    void (async () => {
      try {
        await write(`POST ${path} HTTP/1.1\r\n${head}\r\nconnection: close\r\n\r\n`);
        for (let sent = 0; sent < size; sent += block.length) {
          if (chunked) await write(`${block.length.toString(16)}\r\n`);
          await write(block);
          if (chunked) await write('\r\n');
        }
        if (chunked) await write('0\r\n\r\n');
        socket.end();
      } catch (e) {
        done(`write error ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    })();
  });
}

const ROUTES: Array<[string, string, Record<string, string>]> = [
  ['chat', '/v1/chat/completions', { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' }],
  ['mcp', '/mcp/demo', MCP_HEADERS],
  ['admin', '/admin/kill', { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }],
];

describe('oversized bodies get 413, always (issue 11 item 2)', () => {
  it(`a 64 MiB upload, declared and chunked, node:http and a sequential client, ${TRIES} tries each per route: every client reads its 413`, async () => {
    const outcomes: Record<string, string[]> = {};
    for (const [name, path, headers] of ROUTES) {
      for (const chunked of [false, true]) {
        const key = `${name} ${chunked ? 'chunked' : 'declared'}`;
        outcomes[key] = [];
        for (let i = 0; i < TRIES; i++) {
          outcomes[key].push(await upload(path, headers, UPLOAD, chunked));
          outcomes[key].push(await sequentialUpload(path, headers, UPLOAD, chunked));
        }
      }
    }
    const expected = Object.fromEntries(Object.keys(outcomes).map((k) => [k, Array(TRIES * 2).fill('413 request.invalid')]));
    expect(outcomes).toEqual(expected);
  }, 120_000);

  it('the connection stays usable after a drained 413 (keep-alive), and a normal call then succeeds', async () => {
    const res = await fetch(new URL('/v1/chat/completions', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-small', messages: [{ role: 'user', content: 'x'.repeat(5 * MiB) }] }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-fmguard-code')).toBe('request.invalid');
    const ok = await fetch(new URL('/v1/chat/completions', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-small', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(ok.status).toBe(200);
  });
});

describe('a refused body on a connection: close request', () => {
  it('the 413 waits until the body is drained, so the connection is not closed (and reset) under a client still sending', async () => {
    const size = 8 * MiB;
    const socket = connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    let ended = false;
    let failed: string | undefined;
    socket.on('data', (p: Buffer) => received.push(p));
    socket.on('end', () => {
      ended = true;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      failed = e.code ?? e.message;
    });
    const write = (data: Buffer | string) => new Promise<void>((ok, fail) => socket.write(data, (e) => (e ? fail(e) : ok())));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${BOT_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\nconnection: close\r\n\r\n`,
    );
    // Over the 4 MiB limit, then the client pauses mid-upload: the server must not answer and close yet.
    await write(Buffer.alloc(5 * MiB, 0x61));
    await new Promise((r) => setTimeout(r, 500));
    expect({ ended, failed, bytes: received.length }).toEqual({ ended: false, failed: undefined, bytes: 0 });
    await write(Buffer.alloc(size - 5 * MiB, 0x61));
    await closed;
    const text = Buffer.concat(received).toString('utf8');
    expect(failed).toBeUndefined();
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toMatch(/x-fmguard-code: request\.invalid/i);
    expect(ended).toBe(true);
  });
});
