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
  guard = createGuard({ config: edgeConfig(), providers: { sim: createSimModel() }, audit: false });
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
/** The model's maxOutputTokens in edgeConfig. */
const MAX_OUTPUT = 4096;
/** Generous for a loaded 2-core machine (the test client in this process and other jobs count too); main blocks 9.6 s at 1e8 and runs out of memory at 1e9. */
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
