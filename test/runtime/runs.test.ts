import { describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, type GuardError, type GuardEvent } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, baseConfig } from './fixtures.ts';

describe('runs', () => {
  it('a sub-run counts against every ancestor and respects the depth limit', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxDepth: 2, maxIdenticalOutputs: 100 } }) });
    const root = await guard.startRun({ agent: 'bot' });
    const child = await root.subRun();
    const grandchild = await child.subRun();
    expect(grandchild.depth).toBe(2);
    await grandchild.callModel(ask('deep'));
    for (const run of [root, child, grandchild]) expect((await run.usage()).steps).toBe(1);
    await expect(grandchild.subRun()).rejects.toMatchObject({ code: 'limit.depth' });
    await guard.close();
  });

  it("a sub-run cannot spend past its parent's cost limit", async () => {
    const guard = createGuard({
      config: baseConfig({ limits: { maxCostUsd: 0.05, maxIdenticalOutputs: 100, maxSteps: 1000 } }),
    });
    const root = await guard.startRun({ agent: 'bot' });
    const child = await root.subRun();
    let code: string | undefined;
    for (let i = 0; i < 100 && !code; i++) {
      await child.callModel(ask(`essay ${i}`, 'sim-pricey')).catch((e: GuardError) => (code = e.code));
      await root.callModel(ask(`essay ${i}`, 'sim-pricey')).catch((e: GuardError) => (code ??= e.code));
    }
    expect(code).toBe('limit.cost');
    expect((await root.usage()).costUsd).toBeLessThanOrEqual(0.05);
    await guard.close();
  });

  it('killing a parent run stops its sub-runs', async () => {
    const guard = createGuard({ config: baseConfig() });
    const root = await guard.startRun({ agent: 'bot' });
    const child = await root.subRun();
    await guard.kill(`run:${root.id}`);
    expect(child.signal.aborted).toBe(true);
    await expect(child.callModel(ask('x'))).rejects.toMatchObject({ code: 'kill.switch' });
    await guard.close();
  });

  it('a run is resumed by id and belongs to the agent that started it', async () => {
    const config = baseConfig({}, {
      agents: {
        bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'] } },
        other: { tenant: 'acme', keys: ['sk-test-other-01'], allow: { models: ['*'] } },
      },
    } as never);
    const store = createMemoryStore();
    const guard = createGuard({ config, store });
    const run = await guard.startRun({ key: 'sk-test-bot-0001', id: 'run-42' });
    await run.callModel(ask('one'));
    const again = await guard.startRun({ key: 'sk-test-bot-0001', id: 'run-42' });
    expect((await again.usage()).steps).toBe(1);
    // The same name from another agent is another run (ids are scoped per agent); the scoped id is refused.
    expect(run.id).toBe('run-42@bot');
    const theirs = await guard.startRun({ key: 'sk-test-other-01', id: 'run-42' });
    expect([theirs.id, theirs.name, (await theirs.usage()).steps]).toEqual(['run-42@other', 'run-42', 0]);
    await expect(guard.startRun({ key: 'sk-test-other-01', id: 'run-42@bot' })).rejects.toMatchObject({ code: 'auth.invalid' });
    await expect(guard.startRun({ key: 'sk-nope-nope-nope' })).rejects.toMatchObject({ code: 'auth.invalid' });
    await expect(guard.startRun({ agent: 'bot', id: 'bad id with spaces' })).rejects.toMatchObject({ code: 'request.invalid' });
    // A second guard on the same store (another process, in effect) sees the same run.
    const guard2 = createGuard({ config, store });
    const resumed = await guard2.startRun({ key: 'sk-test-bot-0001', id: 'run-42' });
    expect((await resumed.usage()).steps).toBe(1);
    await guard.close();
    await guard2.close();
  });

  it('an ended run refuses further calls', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    await run.end();
    await expect(run.callModel(ask('x'))).rejects.toMatchObject({ code: 'request.invalid' });
    await guard.close();
  });

  it('bad input to a call is a clear request.invalid, never a crash', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      code: 'request.invalid',
      message: 'unknown model "nope"',
    });
    await expect(run.callModel({ model: 'sim-small', messages: [] })).rejects.toMatchObject({ code: 'request.invalid' });
    await expect(run.callModel({ model: 'sim-small', messages: 'hi' as never })).rejects.toMatchObject({ code: 'request.invalid' });
    await expect(run.callModel({ ...ask('x'), max_tokens: -5 })).rejects.toMatchObject({ code: 'request.invalid' });
    await expect(run.callTool({ tool: '', args: {}, execute: () => 1 })).rejects.toMatchObject({ code: 'request.invalid' });
    // The run is still usable.
    await expect(run.callModel(ask('fine'))).resolves.toBeTruthy();
    await guard.close();
  });

  it('a step is counted even when the call fails, and nothing stays reserved', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('[sim:fail 1 503] x'))).rejects.toMatchObject({ code: 'upstream.error' });
    const usage = await run.usage();
    expect(usage.steps).toBe(1);
    expect(usage.costUsd).toBe(0);
    expect(usage.reservedCostUsd).toBe(0);
    await guard.close();
  });
});

