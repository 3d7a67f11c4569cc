import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { parsePrometheusText } from '../metrics/prom-parser.ts';
import { closeAll, gatewayConfig, startGateway, type TestGateway } from './helpers.ts';
import { anthropic } from './inbound-helpers.ts';

/**
 * No side door: the Responses, Messages and embeddings routes are the chat route's runtime behind
 * other shapes, so a budget drained on one is drained on all, and a kill, a forbid or an open breaker
 * stops every route (stream-cuts.test.ts: a kill cuts a stream on each route).
 */
afterEach(closeAll);

function withEmbeddings(config: ConfigInput): ConfigInput {
  return { ...config, models: { ...config.models, 'sim-embed': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 0 } } };
}

const prompt = 'summarise the refund policy in detail';

/** One call per route, each refused or answered; returns the stop code (or 'ok'). */
async function everyRoute(gw: TestGateway, model = 'sim-small'): Promise<Record<string, string>> {
  const openai = gw.client({ maxRetries: 0 });
  const claude = anthropic(gw);
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: { code?: string; errorCode?: string }) => e.errorCode ?? e.code ?? String(e),
    );
  return {
    chat: await code(openai.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] })),
    responses: await code(openai.responses.create({ model, input: prompt })),
    messages: await code(claude.messages.create({ model, max_tokens: 1024, messages: [{ role: 'user', content: prompt }] })),
    // As many bytes as the prompt: it needs at least what a text call's input needs.
    embeddings: await code(openai.embeddings.create({ model: model === 'sim-small' ? 'sim-embed' : model, input: prompt.repeat(2) })),
  };
}

const everywhere = (code: string) => ({ chat: code, responses: code, messages: code, embeddings: code });

describe('no side door between the routes', () => {
  it('an agent budget drained through /v1/responses refuses chat completions, messages and embeddings', async () => {
    const config = withEmbeddings(gatewayConfig({ budgets: [{ period: 'day', maxCostUsd: 0.05 }] }));
    const gw = await startGateway({
      config: { ...config, models: { ...config.models, 'sim-small': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 } } },
    });
    const client = gw.client({ maxRetries: 0 });
    let refused: unknown;
    for (let i = 0; i < 30 && !refused; i++) {
      await client.responses.create({ model: 'sim-small', input: `[sim:long 3000] ${prompt}` }).catch((e: unknown) => (refused = e));
    }
    expect(refused).toMatchObject({ status: 402, code: 'budget.exhausted' });
    const calls = gw.sim.stats.calls;
    expect(await everyRoute(gw)).toEqual(everywhere('budget.exhausted'));
    expect(gw.sim.stats.calls).toBe(calls);
  });

  it('a kill switch, a forbid and an open breaker stop every route', async () => {
    const gw = await startGateway({ config: withEmbeddings(gatewayConfig()) });
    expect(await everyRoute(gw)).toEqual(everywhere('ok'));
    await gw.guard.kill('agent:bot', 'runaway');
    expect(await everyRoute(gw)).toEqual(everywhere('kill.switch'));

    const forbid = await startGateway({ config: withEmbeddings(gatewayConfig({ deny: { models: ['sim-small', 'sim-embed'] } })) });
    expect(await everyRoute(forbid)).toEqual(everywhere('policy.denied'));

    const tripped = await startGateway({ config: withEmbeddings(gatewayConfig()) });
    const breakers = (tripped.guard as unknown as { breakers: { open(scope: string, o: object): Promise<unknown> } }).breakers;
    await breakers.open('provider:sim', { cooldownMs: 30_000, by: 'test', reason: 'test' });
    expect(await everyRoute(tripped)).toEqual(everywhere('breaker.open'));
  });

  it('every route is audited and counted as a model call', async () => {
    const gw = await startGateway({ config: withEmbeddings(gatewayConfig({}, { audit: { sink: 'memory' } })) });
    expect(await everyRoute(gw)).toEqual(everywhere('ok'));
    await gw.guard.audit!.flush();
    const allowed = (await gw.guard.audit!.sink.tail(100)).filter((e) => e.type === 'call.allowed');
    expect(allowed.map((e) => (e as unknown as { resource: string }).resource).sort()).toEqual(['sim-embed', 'sim-small', 'sim-small', 'sim-small']);
    const families = parsePrometheusText(await (await fetch(`${gw.url}/metrics`)).text());
    const ok = families.get('fmguard_calls_total')!.samples.filter((s) => s.labels.outcome === 'success');
    expect(ok.find((s) => s.labels.gen_ai_request_model === 'sim-small')?.value).toBe(3);
    expect(ok.find((s) => s.labels.gen_ai_request_model === 'sim-embed')?.value).toBe(1);
  });
});
