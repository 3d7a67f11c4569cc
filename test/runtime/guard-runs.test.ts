/**
 * Guard.startRun: which agent a run belongs to, resuming by id (held here, in the store, minted names),
 * runs of their own (`local`), parents (bare, scoped, delegated), creation races, and the `run.refused`
 * event every refusal of a known agent's run reports.
 */
import { describe, expect, it } from 'vitest';
import { createGuard, createMemoryStore, type GuardEvent, type Store } from '../../src/index.ts';
import type { RunRecord } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const BOT_KEY = 'sk-test-bot-0001';

function config(defaults: Record<string, unknown> = {}) {
  return baseConfig({ limits: { maxDepth: 3, maxDurationMs: 3_600_000 } }, {
    tenants: { acme: {}, zeta: {} },
    agents: {
      bot: { tenant: 'acme', keys: [BOT_KEY], allow: { models: ['*'], tools: ['*'] }, limits: { maxDepth: 3, maxDurationMs: 3_600_000 } },
      other: { tenant: 'acme', keys: ['sk-test-other-01'], allow: { models: ['*'] } },
      planner: { tenant: 'acme', keys: ['sk-test-planner-1'], allow: { models: ['*'] }, delegatesTo: ['bot'] },
    },
    defaults: { retry: [], ...defaults },
  } as never);
}

function setup(store: Store = createMemoryStore(), defaults: Record<string, unknown> = {}) {
  const clock = new FakeClock(T0);
  const guard = createGuard({ config: config(defaults), clock, store, audit: false });
  const events: GuardEvent[] = [];
  guard.on((e) => events.push(e));
  const of = <T extends GuardEvent['type']>(type: T) => events.filter((e): e is Extract<GuardEvent, { type: T }> => e.type === type);
  return { clock, store, guard, events, of };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => e,
  );

describe('who a run belongs to', () => {
  it('an unknown agent, or neither agent nor key, is refused with auth.invalid (and no run.refused: no known agent)', async () => {
    const { guard, of } = setup();
    expect(await refusal(guard.startRun({ agent: 'ghost' }))).toMatchObject({ code: 'auth.invalid', message: 'unknown agent "ghost"' });
    expect(await refusal(guard.startRun({}))).toMatchObject({ code: 'auth.invalid', message: 'startRun needs an agent or a key' });
    expect(of('run.refused')).toEqual([]);
    await guard.close();
  });

  it('a run held here is refused to another agent naming its scoped id, with the id in the error', async () => {
    const { guard } = setup();
    const mine = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(mine.id).toBe('job@bot');
    expect(await refusal(guard.startRun({ agent: 'other', id: 'job@bot' }))).toMatchObject({
      code: 'auth.invalid',
      message: 'run job@bot belongs to another agent',
      details: { runId: 'job@bot' },
    });
    await guard.close();
  });

  it('a stored run whose record names another agent is refused, whether read before or found on create (a race)', async () => {
    const store = createMemoryStore();
    const theirs: RunRecord = {
      id: 'job@bot',
      agent: 'other',
      tenant: 'acme',
      ancestors: [],
      depth: 0,
      startedAt: T0,
      deadline: T0 + 60_000,
      status: 'running',
    };
    await store.runs.create(theirs);
    const { guard } = setup(store);
    const foreign = { code: 'auth.invalid', message: 'run job@bot belongs to another agent', details: { runId: 'job@bot' } };
    expect(await refusal(guard.startRun({ agent: 'bot', id: 'job' }))).toMatchObject(foreign);
    // The race: the read finds nothing, the create finds the other agent's run.
    store.runs.get = async () => undefined;
    expect(await refusal(guard.startRun({ agent: 'bot', id: 'job' }))).toMatchObject(foreign);
    expect(guard.activeRuns).toBe(0);
    await guard.close();
  });

  it('a run of the same agent created between the read and the create is resumed, not started again', async () => {
    const store = createMemoryStore();
    const mine: RunRecord = {
      id: 'job@bot',
      agent: 'bot',
      tenant: 'acme',
      ancestors: [],
      depth: 0,
      startedAt: T0 - 5,
      deadline: T0 + 60_000,
      status: 'running',
    };
    await store.runs.create(mine);
    store.runs.get = async () => undefined;
    const { guard, of } = setup(store);
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(run.id).toBe('job@bot');
    expect(run.handle.record.startedAt).toBe(T0 - 5);
    expect(of('run.started')).toEqual([]);
    await guard.close();
  });

  it('a new run is announced once with run.started', async () => {
    const { guard, of } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'fresh' });
    await guard.startRun({ agent: 'bot', id: 'fresh' });
    expect(of('run.started').map((e) => e.run.id)).toEqual([run.id]);
    await guard.close();
  });
});

