/**
 * An OpenAI-compatible upstream on a loopback port that counts the requests in flight at once, so a
 * test can see what reached the provider: the highest concurrency ever seen, and how many requests
 * came. Each answer is held `holdMs` (or until `release()`), then a small completion with usage.
 * A request whose client goes away (a cut stream, a killed replica) stops counting at once.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingUpstream {
  /** The base URL for a provider `{ kind: openai, baseUrl }` (ends in /v1). */
  baseUrl: string;
  inFlight(): number;
  maxInFlight(): number;
  requests(): number;
  /** Answer every held request now (when `holdMs` is Infinity). */
  release(): void;
  /** Status to answer with (200 by default); a 500 makes the provider fail the call. */
  failWith(status: number | undefined): void;
  /** How long later requests are held (Infinity: until `release()`). */
  hold(ms: number): void;
  close(): Promise<void>;
}

function streamChunk(model: string | undefined, delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({ id: 'up-1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
}

export async function startCountingUpstream({ holdMs = 100 }: { holdMs?: number } = {}): Promise<CountingUpstream> {
  let inFlight = 0;
  let maxInFlight = 0;
  let requests = 0;
  let status: number | undefined;
  const waiting = new Set<() => void>();
  const sockets = new Set<import('node:net').Socket>();

  const answer = (res: ServerResponse, body: string) => {
    const request = JSON.parse(body || '{}') as { model?: string; stream?: boolean };
    if (status !== undefined && status !== 200) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'injected failure', type: 'server_error' } }));
      return;
    }
    const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
    if (request.stream) {
      res.end(`${streamChunk(request.model, {}, 'stop', { usage })}data: [DONE]\n\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'up-1',
        object: 'chat.completion',
        created: 1,
        model: request.model,
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
        usage,
      }),
    );
  };

  const server = createServer((req, res) => {
    requests++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      inFlight--;
    };
    res.on('close', done);
    let body = '';
    req.setEncoding('utf8').on('data', (s: string) => (body += s));
    req.on('end', () => {
      // A stream starts at once (headers and a first chunk) and is held before its end.
      const request = JSON.parse(body || '{}') as { model?: string; stream?: boolean };
      if (request.stream && status === undefined) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(streamChunk(request.model, { role: 'assistant', content: 'ok' }, null));
      }
      const go = () => {
        waiting.delete(go);
        clearTimeout(timer);
        if (res.destroyed) return;
        // Stop counting before the answer leaves, so a caller that sees it never sees it still in flight.
        done();
        answer(res, body);
      };
      waiting.add(go);
      const timer = Number.isFinite(holdMs) ? setTimeout(go, holdMs) : undefined;
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    requests: () => requests,
    release: () => {
      for (const go of [...waiting]) go();
    },
    failWith: (s) => {
      status = s;
    },
    hold: (ms) => {
      holdMs = ms;
    },
    close: async () => {
      for (const go of [...waiting]) go();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
