import { afterEach, describe, expect, it } from 'vitest';
import { ask, BOT_KEY, closeAll, gatewayConfig, sseData, startGateway, type TestGateway } from './helpers.ts';

afterEach(closeAll);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Reads an SSE response as it arrives; `events` fills as data comes in. */
function reader(res: Response) {
  const events: string[] = [];
  let buffer = '';
  let closedAt: number | undefined;
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(part, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          events.push(...sseData(buffer.slice(0, cut + 2)));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // The test aborted the request.
    }
    closedAt = performance.now();
  })();
  return { events, done, closedAt: () => closedAt };
}

describe('streams that must stop after they started', () => {
  it('a stalled stream is cut by the idle timeout: one SSE error event, then the response ends', async () => {
    const gw = await startGateway({ config: gatewayConfig({ timeouts: { model: { idleMs: 300 } } }) });
    const started = performance.now();
    const res = await gw.post({ ...ask('[sim:stall 3] tell me a story'), stream: true });
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    // A stall never ends by itself; the upper bound is generous for a loaded 2-core machine.
    expect(elapsed).toBeLessThan(10_000);
    const last = JSON.parse(events.at(-1)!);
    expect(last.error).toMatchObject({ type: 'fmguard_error', code: 'timeout.idle', fmguard: { limit: 300 } });
    expect(events.filter((e) => e.includes('"error"'))).toHaveLength(1);
    expect(events).not.toContain('[DONE]');
    expect(events.length).toBe(4);
    // The model saw the abort: the upstream work was stopped, not abandoned.
    expect(gw.sim.aborts).toHaveLength(1);
  });

  it('the official client raises the mid-stream error as an APIError with the code', async () => {
    const gw = await startGateway({ config: gatewayConfig({ timeouts: { model: { idleMs: 200 } } }) });
    const stream = await gw.client().chat.completions.create({ ...ask('[sim:stall 2] go'), stream: true });
    let chunks = 0;
    const error = await (async () => {
      for await (const _ of stream) chunks++;
    })().catch((e: unknown) => e);
    expect(chunks).toBe(2);
    expect(error).toMatchObject({ code: 'timeout.idle' });
    expect((error as Error).constructor.name).toBe('APIError');
  });

  it('a kill cuts an in-flight stream at once', async () => {
    const gw = await startGateway();
    const res = await gw.post({ ...ask('[sim:stall 3] long answer'), stream: true }, { 'x-fmguard-run': 'kill-me' });
    const sse = reader(res);
    await until(() => sse.events.length >= 3);
    const killedAt = performance.now();
    await gw.guard.kill('run:kill-me@bot', 'operator stop');
    await sse.done;
    const cutMs = sse.closedAt()! - killedAt;
    // The stream stalls for ever otherwise; 1 s is generous for a loaded 2-core machine (latency: bench).
    expect(cutMs).toBeLessThan(1000);
    const last = JSON.parse(sse.events.at(-1)!);
    expect(last.error).toMatchObject({ code: 'kill.switch', fmguard: { scope: 'run:kill-me@bot' } });
    expect(gw.sim.aborts).toHaveLength(1);
  });

  it('a kill reaches the official client mid-stream at once (tenant scope)', async () => {
    const gw = await startGateway({ sim: { tokensPerSecond: 200 } });
    const stream = await gw.client().chat.completions.create({ ...ask('[sim:long 5000] write a book'), stream: true });
    let killedAt = 0;
    let chunks = 0;
    const error = await (async () => {
      for await (const _ of stream) {
        if (++chunks === 5) {
          killedAt = performance.now();
          void gw.guard.kill('tenant:acme', 'runaway spend');
        }
      }
    })().catch((e: unknown) => e);
    const cutMs = performance.now() - killedAt;
    expect(error).toMatchObject({ code: 'kill.switch' });
    // The book would take 25 s; 1 s is generous for a loaded 2-core machine (latency: bench).
    expect(cutMs).toBeLessThan(1000);
    expect(chunks).toBeLessThan(250);
  });

  async function leaveMidStream(gw: TestGateway, text: string, headers: Record<string, string>) {
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}`, ...headers },
      body: JSON.stringify({ ...ask(text), stream: true }),
      signal: controller.signal,
    });
    const sse = reader(res);
    await until(() => sse.events.length >= 3);
    const leftAt = performance.now();
    controller.abort();
    await sse.done;
    await until(() => gw.sim.aborts.length === 1);
    return performance.now() - leftAt;
  }

  it('a client that leaves mid-stream (named run): reading stops at the next chunk, the upstream is aborted, what flowed is paid', async () => {
    const gw = await startGateway({ sim: { tokensPerSecond: 200 } });
    const ms = await leaveMidStream(gw, '[sim:long 5000] go', { 'x-fmguard-run': 'leaver' });
    // Promptly, not at a timeout (the default idle timeout is 15 s); loose for a loaded machine.
    expect(ms).toBeLessThan(1000);
    const run = await gw.guard.startRun({ key: BOT_KEY, id: 'leaver' });
    await until(async () => (await run.usage()).reservedCostUsd === 0);
    const usage = await run.usage();
    expect(usage.steps).toBe(1);
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeLessThan(200);
    // The run lives on for the agent's next call.
    expect((await gw.guard.store.runs.get('leaver@bot'))?.status).toBe('running');
  });

  it('a client that leaves a stalled stream (a run of its own): the upstream is aborted at once', async () => {
    const gw = await startGateway();
    const ms = await leaveMidStream(gw, '[sim:stall 3] go', {});
    expect(ms).toBeLessThan(1000);
  });

  it('a client that leaves before the first token (a run of its own) stops the upstream too', async () => {
    const gw = await startGateway();
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}` },
      body: JSON.stringify({ ...ask('[sim:stall_first] go'), stream: true }),
      signal: controller.signal,
    }).catch(() => undefined);
    await until(() => gw.sim.stats.calls === 1);
    controller.abort();
    await pending;
    await until(() => gw.sim.aborts.length === 1);
  });

  it('a non-streaming call whose client leaves (a run of its own) is aborted upstream', async () => {
    const gw = await startGateway();
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_KEY}` },
      body: JSON.stringify(ask('[sim:stall 0] go')),
      signal: controller.signal,
    }).catch(() => undefined);
    await until(() => gw.sim.stats.calls === 1);
    controller.abort();
    await pending;
    await until(() => gw.sim.aborts.length === 1);
  });

  it('close(): requests in flight finish within the grace period, the rest are cut and their upstream aborted', async () => {
    const gw = await startGateway({ sim: { tokensPerSecond: 5000 } });
    const finishing = gw.post({ ...ask('[sim:long 100] short essay'), stream: true }).then((r) => r.text());
    const stalled = await gw.post({ ...ask('[sim:stall 2] never ends'), stream: true });
    const stalledText = stalled.text().catch(() => 'cut');
    await until(() => gw.sim.stats.calls === 2);
    const started = performance.now();
    await gw.gateway.close(1000);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(sseData(await finishing).at(-1)).toBe('[DONE]');
    expect(await stalledText).not.toContain('[DONE]');
    await until(() => gw.sim.aborts.length === 1);
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
  });

  it('a stream over its reservation is cut with limit.tokens', async () => {
    // The sim ignores the cap here via a scripted provider that keeps talking.
    const gw: TestGateway = await startGateway({
      config: gatewayConfig({ limits: { maxOutputTokensPerCall: 20 } }),
      guard: {
        providers: {
          sim: {
            name: 'sim',
            complete: async () => {
              throw new Error('unused');
            },
            async *stream() {
              for (let i = 0; i < 200; i++) {
                yield {
                  id: 'x',
                  object: 'chat.completion.chunk',
                  created: 0,
                  model: 'sim-small',
                  choices: [{ index: 0, delta: { content: 'word ' }, finish_reason: null }],
                };
                await sleep(1);
              }
            },
          },
        },
      },
    });
    const res = await gw.post({ ...ask('talk'), stream: true });
    const events = sseData(await res.text());
    const last = JSON.parse(events.at(-1)!);
    expect(last.error.code).toBe('limit.tokens');
    expect(events.length).toBeLessThan(60);
  });
});