describe('resuming by id', () => {
  it('resuming a run held here counts as activity for the idle sweeper', async () => {
    const { clock, guard } = setup(undefined, { runIdleTtlMs: 5000 });
    const run = await guard.startRun({ agent: 'bot', id: 'job' });
    clock.set(T0 + 4000);
    const again = await guard.startRun({ agent: 'bot', id: 'job' });
    expect(again.handle).toBe(run.handle);
    clock.set(T0 + 5000);
    expect(await guard.sweepIdle()).toBe(0);
    clock.set(T0 + 9000);
    expect(await guard.sweepIdle()).toBe(1);
    await guard.close();
  });

  it('a minted name is resumed from the store by another guard; one the store does not know has ended', async () => {
    const store = createMemoryStore();
    const { guard } = setup(store);
    const run = await guard.startRun({ agent: 'bot' });
    expect(run.name).toMatch(/^run_[0-9a-f-]{36}$/);
    const elsewhere = setup(store).guard;
    const resumed = await elsewhere.startRun({ agent: 'bot', id: run.name });
    expect(resumed.id).toBe(run.id);
    const unknown = 'run_00000000-0000-4000-8000-000000000000';
    expect(await refusal(elsewhere.startRun({ agent: 'bot', id: unknown }))).toMatchObject({
      code: 'request.invalid',
      message: 'the run has ended',
      details: { runId: `${unknown}@bot` },
    });
    expect(await store.runs.get(`${unknown}@bot`)).toBeUndefined();
    await guard.close();
    await elsewhere.close();
  });

  it('a stored run is resumed as it is: the parent named again is not checked again', async () => {
    const store = createMemoryStore();
    const { guard } = setup(store);
    const root = await guard.startRun({ agent: 'bot', id: 'root' });
    const child = await guard.startRun({ agent: 'bot', id: 'child', parentId: 'root' });
    await root.end();
    const elsewhere = setup(store).guard;
    const resumed = await elsewhere.startRun({ agent: 'bot', id: 'child', parentId: 'root' });
    expect([resumed.id, resumed.depth, resumed.parentId]).toEqual([child.id, 1, 'root@bot']);
    await guard.close();
    await elsewhere.close();
  });

  it('a malformed id is refused with request.invalid naming the parameter', async () => {
    const { guard } = setup();
    expect(await refusal(guard.startRun({ agent: 'bot', id: 'bad id' }))).toMatchObject({
      code: 'request.invalid',
      message: 'a run id is 1–128 characters of letters, digits, ".", "_", ":" or "-" (optionally followed by "@<its agent>")',
      details: { param: 'run' },
    });
    await guard.close();
  });

  it('an id scoped to another agent is refused with the id as given', async () => {
    const { guard } = setup();
    expect(await refusal(guard.startRun({ agent: 'bot', id: 'x@other' }))).toMatchObject({
      code: 'auth.invalid',
      message: 'run x@other belongs to another agent',
      details: { runId: 'x@other' },
    });
    expect((await guard.startRun({ agent: 'bot', id: 'x@bot' })).id).toBe('x@bot');
    await guard.close();
  });
});

