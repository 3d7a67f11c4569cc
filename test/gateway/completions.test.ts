import { afterEach, describe, expect, it } from 'vitest';
import { ask, closeAll, searchTool, sseData, startGateway } from './helpers.ts';

afterEach(closeAll);

describe('POST /v1/chat/completions through the official openai client', () => {
  it('answers a plain completion with the upstream JSON and the run headers', async () => {
    const gw = await startGateway();
    const { data, response } = await gw.client().chat.completions.create(ask('Explain budgets briefly.')).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.choices[0].message.content!.length).toBeGreaterThan(20);
    expect(data.usage!.total_tokens).toBeGreaterThan(0);
    const runId = response.headers.get('x-fmguard-run')!;
    expect(runId).toMatch(/^run_/);
    expect(response.headers.get('x-fmguard-run-steps')).toBe('1');
    const cost = Number(response.headers.get('x-fmguard-run-cost-usd'));
    expect(cost).toBeGreaterThan(0);
    expect(response.headers.get('x-fmguard-run-cost-usd')).not.toMatch(/e/);
    // A run of its own (no x-fmguard-run) ends with its call and is kept in the process only:
    // no run row, nothing charged or held on its account in the store, no run left active.
    await new Promise((r) => setTimeout(r, 20));
    expect(await gw.guard.store.runs.get(`${runId}@bot`)).toBeUndefined();
    expect(await gw.guard.store.runs.list()).toEqual([]);
    const own = await gw.guard.store.ledger.balances(
      ['steps', 'cost'].map((dim) => ({ key: `run:${runId}@bot`, dim })),
      Date.now(),
    );
    expect(own).toEqual([
      { used: 0, reserved: 0 },
      { used: 0, reserved: 0 },
    ]);
    expect(gw.guard.activeRuns).toBe(0);
  });

  it('groups calls into one named run and reports its counters', async () => {
    const gw = await startGateway();
    const client = gw.client({ headers: { 'x-fmguard-run': 'run-named-1' } });
    let last: Response | undefined;
    let total = 0;
    for (let i = 0; i < 3; i++) {
      const { data, response } = await client.chat.completions.create(ask(`question ${i}`)).withResponse();
      expect(response.headers.get('x-fmguard-run')).toBe('run-named-1');
      expect(response.headers.get('x-fmguard-run-steps')).toBe(String(i + 1));
      total += data.usage!.prompt_tokens * 0.15e-6 + data.usage!.completion_tokens * 0.6e-6;
      last = response;
    }
    expect(Number(last!.headers.get('x-fmguard-run-cost-usd'))).toBeCloseTo(total, 9);
    const run = await gw.guard.startRun({ agent: 'bot', id: 'run-named-1' });
    expect((await run.usage()).steps).toBe(3);
  });

  it('makes a sub-run from x-fmguard-parent-run: its spend counts against the parent', async () => {
    const gw = await startGateway();
    await gw.client({ headers: { 'x-fmguard-run': 'parent-1' } }).chat.completions.create(ask('plan'));
    const { response } = await gw
      .client({ headers: { 'x-fmguard-run': 'child-1', 'x-fmguard-parent-run': 'parent-1' } })
      .chat.completions.create(ask('do'))
      .withResponse();
    expect(response.headers.get('x-fmguard-run')).toBe('child-1');
    const child = await gw.guard.store.runs.get('child-1@bot');
    expect(child).toMatchObject({ parentId: 'parent-1@bot', depth: 1 });
    const parent = await gw.guard.startRun({ agent: 'bot', id: 'parent-1' });
    expect((await parent.usage()).steps).toBe(2);
  });

  it('streams text as SSE; the usage chunk only when include_usage is asked for', async () => {
    const gw = await startGateway();
    const client = gw.client();
    const plain = await client.chat.completions.create(ask('same question'));
    const stream = await client.chat.completions.create({ ...ask('same question'), stream: true });
    let content = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      content += chunk.choices[0]?.delta.content ?? '';
    }
    expect(content).toBe(plain.choices[0].message.content);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('stop');

    const withUsage = await client.chat.completions.create({ ...ask('same question'), stream: true, stream_options: { include_usage: true } });
    const all = [];
    for await (const chunk of withUsage) all.push(chunk);
    expect(all.at(-1)!.choices).toEqual([]);
    expect(all.at(-1)!.usage).toEqual(plain.usage);
  });

  it('sends SSE headers, run headers, and ends with [DONE]', async () => {
    const gw = await startGateway();
    const res = await gw.post({ ...ask('hello'), stream: true }, { 'x-fmguard-run': 'sse-run' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-fmguard-run')).toBe('sse-run');
    expect(res.headers.get('x-fmguard-run-steps')).toBe('1');
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.slice(0, -1).every((e) => JSON.parse(e).object === 'chat.completion.chunk')).toBe(true);
  });

  it('passes tool calls through, plain and streamed (the client assembles the streamed call)', async () => {
    const gw = await startGateway();
    const client = gw.client();
    const request = { ...ask('[sim:tool_call] find fmguard docs'), tools: [searchTool] };
    const plain = await client.chat.completions.create(request);
    expect(plain.choices[0].finish_reason).toBe('tool_calls');
    const call = plain.choices[0].message.tool_calls![0] as { function: { name: string; arguments: string } };
    expect(call.function.name).toBe('search');
    const streamed = await client.chat.completions.stream(request).finalChatCompletion();
    expect(streamed.choices[0].finish_reason).toBe('tool_calls');
    expect(streamed.choices[0].message.tool_calls).toEqual(plain.choices[0].message.tool_calls);
  });

  it('lists the models a key may use', async () => {
    const gw = await startGateway();
    const page = await gw.client().models.list();
    expect(page.data.map((m) => m.id).sort()).toEqual(['sim-pricey', 'sim-small']);
    expect((await gw.client().models.retrieve('sim-small')).owned_by).toBe('sim');
    await expect(gw.client({ maxRetries: 0 }).models.retrieve('gpt-nope')).rejects.toMatchObject({ status: 404 });
    await expect(gw.client({ key: 'sk-unknown-0000', maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('follows guard.modelsFor when the policy layer provides it', async () => {
    const gw = await startGateway();
    Object.assign(gw.guard, { modelsFor: (agent: string) => (agent === 'bot' ? ['sim-small'] : []) });
    expect((await gw.client().models.list()).data.map((m) => m.id)).toEqual(['sim-small']);
  });
});

describe('probes', () => {
  it('healthz, readyz and metrics', async () => {
    const gw = await startGateway();
    expect(await (await fetch(`${gw.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await fetch(`${gw.url}/metrics`);
    if ((gw.guard as { metrics?: unknown }).metrics) {
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    } else {
      expect(metrics.status).toBe(404);
    }
  });

  it('readyz is a 503 store.unavailable when the store does not answer in time', async () => {
    const gw = await startGateway({ gateway: { readyTimeoutMs: 50 } });
    gw.guard.store.kills.list = () => new Promise(() => {});
    const res = await fetch(`${gw.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('x-fmguard-code')).toBe('store.unavailable');
    expect((await res.json()).error.code).toBe('store.unavailable');
  });

  it('serves guard.metrics.prometheusText() when present, and 404 without metrics', async () => {
    const gw = await startGateway();
    const real = gw.guard.metrics;
    Object.defineProperty(gw.guard, 'metrics', { value: { prometheusText: async () => '# TYPE x counter\nx 1\n' }, configurable: true });
    const res = await fetch(`${gw.url}/metrics`);
    // The guard's text first; the policy engine's own counters follow it.
    const text = await res.text();
    expect(text.startsWith('# TYPE x counter\nx 1\n# HELP fmguard_policy_decisions_total')).toBe(true);
    Object.defineProperty(gw.guard, 'metrics', { value: undefined, configurable: true });
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
    // Put the real recorder back, so closing the guard stops its flusher.
    Object.defineProperty(gw.guard, 'metrics', { value: real, configurable: true });
  });
});
