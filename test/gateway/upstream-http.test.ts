import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimServer, type SimServer } from '../../src/providers/simulated/sim-server.ts';
import { ask, closeAll, gatewayConfig, searchTool, sseData, startGateway } from './helpers.ts';

/**
 * The whole path over real sockets: the official client → the gateway → the OpenAI-compatible
 * provider → the simulated model as its own HTTP server. The sim server reports when its client
 * (the gateway's upstream connection) goes away, so a test sees the upstream socket close.
 */
let sim: SimServer | undefined;
afterEach(async () => {
  await closeAll();
  await sim?.close();
  sim = undefined;
});

/** The provider named `sim` becomes an OpenAI-compatible upstream; the guard builds it from the config. */
async function start(bot: Record<string, unknown> = {}, simOptions: Parameters<typeof startSimServer>[0] = {}) {
  sim = await startSimServer(simOptions);
  const config = gatewayConfig(bot, { providers: { sim: { kind: 'openai', baseUrl: `${sim.url}/v1` } } });
  return startGateway({ config, guard: { providers: {} } });
}

describe('gateway → OpenAI-compatible provider → sim server, over HTTP', () => {
  it('plain and streamed completions, text and tool calls', async () => {
    const gw = await start();
    const client = gw.client();
    const plain = await client.chat.completions.create(ask('hello there'));
    expect(plain.choices[0].message.content!.length).toBeGreaterThan(10);
    const stream = await client.chat.completions.create({ ...ask('hello there'), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(plain.choices[0].message.content);
    const call = await client.chat.completions.stream({ ...ask('[sim:tool_call] look it up'), tools: [searchTool] }).finalChatCompletion();
    expect(call.choices[0].message.tool_calls?.[0]).toMatchObject({ type: 'function', function: { name: 'search' } });
    expect(sim!.stats.requests).toBe(3);
  });

  it('an upstream failure is a 502 upstream.error through the client', async () => {
    const gw = await start();
    await expect(gw.client({ maxRetries: 0 }).chat.completions.create(ask('[sim:fail 1 503] hi'))).rejects.toMatchObject({
      status: 502,
      code: 'upstream.error',
    });
  });

  it('a stalled upstream stream is cut by the idle timeout and the upstream sees its socket close', async () => {
    const gw = await start({ timeouts: { model: { idleMs: 300 } } });
    const closed = once(sim!.events, 'client-closed');
    const res = await gw.post({ ...ask('[sim:stall 3] a story'), stream: true });
    const events = sseData(await res.text());
    expect(JSON.parse(events.at(-1)!).error.code).toBe('timeout.idle');
    expect(events.filter((e) => e.includes('"error"'))).toHaveLength(1);
    const [event] = await closed;
    expect(event).toMatchObject({ stream: true });
    expect(sim!.stats.clientClosed).toBe(1);
  });

  it('a kill cuts the stream at once and the upstream sees its socket close', async () => {
    const gw = await start({}, { model: { tokensPerSecond: 100 } });
    const closed = once(sim!.events, 'client-closed');
    const stream = await gw.client({ headers: { 'x-fmguard-run': 'doomed' } }).chat.completions.create({ ...ask('[sim:long 3000] an essay'), stream: true });
    let killedAt = 0;
    let chunks = 0;
    const error = await (async () => {
      for await (const _ of stream) {
        if (++chunks === 3) {
          killedAt = performance.now();
          void gw.guard.kill('run:doomed@bot', 'operator');
        }
      }
    })().catch((e: unknown) => e);
    // Promptly, not at the stream's end (30 s away). The latency itself is a benchmark figure (bench:gateway);
    // 1 s is generous for a loaded 2-core machine.
    expect(performance.now() - killedAt).toBeLessThan(1000);
    expect(error).toMatchObject({ code: 'kill.switch' });
    await closed;
    expect(sim!.stats.clientClosed).toBe(1);
  });

  it('a client that leaves mid-stream closes the upstream socket too', async () => {
    const gw = await start({}, { model: { tokensPerSecond: 200 } });
    const closed = once(sim!.events, 'client-closed');
    const stream = await gw.client().chat.completions.create({ ...ask('[sim:long 3000] an essay'), stream: true });
    let chunks = 0;
    for await (const _ of stream) if (++chunks === 3) break;
    await closed;
    expect(sim!.stats.clientClosed).toBe(1);
  });
});