describe('runs of their own (local)', () => {
  it('are kept out of the store while they run, announced, and stored only when stopped', async () => {
    const { guard, store, of } = setup();
    const run = await guard.startRun({ agent: 'bot', local: true });
    expect(await store.runs.get(run.id)).toBeUndefined();
    expect(of('run.started').map((e) => [e.run.id, e.at])).toEqual([[run.id, T0]]);
    await guard.kill(`run:${run.id}`, 'enough');
    expect(await store.runs.get(run.id)).toMatchObject({ status: 'stopped', stopCode: 'kill.switch', agent: 'bot' });
    await guard.close();
  });

  it('`local` is ignored with an id: the run is stored like any other', async () => {
    const { guard, store } = setup();
    const run = await guard.startRun({ agent: 'bot', id: 'named', local: true });
    expect(await store.runs.get(run.id)).toMatchObject({ id: 'named@bot', status: 'running' });
    await guard.close();
  });
});

describe('parents', () => {
  it('a bare parent name is one of the agent’s own runs', async () => {
    const { guard } = setup();
    await guard.startRun({ agent: 'bot', id: 'root' });
    const child = await guard.startRun({ agent: 'bot', parentId: 'root' });
    expect([child.parentId, child.depth]).toEqual(['root@bot', 1]);
    await guard.close();
  });

  it("another agent's run is a parent only when that agent delegates to the caller", async () => {
    const { guard } = setup();
    await guard.startRun({ agent: 'planner', id: 'plan' });
    await guard.startRun({ agent: 'other', id: 'mine' });
    const delegated = await guard.startRun({ agent: 'bot', parentId: 'plan@planner' });
    expect(delegated.parentId).toBe('plan@planner');
    expect(await refusal(guard.startRun({ agent: 'bot', parentId: 'mine@other' }))).toMatchObject({
      code: 'auth.invalid',
      message: 'parent run mine@other belongs to another agent, which does not delegate to "bot" (agents.<owner>.delegatesTo)',
      details: { runId: 'mine@other', param: 'parent' },
    });
    // An owner that is no agent at all is refused the same way.
    expect(await refusal(guard.startRun({ agent: 'bot', parentId: 'p@ghost' }))).toMatchObject({ code: 'auth.invalid', details: { runId: 'p@ghost' } });
    await guard.close();
  });

  it('a malformed parent id is refused with request.invalid naming the parameter', async () => {
    const { guard } = setup();
    expect(await refusal(guard.startRun({ agent: 'bot', parentId: 'no good' }))).toMatchObject({
      code: 'request.invalid',
      message: 'a parent run id is 1–128 characters of letters, digits, ".", "_", ":" or "-" (optionally followed by "@<its agent>")',
      details: { param: 'parent' },
    });
    await guard.close();
  });
});

describe('run.refused', () => {
  it('reports a refused run of a known agent with the ids as given (clipped to 300 characters), its key, code and message', async () => {
    const { guard, of } = setup();
    const keyId = guard.config.keyIndex.get(BOT_KEY)!.keyId;
    const long = `${'x'.repeat(400)}`;
    const error = (await refusal(guard.startRun({ key: BOT_KEY, id: long, parentId: `p${long}` }))) as { code: string; message: string };
    expect(error.code).toBe('request.invalid');
    expect(of('run.refused')).toEqual([
      {
        type: 'run.refused',
        at: T0,
        runId: 'x'.repeat(300),
        parentId: `p${'x'.repeat(299)}`,
        agent: 'bot',
        tenant: 'acme',
        keyId,
        code: 'request.invalid',
        message: error.message,
      },
    ]);
    await guard.close();
  });

  it('is not reported for a store failure (not a refusal), which fails closed with store.unavailable', async () => {
    const store = createMemoryStore();
    store.runs.get = async () => {
      throw new Error('disk on fire');
    };
    const { guard, of } = setup(store);
    expect(await refusal(guard.startRun({ agent: 'bot', id: 'job' }))).toMatchObject({
      code: 'store.unavailable',
      message: 'run state could not be read: disk on fire',
    });
    expect(of('run.refused')).toEqual([]);
    await guard.close();
  });
});
