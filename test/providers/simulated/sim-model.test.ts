import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/core/chat.ts';
import { ProviderError } from '../../../src/providers/provider.ts';
import { createSimModel } from '../../../src/providers/simulated/sim-model.ts';
import { ask, searchTool, signal, withToolResult } from './helpers.ts';

describe('sim model scenarios (complete)', () => {
  it('answer: a normal answer with realistic usage', async () => {
    const sim = createSimModel();
    const res = await sim.complete(ask('What is a token budget?'), { signal: signal() });
    const choice = res.choices[0];
    expect(sim.name).toBe('sim');
    expect(res.object).toBe('chat.completion');
    expect(choice.finish_reason).toBe('stop');
    expect(choice.message.role).toBe('assistant');
    const content = choice.message.content!;
    expect(content.length).toBeGreaterThan(100);
    expect(res.usage).toEqual({
      prompt_tokens: 3 + Math.ceil('What is a token budget?'.length / 4) + 4,
      completion_tokens: Math.ceil(content.length / 4),
      total_tokens: res.usage!.prompt_tokens + res.usage!.completion_tokens,
    });
    expect(sim.stats).toMatchObject({ calls: 1, completed: 1, aborted: 0, failures: 0, inFlight: 0 });
  });

  it('answer: clamps to max_tokens / max_completion_tokens with finish_reason length', async () => {
    const sim = createSimModel();
    const a = await sim.complete(ask('hi', { max_tokens: 5 }), { signal: signal() });
    expect(a.choices[0].finish_reason).toBe('length');
    expect(a.usage!.completion_tokens).toBe(5);
    expect(a.choices[0].message.content).toHaveLength(20);
    const b = await sim.complete(ask('hi', { max_tokens: 50, max_completion_tokens: 3 }), { signal: signal() });
    expect(b.usage!.completion_tokens).toBe(3);
    const c = await sim.complete(ask('hi', { max_tokens: 10_000 }), { signal: signal() });
    expect(c.choices[0].finish_reason).toBe('stop');
  });

  it('tool_call: calls the request tool with schema-shaped arguments, then answers from its result', async () => {
    const sim = createSimModel({ scenario: 'tool_call' });
    const req = ask('find the refund policy', { tools: [searchTool] });
    const first = await sim.complete(req, { signal: signal() });
    const msg = first.choices[0].message;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(msg.content).toBeNull();
    expect(msg.tool_calls).toHaveLength(1);
    expect(msg.tool_calls![0].function.name).toBe('search');
    expect(JSON.parse(msg.tool_calls![0].function.arguments)).toEqual({ query: 'find the refund policy', limit: 5 });
    expect(msg.tool_calls![0].id).toMatch(/^call_[0-9a-f]{8}$/);

    const messages = withToolResult(req.messages, msg, 'refunds within 30 days');
    const second = await sim.complete({ ...req, messages }, { signal: signal() });
    expect(second.choices[0].finish_reason).toBe('stop');
    expect(second.choices[0].message.content).toContain('refunds within 30 days');
  });

  it('tool_call: uses the configured tool when the request has none, or the directive tool', async () => {
    const sim = createSimModel({ toolName: 'lookup' });
    const a = await sim.complete(ask('x [sim:tool_call]'), { signal: signal() });
    expect(a.choices[0].message.tool_calls![0].function.name).toBe('lookup');
    const b = await sim.complete(ask('x [sim:tool_call weather]'), { signal: signal() });
    expect(b.choices[0].message.tool_calls![0].function.name).toBe('weather');
  });

  it('tool_loop: proposes the same call with the same arguments forever', async () => {
    const sim = createSimModel();
    let messages: ChatMessage[] = [{ role: 'user', content: 'index the repo [sim:loop]' }];
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await sim.complete({ model: 'sim', messages, tools: [searchTool] }, { signal: signal() });
      const call = res.choices[0].message.tool_calls![0];
      seen.add(`${call.function.name} ${call.function.arguments}`);
      messages = withToolResult(messages, res.choices[0].message, `result ${i}`);
    }
    expect(seen.size).toBe(1);
  });

  it('forbidden_tool: calls delete_file (or the named tool)', async () => {
    const sim = createSimModel();
    const a = await sim.complete(ask('tidy up [sim:forbidden_tool]'), { signal: signal() });
    const call = a.choices[0].message.tool_calls![0];
    expect(call.function.name).toBe('delete_file');
    expect(JSON.parse(call.function.arguments)).toEqual({ path: '/', recursive: true });
    const b = await sim.complete(ask('tidy up', { sim: 'forbidden_tool send_email' }), { signal: signal() });
    expect(b.choices[0].message.tool_calls![0].function.name).toBe('send_email');
  });

  it('refine: long, slightly different each round, always offering to improve', async () => {
    const sim = createSimModel({ scenario: 'refine' });
    let messages: ChatMessage[] = [{ role: 'user', content: 'write a haiku' }];
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await sim.complete({ model: 'sim', messages }, { signal: signal() });
      const text = res.choices[0].message.content!;
      expect(res.usage!.completion_tokens).toBeGreaterThan(500);
      expect(text).toMatch(/improve/);
      texts.push(text);
      messages = [...messages, { role: 'assistant', content: text }, { role: 'user', content: 'make it better' }];
    }
    expect(new Set(texts).size).toBe(4);
    // Slightly: most words are shared between rounds.
    const words = (t: string) => new Set(t.split(/\s+/));
    const shared = [...words(texts[1])].filter((w) => words(texts[0]).has(w)).length;
    expect(shared / words(texts[0]).size).toBeGreaterThan(0.8);
  });

  it('no_progress: exactly the same text every time', async () => {
    const sim = createSimModel({ scenario: 'no_progress' });
    const a = await sim.complete(ask('write a haiku'), { signal: signal() });
    const b = await sim.complete(
      { model: 'sim', messages: [...ask('write a haiku').messages, { role: 'assistant', content: 'x' }, { role: 'user', content: 'again' }] },
      { signal: signal() },
    );
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
  });

  it('long: thousands of tokens, clamped by max tokens', async () => {
    const sim = createSimModel({ scenario: 'long' });
    const full = await sim.complete(ask('essay'), { signal: signal() });
    expect(full.usage!.completion_tokens).toBe(4000);
    expect(full.choices[0].finish_reason).toBe('stop');
    const clamped = await sim.complete(ask('essay', { max_completion_tokens: 1000 }), { signal: signal() });
    expect(clamped.usage!.completion_tokens).toBe(1000);
    expect(clamped.choices[0].finish_reason).toBe('length');
    const custom = await sim.complete(ask('essay [sim:long 50]'), { signal: signal() });
    expect(custom.usage!.completion_tokens).toBe(50);
  });

  it('fail: ProviderError 500/503 at the configured rate, from a seeded generator', async () => {
    const sim = createSimModel({ scenario: 'fail 0.5', seed: 7 });
    const outcomes: Array<number | 'ok'> = [];
    for (let i = 0; i < 200; i++) {
      try {
        await sim.complete(ask(`q${i}`), { signal: signal() });
        outcomes.push('ok');
      } catch (err) {
        expect(err).toBeInstanceOf(ProviderError);
        outcomes.push((err as ProviderError).status);
      }
    }
    const failures = outcomes.filter((o) => o !== 'ok');
    expect(failures.length).toBeGreaterThan(70);
    expect(failures.length).toBeLessThan(130);
    expect(new Set(failures)).toEqual(new Set([500, 503]));
    expect(sim.stats).toMatchObject({ calls: 200, failures: failures.length, completed: 200 - failures.length });

    const always = createSimModel({ scenario: 'fail 1 503' });
    await expect(always.complete(ask('x'), { signal: signal() })).rejects.toMatchObject({ name: 'ProviderError', status: 503 });
  });

  it('throttle: ProviderError 429 with retryAfterMs', async () => {
    const sim = createSimModel({ retryAfterMs: 2500 });
    await expect(sim.complete(ask('x [sim:throttle]'), { signal: signal() })).rejects.toMatchObject({ status: 429, retryAfterMs: 2500 });
    await expect(sim.complete(ask('x [sim:throttle 1 700]'), { signal: signal() })).rejects.toMatchObject({ status: 429, retryAfterMs: 700 });
  });

  it('model mapping selects scenario and timing per model name', async () => {
    const sim = createSimModel({ models: { 'sim-small': 'answer', 'sim-loop': 'tool_loop', 'sim-flaky': { scenario: 'fail' } } });
    expect(sim.modelIds).toEqual(['sim-small', 'sim-loop', 'sim-flaky']);
    const loop = await sim.complete(ask('x', { model: 'sim-loop' }), { signal: signal() });
    expect(loop.choices[0].finish_reason).toBe('tool_calls');
    expect(loop.model).toBe('sim-loop');
    await expect(sim.complete(ask('x', { model: 'sim-flaky' }), { signal: signal() })).rejects.toMatchObject({ status: 500 });
  });

  it('rejects an unknown scenario in a request with a 400, and in options eagerly', async () => {
    const sim = createSimModel();
    await expect(sim.complete(ask('x [sim:dance]'), { signal: signal() })).rejects.toMatchObject({ status: 400 });
    await expect(sim.complete({ model: 'sim' } as never, { signal: signal() })).rejects.toMatchObject({ status: 400 });
    expect(sim.stats.failures).toBe(2);
    expect(() => createSimModel({ scenario: 'dance' })).toThrow(TypeError);
    expect(() => createSimModel({ tokensPerChunk: 0 })).toThrow(/tokensPerChunk/);
  });

  it('stall: complete() never returns until aborted, and the abort is recorded', async () => {
    const sim = createSimModel({ scenario: 'stall' });
    const controller = new AbortController();
    const pending = sim.complete(ask('x'), { signal: controller.signal });
    const reason = new Error('timeout.total');
    setTimeout(() => controller.abort(reason), 20);
    await expect(pending).rejects.toBe(reason);
    expect(sim.stats).toMatchObject({ calls: 1, aborted: 1, completed: 0, inFlight: 0 });
    expect(sim.aborts[0]).toMatchObject({ requestId: 'chatcmpl-sim-1', scenario: 'stall', stream: false, reason, phase: 'before_first_token' });
  });

  it('emits call / complete / failure events and resets its counters', async () => {
    const sim = createSimModel();
    const seen: string[] = [];
    sim.events.on('call', (e) => seen.push(`call ${e.requestId} ${e.scenario}`));
    sim.events.on('complete', (e) => seen.push(`complete ${e.requestId} ${e.usage.completion_tokens > 0}`));
    sim.events.on('failure', (e) => seen.push(`failure ${e.requestId} ${e.error.status}`));
    await sim.complete(ask('a'), { signal: signal() });
    await sim.complete(ask('b [sim:throttle]'), { signal: signal() }).catch(() => {});
    expect(seen).toEqual(['call chatcmpl-sim-1 answer', 'complete chatcmpl-sim-1 true', 'call chatcmpl-sim-2 throttle', 'failure chatcmpl-sim-2 429']);
    sim.reset();
    expect(sim.stats).toEqual({ calls: 0, completed: 0, aborted: 0, failures: 0, cancelled: 0, inFlight: 0, promptTokens: 0, completionTokens: 0 });
  });
});
