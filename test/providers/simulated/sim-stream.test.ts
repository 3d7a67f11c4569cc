import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../../../src/core/chat.ts';
import { createSimModel } from '../../../src/providers/simulated/sim-model.ts';
import { FakeClock, flushMicrotasks } from '../../../src/testing/fake-clock.ts';
import { ask, searchTool, signal } from './helpers.ts';

/** Read a stream in the background, noting the fake time of each chunk. */
function consume(iterable: AsyncIterable<ChatChunk>, clock: FakeClock) {
  const start = clock.now();
  const chunks: ChatChunk[] = [];
  const times: number[] = [];
  const done = (async () => {
    for await (const chunk of iterable) {
      chunks.push(chunk);
      times.push(clock.now() - start);
    }
  })();
  done.catch(() => {});
  return { chunks, times, done };
}

const text = (chunks: ChatChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('sim model streaming', () => {
  it('streams the same content as complete(), ending with finish and usage chunks', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock });
    const req = ask('stream me an answer');
    const full = await sim.complete(req, { signal: signal() });
    const { chunks, done } = consume(sim.stream(req, { signal: signal() }), clock);
    await done;
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(text(chunks)).toBe(full.choices[0].message.content);
    const [finish, usage] = chunks.slice(-2);
    expect(finish.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual(full.usage);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(sim.stats).toMatchObject({ calls: 2, completed: 2, inFlight: 0 });
  });

  it('streams tool calls as id + name, then argument fragments', async () => {
    const sim = createSimModel({ scenario: 'tool_call' });
    const chunks: ChatChunk[] = [];
    for await (const c of sim.stream(ask('find x', { tools: [searchTool] }), { signal: signal() })) chunks.push(c);
    const first = chunks[0].choices[0].delta;
    expect(first).toMatchObject({
      role: 'assistant',
      content: null,
      tool_calls: [{ index: 0, type: 'function', function: { name: 'search', arguments: '' } }],
    });
    const args = chunks
      .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
      .map((t) => t.function?.arguments ?? '')
      .join('');
    expect(JSON.parse(args)).toEqual({ query: 'find x', limit: 5 });
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe('tool_calls');
  });

  it('with zero latency sets no timers at all', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, scenario: 'long 500' });
    let n = 0;
    for await (const _ of sim.stream(ask('x'), { signal: signal() })) n++;
    expect(n).toBe(502);
    await sim.complete(ask('x'), { signal: signal() });
    expect(clock.pending).toBe(0);
  });

  it('paces chunks: first-token latency, then tokens per second', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, firstTokenLatencyMs: 1000, tokensPerSecond: 10, tokensPerChunk: 2, scenario: 'long 10' });
    const { chunks, times, done } = consume(sim.stream(ask('x'), { signal: signal() }), clock);
    await clock.advance(999);
    expect(chunks).toHaveLength(0);
    await clock.advance(1);
    expect(chunks).toHaveLength(1);
    await clock.advance(5000);
    await done;
    // 5 content chunks of 2 tokens, 200 ms apart; finish and usage follow the last at once.
    expect(times).toEqual([1000, 1200, 1400, 1600, 1800, 1800, 1800]);
  });

  it('complete() takes first-token latency plus generation time', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, firstTokenLatencyMs: 500, tokensPerSecond: 100, scenario: 'long 50' });
    let resolved = false;
    const pending = sim.complete(ask('x'), { signal: signal() }).then((r) => ((resolved = true), r));
    await clock.advance(999);
    expect(resolved).toBe(false);
    await clock.advance(1);
    expect((await pending).usage!.completion_tokens).toBe(50);
  });

  it('per-model timing overrides the defaults', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, models: { 'sim-slow': { firstTokenLatencyMs: 3000 }, 'sim-fast': 'answer' } });
    const slow = consume(sim.stream(ask('x', { model: 'sim-slow' }), { signal: signal() }), clock);
    const fast = consume(sim.stream(ask('x', { model: 'sim-fast' }), { signal: signal() }), clock);
    await fast.done;
    await clock.advance(2999);
    expect(slow.chunks).toHaveLength(0);
    await clock.advance(1);
    await slow.done;
    expect(slow.times[0]).toBe(3000);
  });

  it('abort mid-stream stops generation, throws the reason and is recorded', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, tokensPerSecond: 10, scenario: 'long 100' });
    const controller = new AbortController();
    const aborts: unknown[] = [];
    sim.events.on('abort', (e) => aborts.push(e));
    const { chunks, done } = consume(sim.stream(ask('x'), { signal: controller.signal }), clock);
    await clock.advance(450);
    expect(chunks).toHaveLength(5);
    const reason = new Error('timeout.total');
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    await clock.advance(10_000);
    expect(chunks).toHaveLength(5);
    expect(clock.pending).toBe(0);
    expect(sim.stats).toMatchObject({ calls: 1, aborted: 1, completed: 0, inFlight: 0 });
    expect(aborts).toEqual([
      expect.objectContaining({ requestId: 'chatcmpl-sim-1', phase: 'streaming', chunksSent: 5, completionTokensSent: 5, reason, stream: true }),
    ]);
    expect(sim.aborts).toEqual(aborts);
  });

  it('stall: a few chunks, then nothing until aborted', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, tokensPerSecond: 100 });
    const controller = new AbortController();
    const { chunks, done } = consume(sim.stream(ask('x [sim:stall 4]'), { signal: controller.signal }), clock);
    await clock.advance(60_000);
    expect(chunks).toHaveLength(4);
    expect(sim.stats.inFlight).toBe(1);
    controller.abort(new Error('timeout.idle'));
    await expect(done).rejects.toThrow('timeout.idle');
    expect(sim.aborts[0]).toMatchObject({ scenario: 'stall', phase: 'streaming', chunksSent: 4 });
  });

  it('stall_first: nothing at all until aborted', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, scenario: 'stall_first' });
    const controller = new AbortController();
    const { chunks, done } = consume(sim.stream(ask('x'), { signal: controller.signal }), clock);
    await clock.advance(60_000);
    expect(chunks).toHaveLength(0);
    controller.abort(new Error('timeout.first_token'));
    await expect(done).rejects.toThrow('timeout.first_token');
    expect(sim.aborts[0]).toMatchObject({ scenario: 'stall_first', phase: 'before_first_token', chunksSent: 0 });
  });

  it('an abort during the first-token wait clears the timer', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, firstTokenLatencyMs: 5000 });
    const controller = new AbortController();
    const { done } = consume(sim.stream(ask('x'), { signal: controller.signal }), clock);
    await clock.advance(1000);
    expect(clock.pending).toBe(1);
    controller.abort(new Error('stop'));
    await expect(done).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
    expect(sim.aborts[0].phase).toBe('before_first_token');
  });

  it('errors come after the first-token latency, and an abort during it is recorded as an abort', async () => {
    const clock = new FakeClock();
    const sim = createSimModel({ clock, firstTokenLatencyMs: 200, scenario: 'fail 1 503' });
    const a = consume(sim.stream(ask('x'), { signal: signal() }), clock);
    await flushMicrotasks();
    expect(sim.stats.failures).toBe(0);
    await clock.advance(200);
    await expect(a.done).rejects.toMatchObject({ status: 503 });
    expect(sim.stats.failures).toBe(1);

    const controller = new AbortController();
    const b = consume(sim.stream(ask('x'), { signal: controller.signal }), clock);
    await clock.advance(100);
    controller.abort(new Error('gone'));
    await expect(b.done).rejects.toThrow('gone');
    expect(sim.stats).toMatchObject({ failures: 1, aborted: 1, inFlight: 0 });
  });

  it('a consumer that stops reading without aborting is recorded as cancelled', async () => {
    const sim = createSimModel({ scenario: 'long 100' });
    let n = 0;
    for await (const _ of sim.stream(ask('x'), { signal: signal() })) if (++n === 3) break;
    expect(sim.stats).toMatchObject({ calls: 1, cancelled: 1, aborted: 0, completed: 0, inFlight: 0 });
  });

  it('the stream is lazy: nothing is called until iteration starts', async () => {
    const sim = createSimModel();
    const iterable = sim.stream(ask('x'), { signal: signal() });
    expect(sim.stats.calls).toBe(0);
    for await (const _ of iterable) break;
    expect(sim.stats.calls).toBe(1);
  });
});