describe('budgets, rate limits and reservations', () => {
  it('clamps max_tokens to what the budget can pay for', async () => {
    const guard = createGuard({ config: baseConfig({ limits: { maxCostUsd: 0.01 } }) });
    const run = await guard.startRun({ agent: 'bot' });
    // sim-pricey: $400/M output, so $0.01 pays for < 25 output tokens after the input.
    const result = await run.callModel({ ...ask('[sim:long] write', 'sim-pricey'), max_tokens: 1000 });
    expect(result.maxTokens).toBeLessThan(25);
    expect(result.maxTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeLessThanOrEqual(result.maxTokens);
    expect((await run.usage()).costUsd).toBeLessThanOrEqual(0.01);
    await guard.close();
  });

  it('emits alert events at the budget thresholds and stops at 100 %', async () => {
    const guard = createGuard({
      config: baseConfig({ limits: { maxCostUsd: 10, maxSteps: 1000, maxIdenticalOutputs: 1000 } }, {
        tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.1, alertAt: [0.5, 0.8, 1] }] } },
      } as never),
    });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    const run = await guard.startRun({ agent: 'bot' });
    let refusal: GuardError | undefined;
    for (let i = 0; i < 200 && !refusal; i++) {
      await run.callModel({ ...ask(`[sim:long] essay ${i}`, 'sim-pricey'), max_tokens: 20 }).catch((e: GuardError) => (refusal = e));
    }
    expect(refusal?.code).toBe('budget.exhausted');
    expect(refusal?.details.limit).toBe(0.1);
    const alerts = events.filter((e) => e.type === 'budget.threshold');
    expect(alerts.map((a) => (a as { threshold: number }).threshold)).toEqual(expect.arrayContaining([0.5, 0.8]));
    expect(new Set(alerts.map((a) => (a as { threshold: number }).threshold)).size).toBe(alerts.length);
    await guard.close();
  });

  it('rate limits refuse with a retry-after and recover as the bucket refills', async () => {
    const clock = new FakeClock();
    const guard = createGuard({ config: baseConfig({ rateLimits: { requestsPerMinute: 2 }, limits: { maxIdenticalOutputs: 100 } }), clock });
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('a'));
    await run.callModel(ask('b'));
    const error = (await run.callModel(ask('c')).catch((e: unknown) => e)) as GuardError;
    expect(error.code).toBe('rate.limited');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(error.retryable).toBe(true);
    await clock.advance(error.details.retryAfterMs!);
    await expect(run.callModel(ask('d'))).resolves.toBeTruthy();
    await guard.close();
  });

  it("a crashed caller's reservation is released after its deadline", async () => {
    const clock = new FakeClock();
    const store = createMemoryStore();
    // Timeouts far beyond the reservation deadline: only the deadline can free the hold.
    const config = baseConfig(
      { limits: { maxCostUsd: 0.02, maxDurationMs: 3_600_000 }, timeouts: { model: { firstTokenMs: 1_800_000, totalMs: 1_800_000 } } },
      { defaults: { retry: [], reservationTtlMs: 60_000 } } as never,
    );
    const crashed = createGuard({ config, store, clock });
    const run = await crashed.startRun({ agent: 'bot', id: 'r1' });
    // A call that never returns holds its reservation (the caller "crashed" mid-call).
    void run.callModel({ ...ask('[sim:stall_first] x', 'sim-pricey'), max_tokens: 40 }).catch(() => {});
    await clock.advance(1);
    expect((await run.usage()).reservedCostUsd).toBeGreaterThan(0.01);
    const other = createGuard({ config, store, clock });
    const again = await other.startRun({ agent: 'bot', id: 'r1' });
    // Held, not spent: settled usage leaves room, so the refusal is the retryable contention code.
    await expect(again.callModel({ ...ask('y', 'sim-pricey'), max_tokens: 40 })).rejects.toMatchObject({
      code: 'limit.contended',
      details: { limitCode: 'limit.cost' },
    });
    await clock.advance(60_000);
    expect((await again.usage()).reservedCostUsd).toBe(0);
    await expect(again.callModel({ ...ask('y', 'sim-pricey'), max_tokens: 40 })).resolves.toBeTruthy();
    await other.close();
  });
});
