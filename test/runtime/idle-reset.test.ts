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

/**
 * Moves the fake clock a second at a time until `pending` settles (time moves only here; the short real
 * pauses let the request arrive and the relay write what it got, however loaded the machine is).
 */
async function advanceUntil<T>(clock: FakeClock, pending: Promise<T>): Promise<T> {
  let settled = false;
  void pending.finally(() => (settled = true)).catch(() => {});
  for (let t = 0; t < 120 && !settled; t++) {
    await clock.advance(1000);
    await new Promise((r) => setTimeout(r, 10));
  }
  return pending;
}

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

  it('completes through the gateway (fake clock shared by the simulator and the guard: 8 chunks 1 s apart, idle limit 2 s)', async () => {
    const clock = new FakeClock(Date.now());
    const gw = await startGateway({
      config: gatewayConfig({ timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60_000 } } }),
      sim: { clock, tokensPerSecond: 1 },
      guard: { clock },
    });
    const response = gw.post({ ...ask('[sim:long 8] slow and steady'), stream: true }).then(async (res) => ({ status: res.status, text: await res.text() }));
    const events = sseData((await advanceUntil(clock, response)).text);
    expect(events.at(-1)).toBe('[DONE]');
    const contents = events
      .filter((e) => e !== '[DONE]')
      .map((e) => JSON.parse(e))
      .filter((c) => c.choices?.[0]?.delta?.content);
    expect(contents).toHaveLength(8);
    expect(events.some((e) => e.includes('timeout.idle'))).toBe(false);
  });

  it('a plain gateway call slower than the idle limit completes', async () => {
    const clock = new FakeClock(Date.now());
    const gw = await startGateway({
      config: gatewayConfig({ timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60_000 } } }),
      sim: { clock, tokensPerSecond: 1 },
      guard: { clock },
    });
    const res = await advanceUntil(clock, gw.post(ask('[sim:long 6] slow')));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBe(6);
  });
});
