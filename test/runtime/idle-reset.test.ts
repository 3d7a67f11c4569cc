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

/** Counts the simulator's one-second pauses between chunks (one token per second; the guard's timers are 2 s and longer). */
class PaceCountingClock extends FakeClock {
  paces = 0;
  override setTimeout(fn: () => void, ms: number): unknown {
    if (ms === 1000) this.paces++;
    return super.setTimeout(fn, ms);
  }
}

/** Waits in real time (polling) for a condition the test drives; fails with what it waited for. */
async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Reads an SSE response as it arrives: its data lines, how many carry content, whether it ended. */
function readSse(res: Response) {
  const events: string[] = [];
  const state = { done: false };
  const all = (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(bytes, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        events.push(...sseData(buffered.slice(0, end + 2)));
        buffered = buffered.slice(end + 2);
      }
    }
    events.push(...sseData(buffered));
    state.done = true;
    return events;
  })();
  all.catch(() => (state.done = true));
  const contents = () =>
    events.filter((e) => e !== '[DONE]' && (JSON.parse(e) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content).length;
  return {
    all,
    contents,
    get done() {
      return state.done;
    },
  };
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
    const clock = new PaceCountingClock(Date.now());
    const gw = await startGateway({
      config: gatewayConfig({ timeouts: { model: { idleMs: 2000, firstTokenMs: 5000, totalMs: 60_000 } } }),
      sim: { clock, tokensPerSecond: 1 },
      guard: { clock },
    });
    const res = await gw.post({ ...ask('[sim:long 8] slow and steady'), stream: true });
    expect(res.status).toBe(200);
    // Time moves only once the client holds chunk k and the simulator waits for chunk k+1, so a
    // loaded machine cannot make the relay look idle: only the guard's own idle rule can cut the stream.
    const reader = readSse(res);
    for (let k = 1; k <= 8; k++) {
      await until(() => reader.contents() >= k || reader.done, `chunk ${k}`);
      if (reader.done) break;
      if (k < 8) await until(() => clock.paces >= k, `the simulator's pause before chunk ${k + 1}`);
      await clock.advance(1000);
    }
    for (let t = 0; t < 10 && !reader.done; t++) {
      await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 10));
    }
    const events = await reader.all;
    expect(events.some((e) => e.includes('timeout.idle'))).toBe(false);
    expect(events.at(-1)).toBe('[DONE]');
    expect(reader.contents()).toBe(8);
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
