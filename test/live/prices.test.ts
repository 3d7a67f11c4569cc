import { afterEach, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { parseConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/problems.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { startFakeServer, type FakeServer } from '../providers/helpers.ts';

const KEY = 'sk-prices-test-0001';
let upstream: FakeServer | undefined;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
  await upstream?.close();
  upstream = undefined;
});

function config(models: Record<string, unknown>, baseUrl = 'http://127.0.0.1:1') {
  return {
    store: { kind: 'memory' },
    providers: { oai: { kind: 'openai', baseUrl, apiKey: 'sk-upstream' }, sim: { kind: 'simulated' } },
    models,
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: [KEY], allow: { models: ['*'] } } },
    defaults: { retry: [] },
  };
}

describe('prices out of the box', () => {
  it('an OpenAI model without a configured price is charged the catalogue price (mock OpenAI upstream on loopback)', async () => {
    upstream = await startFakeServer((_req, res) => {
      const body = JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1_000, completion_tokens: 2_000, total_tokens: 3_000 },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    const resolved = parseConfig(config({ 'gpt-4o-mini': { provider: 'oai' } }, `${upstream.url}/v1`));
    const model = resolved.models['gpt-4o-mini']!;
    // The bundled catalogue of the pinned @pydantic/genai-prices: gpt-4o-mini is $0.15 in / $0.60 out per million.
    expect(model).toMatchObject({ inputPerMTok: 0.15, outputPerMTok: 0.6, priceSource: 'catalogue' });
    const guard = createGuard({ config: resolved });
    const gateway = createGateway({ guard });
    const { url } = await gateway.listen(0, '127.0.0.1');
    cleanup.push(async () => {
      await gateway.close(100);
      await guard.close();
    });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    // 1000 × $0.15/M + 2000 × $0.60/M = $0.00015 + $0.0012 = $0.00135.
    expect(response.headers.get('x-fmguard-run-cost-usd')).toBe('0.00135');
    expect(upstream.requests).toHaveLength(1);
  });

  it('config prices override the catalogue, field by field', () => {
    const resolved = parseConfig(
      config({
        'gpt-4o-mini': { provider: 'oai', outputPerMTok: 9 },
        mine: { provider: 'oai', upstreamModel: 'gpt-4o-mini', inputPerMTok: 1, outputPerMTok: 2 },
      }),
    );
    expect(resolved.models['gpt-4o-mini']).toMatchObject({ inputPerMTok: 0.15, outputPerMTok: 9, priceSource: 'config+catalogue' });
    expect(resolved.models.mine).toMatchObject({ inputPerMTok: 1, outputPerMTok: 2, priceSource: 'config' });
  });

  it('a model whose price is unknown is refused (never a silent $0), a simulated one included, unless the config prices it', () => {
    const refuse = (models: Record<string, unknown>) => {
      try {
        parseConfig(config(models));
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refuse({ 'house-model-7': { provider: 'oai' } })).toContain('models.house-model-7: no price: the price catalogue does not know "house-model-7"');
    expect(refuse({ 'sim-x': { provider: 'sim' } })).toContain('models.sim-x: no price: simulated models are not in the price catalogue');
    expect(refuse({ 'house-model-7': { provider: 'oai', inputPerMTok: 1 } })).toContain('models.house-model-7: no price');
    expect(parseConfig(config({ 'house-model-7': { provider: 'oai', inputPerMTok: 1, outputPerMTok: 3 } })).models['house-model-7']!.priceSource).toBe(
      'config',
    );
  });
});
