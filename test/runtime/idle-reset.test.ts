/**
 * The idle timeout is the longest gap between two chunks, not the time since the first one: a healthy
 * stream that takes longer than the idle limit in total must complete. (Planting "start the idle timer
 * at the first chunk and never reset it" must fail these tests.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard, createSimModel } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, closeAll, gatewayConfig, sseData, startGateway } from '../gateway/helpers.ts';
import { baseConfig } from './fixtures.ts';

afterEach(closeAll);

describe('a healthy stream longer than the idle limit', () => {
  it('completes through the SDK (fake clock: 10 chunks 1 s apart, idle limit 2 s)', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, tokensPerSecond: 1 });
    const guard = createGuard({
      config: baseConfig({ timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60_000 } } }),
      clock,
      providers: { sim },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('[sim:long 10] a slow but steady answer'));
    const pieces: string[] = [];
    const consumed = (async () => {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
    })();
    for (let t = 0; t < 14; t++) await clock.advance(1000);
    await consumed;
    expect(pieces).toHaveLength(10);
    const result = await stream.result;
    expect(result.usage.outputTokens).toBe(10);
    expect(sim.aborts).toHaveLength(0);
    await guard.close();
  });

  it('a plain (non-streamed) call slower than the idle limit completes: idle applies to streams only', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, tokensPerSecond: 1 });
    const guard = createGuard({
      config: baseConfig({ timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60_000 } } }),
      clock,
      providers: { sim },
    });
    const run = await guard.startRun({ agent: 'bot' });
    const pending = run.callModel(ask('[sim:long 10] a slow answer'));
    for (let t = 0; t < 14; t++) await clock.advance(1000);
    const response = await pending;
    expect(response.usage.outputTokens).toBe(10);
    expect(response.response.usage?.completion_tokens).toBe(10);
    await guard.close();
  });

  it('completes through the gateway (real time: 8 chunks 250 ms apart, idle limit 1 s)', async () => {
    // Real time is the point here (the HTTP relay); the gaps are a quarter of the limit, so a loaded
    // machine does not turn a healthy gap into a timeout.
    const gw = await startGateway({
      config: gatewayConfig({ timeouts: { model: { idleMs: 1000, firstTokenMs: 5000, totalMs: 60_000 } } }),
      sim: { tokensPerSecond: 4 },
    });
    const res = await gw.post({ ...ask('[sim:long 8] slow and steady'), stream: true });
    expect(res.status).toBe(200);
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const contents = events
      .filter((e) => e !== '[DONE]')
      .map((e) => JSON.parse(e))
      .filter((c) => c.choices?.[0]?.delta?.content);
    expect(contents).toHaveLength(8);
    expect(events.some((e) => e.includes('timeout.idle'))).toBe(false);
  });

  it('a plain gateway call slower than the idle limit completes', async () => {
    const gw = await startGateway({
      config: gatewayConfig({ timeouts: { model: { idleMs: 500, firstTokenMs: 5000, totalMs: 60_000 } } }),
      sim: { tokensPerSecond: 4 },
    });
    const res = await gw.post(ask('[sim:long 6] slow'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(6);
  });
});
