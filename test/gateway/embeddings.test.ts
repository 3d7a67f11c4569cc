import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { startSimServer, type SimServer } from '../../src/providers/simulated/sim-server.ts';
import { closeAll, gatewayConfig, startGateway } from './helpers.ts';
import { postTo } from './inbound-helpers.ts';

/**
 * `POST /v1/embeddings` with the official `openai` client: deterministic vectors from the simulated
 * model, metered by input tokens, priced, budgeted and policy-checked like any model call, in
 * process and over HTTP (the OpenAI-compatible provider → the sim server).
 */
let sim: SimServer | undefined;
afterEach(async () => {
  await closeAll();
  await sim?.close();
  sim = undefined;
});

const EMBED_PRICE = 0.02;
const embedModel = { 'sim-embed': { provider: 'sim', inputPerMTok: EMBED_PRICE, outputPerMTok: 0 } };

function config(bot: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const base = gatewayConfig(bot, extra);
  return { ...base, models: { ...base.models, ...embedModel } };
}

const cosine = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

describe('POST /v1/embeddings', () => {
  it('embeddings.create (base64 on the wire, as the client asks): deterministic unit vectors, usage, cost in the run headers', async () => {
    const gw = await startGateway({ config: config() });
    const client = gw.client();
    const { data: result, response: raw } = await client.embeddings
      .create({ model: 'sim-embed', input: ['refund policy', 'shipping times', 'refund policy'] })
      .withResponse();
    expect(result.object).toBe('list');
    expect(result.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = result.data.map((d) => d.embedding);
    expect(a).toHaveLength(64);
    expect(cosine(a!, a!)).toBeCloseTo(1, 5);
    expect(c).toEqual(a);
    expect(cosine(a!, b!)).toBeLessThan(0.9);
    expect(result.usage.prompt_tokens).toBeGreaterThan(0);
    expect(result.usage.total_tokens).toBe(result.usage.prompt_tokens);
    expect(raw.headers.get('x-fmguard-run-steps')).toBe('1');
    expect(Number(raw.headers.get('x-fmguard-run-cost-usd'))).toBeCloseTo((result.usage.prompt_tokens * EMBED_PRICE) / 1e6, 12);

    const floats = await client.embeddings.create({ model: 'sim-embed', input: 'refund policy', encoding_format: 'float', dimensions: 8 });
    expect(floats.data[0]!.embedding).toHaveLength(8);
    const raw64 = await (await postTo(gw, '/v1/embeddings', { model: 'sim-embed', input: 'x', encoding_format: 'base64' })).json();
    expect(typeof raw64.data[0].embedding).toBe('string');
    expect(Buffer.from(raw64.data[0].embedding, 'base64').length).toBe(64 * 4);
  });

  it('metered against the run and its budgets: a run that cannot pay is refused (limit.cost), a named run adds up', async () => {
    const gw = await startGateway({ config: config({ limits: { maxCostUsd: 0.000001 } }) });
    const client = gw.client({ maxRetries: 0, headers: { 'x-fmguard-run': 'retrieval' } });
    const input = 'a long document '.repeat(200);
    // ~3.2k bytes reserved at $0.02/MTok is $0.000064: more than the run may spend.
    await expect(client.embeddings.create({ model: 'sim-embed', input })).rejects.toMatchObject({ status: 402, code: 'limit.cost' });
    await client.embeddings.create({ model: 'sim-embed', input: 'short' });
    await client.embeddings.create({ model: 'sim-embed', input: 'short too' });
    const run = await gw.guard.startRun({ key: 'sk-test-bot-0001', id: 'retrieval' });
    const usage = await run.usage();
    // The refused call reserved nothing: two steps, both paid.
    expect(usage.steps).toBe(2);
    expect(usage.outputTokens).toBe(0);
    expect(usage.inputTokens).toBeGreaterThan(0);
  });

  it('policy-checked like any model: an agent not allowed the embedding model gets policy.denied', async () => {
    const gw = await startGateway({ config: config({ allow: { models: ['sim-small'], tools: ['*'] } }) });
    await expect(gw.client({ maxRetries: 0 }).embeddings.create({ model: 'sim-embed', input: 'x' })).rejects.toMatchObject({
      status: 403,
      code: 'policy.denied',
    });
    expect(gw.sim.stats.calls).toBe(0);
  });

  it('bad input is request.invalid naming the field, before any run', async () => {
    const gw = await startGateway({ config: config() });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: 'sim-embed' }, 'input'],
      [{ model: 'sim-embed', input: [] }, 'input'],
      [{ model: 'sim-embed', input: ['ok', ''] }, 'input[1]'],
      [{ model: 'sim-embed', input: 'x', encoding_format: 'hex' }, 'encoding_format'],
      [{ model: 'sim-embed', input: 'x', dimensions: 0 }, 'dimensions'],
      [{ model: 'nope', input: 'x' }, 'model'],
    ];
    for (const [body, param] of cases) {
      const res = await postTo(gw, '/v1/embeddings', body);
      expect(res.status, param).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: 'request.invalid', param });
    }
    expect(gw.sim.stats.calls).toBe(0);
  });

  it('over HTTP: the OpenAI-compatible provider posts to the upstream’s /embeddings; a provider without embeddings refuses', async () => {
    sim = await startSimServer();
    const base = config({}, { providers: { sim: { kind: 'openai', baseUrl: `${sim.url}/v1` }, claude: { kind: 'anthropic', apiKey: 'sk-ant-test-0000' } } });
    const gw = await startGateway({
      config: { ...base, models: { ...base.models, 'claude-embed': { provider: 'claude', inputPerMTok: 1, outputPerMTok: 0 } } },
      guard: { providers: {} },
    });
    const seen: unknown[] = [];
    sim.events.on('request', ({ path, body }) => path === '/v1/embeddings' && seen.push(body));
    const result = await gw.client().embeddings.create({ model: 'sim-embed', input: ['alpha', 'beta'], encoding_format: 'float' });
    expect(result.data).toHaveLength(2);
    expect(seen).toEqual([{ model: 'sim-embed', input: ['alpha', 'beta'], encoding_format: 'float' }]);
    const refused = await gw
      .client({ maxRetries: 0 })
      .embeddings.create({ model: 'claude-embed', input: 'x' })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, code: 'request.invalid' });
    expect((refused as Error).message).toMatch(/no embeddings/);
  });
});

describe('the shipped example config', () => {
  it('has an embedding model the demo agent may use, and the simulator answers it', async () => {
    const example = loadConfigFile(fileURLToPath(new URL('../../fmguard.example.yaml', import.meta.url)), { env: {} });
    const guard = createGuard({ config: example, store: createMemoryStore() });
    try {
      const run = await guard.startRun({ key: 'sk-fmguard-demo-0001' });
      const result = await run.callEmbeddings({ model: 'sim-embed', input: ['refund policy', 'refund policy'] });
      expect(result.response.data[0]!.embedding).toEqual(result.response.data[1]!.embedding);
      expect(result.usage.inputTokens).toBeGreaterThan(0);
      expect(result.costUsd).toBeCloseTo((result.usage.inputTokens * 0.02) / 1e6, 12);
      await run.end();
    } finally {
      await guard.close();
    }
  });
});
