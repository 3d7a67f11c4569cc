import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard, GuardError } from '../../src/index.ts';
import { createOpenAIProvider } from '../../src/providers/openai/openai.ts';
import type { HttpModelProvider } from '../../src/providers/http.ts';
import { startSimServer, type SimServer } from '../../src/providers/simulated/sim-server.ts';
import { baseConfig } from '../runtime/fixtures.ts';

let sim: SimServer | undefined;
let provider: HttpModelProvider | undefined;
afterEach(async () => {
  await provider?.close();
  await sim?.close();
  provider = sim = undefined;
});

/** The guard runtime with its `sim` provider replaced by the OpenAI provider over a real socket. */
async function guardOverHttp(agent: Record<string, unknown> = {}) {
  sim = await startSimServer();
  provider = createOpenAIProvider({ name: 'sim', baseUrl: `${sim.url}/v1` });
  const guard = createGuard({ config: baseConfig(agent), providers: { sim: provider } });
  return { guard, sim };
}

const ask = (text: string) => ({ model: 'sim-small', messages: [{ role: 'user' as const, content: text }] });

describe('the runtime over the OpenAI provider and the sim server', () => {
  it('settles a streamed call on the usage the upstream reported', async () => {
    const { guard } = await guardOverHttp();
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('Explain budgets.'));
    // biome-ignore lint/suspicious/noImplicitAnyLet: typed by control flow from its one assignment below
    let last;
    for await (const chunk of stream) last = chunk;
    const result = await stream.result;
    expect(last?.usage).toBeTruthy();
    expect(result.usage).toEqual({ inputTokens: last!.usage!.prompt_tokens, outputTokens: last!.usage!.completion_tokens, cachedInputTokens: undefined });
    await guard.close();
  });

  it('an idle timeout cuts a stalled stream and the upstream sees its socket close', async () => {
    const { guard, sim } = await guardOverHttp({ timeouts: { model: { idleMs: 150, firstTokenMs: 2000, totalMs: 10000 } } });
    const run = await guard.startRun({ agent: 'bot' });
    const closed = once(sim.events, 'client-closed');
    const stream = await run.streamModel(ask('[sim:stall 2] tell me'));
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(GuardError.isInstance(error) && error.code).toBe('timeout.idle');
    await closed;
    expect(sim.stats.clientClosed).toBe(1);
    await guard.close();
  });

  it('a kill cuts an in-flight stream at once and the upstream sees its socket close', async () => {
    const { guard, sim } = await guardOverHttp();
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('[sim:stall 2] tell me'));
    const consumed = (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    const closed = once(sim.events, 'client-closed');
    const started = performance.now();
    await guard.kill('tenant:acme', 'runaway');
    const error = await consumed;
    await closed;
    // The stream stalls for ever otherwise; 1 s is generous for a loaded 2-core machine.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(GuardError.isInstance(error) && error.code).toBe('kill.switch');
    await guard.close();
  });

  it('an upstream 429 becomes upstream.error with its status and retry-after', async () => {
    const { guard } = await guardOverHttp();
    const run = await guard.startRun({ agent: 'bot' });
    const error = await run.callModel(ask('[sim:throttle] hi')).catch((e: unknown) => e);
    expect(GuardError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'upstream.error', details: { status: 429, retryAfterMs: 1000 } });
    await guard.close();
  });
});
