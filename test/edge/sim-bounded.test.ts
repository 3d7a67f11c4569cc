import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/index.ts';
import { createSimModel } from '../../src/providers/simulated/sim-model.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { BOT_KEY, edgeConfig } from './helpers.ts';

let guard: Guard;
let gateway: Gateway;
let url: string;
beforeAll(async () => {
  // The simulator's own default cap (32,768 tokens), allowed through: the longest answer it ever builds.
  const config = edgeConfig();
  (config.models as Record<string, { maxOutputTokens?: number }>)['sim-small']!.maxOutputTokens = MAX_OUTPUT;
  (config.agents as Record<string, { limits?: Record<string, unknown> }>).bot!.limits!.maxOutputTokensPerCall = MAX_OUTPUT;
  guard = createGuard({ config, providers: { sim: createSimModel() }, audit: false });
  gateway = createGateway({ guard });
  url = (await gateway.listen(0, '127.0.0.1')).url;
  // Warm up (first-call module loading and compilation are not the simulator's).
  for (const stream of [false, true]) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ model: 'sim-small', stream, messages: [{ role: 'user', content: '[sim:long 500] warm up' }] }),
    });
    await res.text();
  }
});
afterAll(async () => {
  await gateway.close(100);
  await guard.close();
});

const HEADERS = { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' };
/** The model's maxOutputTokens here (and the simulator's default cap). */
const MAX_OUTPUT = 32_768;
/**
 * Generous on purpose: the delay is wall-clock time, and on a shared 2-core machine at load average
 * 10+ the process is descheduled for tens of ms at a time whatever it does (the fetch client in this
 * process parsing 5 MB of SSE counts too). The precise figure, from a quiet client, is bench/sim-stall.ts
 * (bench/RESULTS.md); the tests below check the bound on work per turn without a clock.
 */
const MAX_LOOP_DELAY_MS = 1000;

async function measured<T>(work: () => Promise<T>): Promise<{ value: T; maxDelayMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  try {
    const value = await work();
    return { value, maxDelayMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}

describe('the simulated provider cannot take the process down (issue 11 item 3)', () => {
  for (const tokens of ['1000000000', '100000000']) {
    it(`[sim:long ${tokens}] is bounded by maxOutputTokens, plain and streamed, without blocking the event loop`, async () => {
      const body = { model: 'sim-small', messages: [{ role: 'user', content: `[sim:long ${tokens}] write` }] };
      const plain = await measured(async () => {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
        return {
          status: res.status,
          json: (await res.json()) as { choices: Array<{ finish_reason: string; message: { content: string } }>; usage: { completion_tokens: number } },
        };
      });
      expect(plain.value.status).toBe(200);
      expect(plain.value.json.choices[0]!.finish_reason).toBe('length');
      expect(plain.value.json.usage.completion_tokens).toBeLessThanOrEqual(MAX_OUTPUT);
      expect(plain.value.json.choices[0]!.message.content.length).toBeLessThanOrEqual(MAX_OUTPUT * 4);

      const streamed = await measured(async () => {
        const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ ...body, stream: true }) });
        return { status: res.status, text: await res.text() };
      });
      expect(streamed.value.status).toBe(200);
      expect(streamed.value.text).toContain('"finish_reason":"length"');
      expect(streamed.value.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      console.log(`[sim:long ${tokens}]: max event-loop delay ${plain.maxDelayMs.toFixed(1)} ms plain, ${streamed.maxDelayMs.toFixed(1)} ms streamed`);
      expect(plain.maxDelayMs).toBeLessThan(MAX_LOOP_DELAY_MS);
      expect(streamed.maxDelayMs).toBeLessThan(MAX_LOOP_DELAY_MS);
    }, 60_000);
  }

  it('open() and complete() build no text when they start: a long answer is built as it is read', async () => {
    // 4M tokens allowed: building 16M characters at once took hundreds of ms in one turn.
    const sim = createSimModel({ maxOutputTokens: 4_000_000 });
    const req = { model: 'sim', messages: [{ role: 'user' as const, content: '[sim:long 4000000]' }] };
    const controller = new AbortController();
    let started = performance.now();
    const call = sim.open(req, { signal: controller.signal });
    const openMs = performance.now() - started;
    let first = '';
    for await (const chunk of call.chunks) {
      first = chunk.choices[0]?.delta.content ?? '';
      break;
    }
    expect(first.length).toBe(4);
    started = performance.now();
    const pending = sim.complete(req, { signal: controller.signal });
    const completeMs = performance.now() - started;
    const outcome = pending.then(
      () => 'answered',
      (err: Error) => err.message,
    );
    expect(openMs).toBeLessThan(50);
    expect(completeMs).toBeLessThan(50);
    controller.abort(new Error('done'));
    expect(await outcome).toBe('done');
  });

  it('complete() builds a long answer one slice per turn of the event loop', async () => {
    const sim = createSimModel();
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const value = await sim.complete({ model: 'sim', messages: [{ role: 'user', content: '[sim:long 32768]' }] }, { signal: new AbortController().signal });
    counting = false;
    expect(value.choices[0]!.message.content!.length).toBe(MAX_OUTPUT * 4);
    // 131,072 characters in slices of 16,384: other work got at least 7 turns in between.
    expect(turns).toBeGreaterThanOrEqual(7);
  });

  it('used directly (no max_tokens), the simulator never builds more than its own maxOutputTokens', async () => {
    const sim = createSimModel({ maxOutputTokens: 1000 });
    const { value, maxDelayMs } = await measured(() =>
      sim.complete({ model: 'sim', messages: [{ role: 'user', content: '[sim:long 1000000000]' }] }, { signal: new AbortController().signal }),
    );
    expect(value.choices[0]!.message.content!.length).toBe(4000);
    expect(value.choices[0]!.finish_reason).toBe('length');
    expect(maxDelayMs).toBeLessThan(MAX_LOOP_DELAY_MS);
    let chunks = 0;
    for await (const _ of sim.stream(
      { model: 'sim', messages: [{ role: 'user', content: '[sim:long 1000000000]' }] },
      { signal: new AbortController().signal },
    ))
      chunks++;
    expect(chunks).toBeLessThanOrEqual(1000 + 3);
  });
});
