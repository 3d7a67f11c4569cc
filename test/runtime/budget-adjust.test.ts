/**
 * adjustBudget (`fmguard budgets adjust|reset`, `POST /admin/budgets/{adjust,reset}`), in process: which
 * scopes and periods it accepts, what it adds to the current window of each budget line, the audit event
 * of each line, and that the guard then reads the corrected spend from the store.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/backends/memory/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { FmguardConfig } from '../../src/config/resolve.ts';
import { createGuard } from '../../src/index.ts';
import { type AdjustedBudget, type BudgetAdjustment, adjustBudget } from '../../src/runtime/budget-adjust.ts';
import type { Store } from '../../src/store/store.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { ask, auditEvents, baseConfig, memoryStoreAndAudit, refusal } from './fixtures.ts';

const KEY = 'sk-test-bot-0001';
const BARE_KEY = 'sk-test-bot-0002';
/** The last millisecond of March 31st: the day and month windows both end one ms later. */
const NOW = Date.UTC(2026, 2, 31, 23, 59, 59, 999);
const DAY = '2026-03-31';
const MONTH = '2026-03';

/** Tenant acme: two day budgets and a month one; tenant bare: none. Agent bot: a month budget; agent idle: none. */
function config(): FmguardConfig {
  return parseConfig(
    baseConfig({ keys: [{ key: KEY, budgets: [{ period: 'month', maxCostUsd: 5 }] }, BARE_KEY], budgets: [{ period: 'month', maxCostUsd: 50 }] }, {
      tenants: {
        acme: {
          budgets: [
            { period: 'day', maxCostUsd: 10 },
            { period: 'day', maxCostUsd: 20 },
            { period: 'month', maxCostUsd: 100 },
          ],
        },
        bare: {},
      },
      agents: {
        bot: {
          tenant: 'acme',
          keys: [{ key: KEY, budgets: [{ period: 'month', maxCostUsd: 5 }] }, BARE_KEY],
          budgets: [{ period: 'month', maxCostUsd: 50 }],
          allow: { models: ['*'], tools: ['*'] },
        },
        idle: { tenant: 'bare', keys: ['sk-test-idle-0001'], allow: { models: ['*'], tools: ['*'] } },
      },
    } as never),
  );
}

let open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.reverse()) await close();
  open = [];
});

function setup(now = NOW) {
  const { store, sink, audit } = memoryStoreAndAudit(open);
  const cfg = config();
  const parts = { store, config: cfg, audit, now };
  return { store, sink, audit, config: cfg, parts, run: (change: BudgetAdjustment) => adjustBudget(parts, change) };
}

const events = auditEvents;

async function used(store: Store, ...keys: string[]): Promise<number[]> {
  return (
    await store.ledger.balances(
      keys.map((key) => ({ key, dim: 'cost' })),
      NOW,
    )
  ).map((b) => b.used);
}

describe('adjustBudget: scopes', () => {
  it('tenant: every distinct period the tenant has a budget for, in the window of `now`', async () => {
    const { run, store, audit, sink } = setup();
    const out = await run({ scope: 'tenant:acme', deltaUsd: 1.25, by: 'ops' });
    expect(out).toEqual<AdjustedBudget[]>([
      { scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 1.25 },
      { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 1.25 },
    ]);
    // Two day budgets, one day line: adjusted once, not twice.
    expect(await used(store, `budget:tenant:acme:day:${DAY}`, `budget:tenant:acme:month:${MONTH}`)).toEqual([1_250_000_000, 1_250_000_000]);
    expect(await events(audit, sink)).toEqual([
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.adjust',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 1.25, by: 'ops', deltaUsd: 1.25 },
      },
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.adjust',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 1.25, by: 'ops', deltaUsd: 1.25 },
      },
    ]);
  });

  it('agent: the periods of its own budgets only', async () => {
    const { run, store } = setup();
    expect(await run({ scope: 'agent:bot', deltaUsd: 2, by: 'ops' })).toEqual([
      { scope: 'agent:bot', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 2 },
    ]);
    expect(await used(store, `budget:agent:bot:month:${MONTH}`, `budget:agent:bot:day:${DAY}`)).toEqual([2_000_000_000, 0]);
  });

  it("key: a configured key's periods by its id; a key with no budgets is refused like any scope without one", async () => {
    const { run, config: cfg, store } = setup();
    const [withBudget, bare] = cfg.agents.bot!.keys;
    expect(await run({ scope: `key:${withBudget!.id}`, deltaUsd: 3, by: 'ops' })).toEqual([
      { scope: `key:${withBudget!.id}`, period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 3 },
    ]);
    expect(await used(store, `budget:key:${withBudget!.id}:month:${MONTH}`)).toEqual([3_000_000_000]);
    expect(await refusal(run({ scope: `key:${bare!.id}`, deltaUsd: 3, by: 'ops' }))).toEqual({
      code: 'request.invalid',
      message: `scope: key:${bare!.id} has no budget (give --period to adjust one anyway)`,
      details: { param: 'scope' },
    });
  });

  it('key: an id not in the config (a minted key) may have a day and a month budget of its own', async () => {
    const { run, store } = setup();
    expect(await run({ scope: 'key:mk_0123456789abcdef0123', deltaUsd: 0.5, by: 'ops' })).toEqual([
      { scope: 'key:mk_0123456789abcdef0123', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 0.5 },
      { scope: 'key:mk_0123456789abcdef0123', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 0.5 },
    ]);
    expect(await used(store, `budget:key:mk_0123456789abcdef0123:day:${DAY}`, `budget:key:mk_0123456789abcdef0123:month:${MONTH}`)).toEqual([
      500_000_000, 500_000_000,
    ]);
  });

  it('a configured key id is matched exactly, not as a prefix', async () => {
    const { run, config: cfg } = setup();
    const id = cfg.agents.bot!.keys[0]!.id;
    // Not the configured key (month only): an unknown id, so day and month.
    expect((await run({ scope: `key:${id}x`, deltaUsd: 1, by: 'ops' })).map((r) => r.period)).toEqual(['day', 'month']);
  });

  it.each([
    ['', ''],
    ['acme', 'acme'],
    ['tenant', 'tenant'],
    ['tenant:', 'tenant:'],
    ['agent:', 'agent:'],
    ['key:', 'key:'],
    ['team:acme', 'team:acme'],
    ['xtenant:acme', 'xtenant:acme'],
    ['tenant:acme\nx', 'tenant:acme\nx'],
    [':acme', ':acme'],
    ['Tenant:acme', 'Tenant:acme'],
  ])('a scope %j is refused, naming the forms accepted', async (scope, shown) => {
    const { run, store, audit, sink } = setup();
    expect(await refusal(run({ scope, deltaUsd: 1, by: 'ops' }))).toEqual({
      code: 'request.invalid',
      message: `scope: expected tenant:<name>, agent:<name> or key:<key id>, got "${shown}"`,
      details: { param: 'scope' },
    });
    expect(await used(store, `budget:tenant:acme:day:${DAY}`)).toEqual([0]);
    expect(await events(audit, sink)).toEqual([]);
  });

  it('a one-letter name is a name', async () => {
    const { run, config: cfg } = setup();
    cfg.tenants.a = { name: 'a', budgets: [{ period: 'day', maxCostUsd: 1 }], rateLimits: {} };
    expect(await run({ scope: 'tenant:a', deltaUsd: 1, by: 'ops' })).toEqual([{ scope: 'tenant:a', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 1 }]);
  });

  it.each([
    ['tenant:nobody', 'scope: no tenant "nobody" in the config'],
    ['agent:nobody', 'scope: no agent "nobody" in the config'],
    ['agent:acme', 'scope: no agent "acme" in the config'],
    ['tenant:bot', 'scope: no tenant "bot" in the config'],
    ['tenant:a:b', 'scope: no tenant "a:b" in the config'],
  ])('an unknown name (%s) is refused', async (scope, message) => {
    const { run, store, audit, sink } = setup();
    expect(await refusal(run({ scope, deltaUsd: 1, by: 'ops', period: 'day' }))).toEqual({ code: 'request.invalid', message, details: { param: 'scope' } });
    expect(await used(store, `budget:${scope}:day:${DAY}`)).toEqual([0]);
    expect(await events(audit, sink)).toEqual([]);
  });

  it('a scope with no budget is refused without --period, and adjusted in the period given with it', async () => {
    const { run, store, audit, sink } = setup();
    for (const scope of ['tenant:bare', 'agent:idle']) {
      expect(await refusal(run({ scope, deltaUsd: 1, by: 'ops' }))).toEqual({
        code: 'request.invalid',
        message: `scope: ${scope} has no budget (give --period to adjust one anyway)`,
        details: { param: 'scope' },
      });
    }
    expect(await events(audit, sink)).toEqual([]);
    expect(await run({ scope: 'tenant:bare', period: 'day', deltaUsd: 4, by: 'ops' })).toEqual([
      { scope: 'tenant:bare', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 4 },
    ]);
    expect(await run({ scope: 'agent:idle', period: 'month', deltaUsd: 5, by: 'ops' })).toEqual([
      { scope: 'agent:idle', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 5 },
    ]);
    expect(await used(store, `budget:tenant:bare:day:${DAY}`, `budget:tenant:bare:month:${MONTH}`, `budget:agent:idle:month:${MONTH}`)).toEqual([
      4_000_000_000, 0, 5_000_000_000,
    ]);
  });

  it('a period given narrows a scope that has budgets in several to that one', async () => {
    const { run, store } = setup();
    expect(await run({ scope: 'tenant:acme', period: 'month', deltaUsd: 1, by: 'ops' })).toEqual([
      { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 1 },
    ]);
    // A period the scope has no budget for is still adjusted when asked for.
    expect(await run({ scope: 'agent:bot', period: 'day', deltaUsd: 2, by: 'ops' })).toEqual([
      { scope: 'agent:bot', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 2 },
    ]);
    expect(await used(store, `budget:tenant:acme:day:${DAY}`, `budget:tenant:acme:month:${MONTH}`, `budget:agent:bot:day:${DAY}`)).toEqual([
      0, 1_000_000_000, 2_000_000_000,
    ]);
  });
});

describe('adjustBudget: amounts', () => {
  it.each([
    ['missing', undefined],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['a string', '5' as unknown as number],
    ['null', null as unknown as number],
  ])('deltaUsd %s is refused (nothing adjusted, nothing audited)', async (_, deltaUsd) => {
    const { run, store, audit, sink } = setup();
    expect(await refusal(run({ scope: 'tenant:acme', deltaUsd, by: 'ops' }))).toEqual({
      code: 'request.invalid',
      message: 'deltaUsd: expected an amount in USD (negative to credit)',
      details: { param: 'deltaUsd' },
    });
    expect(await used(store, `budget:tenant:acme:day:${DAY}`, `budget:tenant:acme:month:${MONTH}`)).toEqual([0, 0]);
    expect(await events(audit, sink)).toEqual([]);
  });

  it('a bad scope is named before a bad amount', async () => {
    const { run } = setup();
    expect((await refusal(run({ scope: 'tenant:nobody', by: 'ops' }))).details).toEqual({ param: 'scope' });
    expect((await refusal(run({ scope: 'tenant:bare', by: 'ops' }))).details).toEqual({ param: 'scope' });
  });

  it('adds a positive delta, credits a negative one (exact to the nano-dollar), never below 0', async () => {
    const { run, store } = setup();
    const day = (deltaUsd: number) => run({ scope: 'tenant:acme', period: 'day', deltaUsd, by: 'ops' });
    expect(await day(0.1234567891)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 0.123456789 }]);
    expect(await used(store, `budget:tenant:acme:day:${DAY}`)).toEqual([123_456_789]);
    expect(await day(2)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 0.123456789, afterUsd: 2.123456789 }]);
    // A half nano-dollar credit rounds away from zero, as the same debit would: -2 nano, not -1.
    expect(await day(-1.5e-9)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 2.123456789, afterUsd: 2.123456787 }]);
    expect(await used(store, `budget:tenant:acme:day:${DAY}`)).toEqual([2_123_456_787]);
    expect(await day(1.5e-9)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 2.123456787, afterUsd: 2.123456789 }]);
    expect(await day(-0.123456789)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 2.123456789, afterUsd: 2 }]);
    expect(await day(0)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 2, afterUsd: 2 }]);
    expect(await day(-5)).toEqual([{ scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 2, afterUsd: 0 }]);
    expect(await used(store, `budget:tenant:acme:day:${DAY}`, `budget:tenant:acme:month:${MONTH}`)).toEqual([0, 0]);
  });

  it('reset sets the window to 0 whatever it held, needs no amount, and ignores one given', async () => {
    const { run, store, audit, sink } = setup();
    await run({ scope: 'tenant:acme', deltaUsd: 7.5, by: 'ops' });
    expect(await run({ scope: 'tenant:acme', reset: true, by: 'alice', reason: 'refund' })).toEqual([
      { scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 7.5, afterUsd: 0 },
      { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: 7.5, afterUsd: 0 },
    ]);
    expect(await used(store, `budget:tenant:acme:day:${DAY}`, `budget:tenant:acme:month:${MONTH}`)).toEqual([0, 0]);
    // A reset of an empty window stays at 0; an amount given beside reset is neither applied nor audited.
    expect(await run({ scope: 'tenant:acme', period: 'day', reset: true, deltaUsd: 5, by: 'bob', reason: '' })).toEqual([
      { scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 0 },
    ]);
    // The largest spend a store can hold is still reset to 0.
    await store.ledger.adjust(`budget:tenant:acme:month:${MONTH}`, 'cost', Number.MAX_SAFE_INTEGER);
    expect(await run({ scope: 'tenant:acme', period: 'month', reset: true, by: 'bob' })).toEqual([
      { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: Number.MAX_SAFE_INTEGER / 1e9, afterUsd: 0 },
    ]);
    expect((await events(audit, sink)).slice(2)).toEqual([
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.reset',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 7.5, afterUsd: 0, by: 'alice', reason: 'refund' },
      },
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.reset',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: 7.5, afterUsd: 0, by: 'alice', reason: 'refund' },
      },
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.reset',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'day', window: DAY, beforeUsd: 0, afterUsd: 0, by: 'bob' },
      },
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.reset',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: Number.MAX_SAFE_INTEGER / 1e9, afterUsd: 0, by: 'bob' },
      },
    ]);
  });

  it('reset: false is an adjustment and needs an amount', async () => {
    const { run, audit, sink } = setup();
    expect((await refusal(run({ scope: 'agent:bot', reset: false, by: 'ops' }))).message).toBe('deltaUsd: expected an amount in USD (negative to credit)');
    await run({ scope: 'agent:bot', reset: false, deltaUsd: -1, by: 'ops', reason: 'credit' });
    expect(await events(audit, sink)).toEqual([
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.adjust',
        resource: 'agent:bot',
        details: { scope: 'agent:bot', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 0, by: 'ops', reason: 'credit', deltaUsd: -1 },
      },
    ]);
  });
});

describe('adjustBudget: windows', () => {
  it('adjusts the window `now` falls in: a new day and a new month start at UTC midnight exactly', async () => {
    const { run, store, parts } = setup();
    await run({ scope: 'tenant:acme', deltaUsd: 1, by: 'ops' });
    const next = { ...parts, now: NOW + 1 };
    expect(await adjustBudget(next, { scope: 'tenant:acme', deltaUsd: 2, by: 'ops' })).toEqual([
      { scope: 'tenant:acme', period: 'day', window: '2026-04-01', beforeUsd: 0, afterUsd: 2 },
      { scope: 'tenant:acme', period: 'month', window: '2026-04', beforeUsd: 0, afterUsd: 2 },
    ]);
    expect(
      await used(
        store,
        `budget:tenant:acme:day:${DAY}`,
        `budget:tenant:acme:month:${MONTH}`,
        'budget:tenant:acme:day:2026-04-01',
        'budget:tenant:acme:month:2026-04',
      ),
    ).toEqual([1_000_000_000, 1_000_000_000, 2_000_000_000, 2_000_000_000]);
  });
});

describe('adjustBudget: audit', () => {
  it('without an audit log it still adjusts', async () => {
    const { store, config: cfg } = setup();
    expect(await adjustBudget({ store, config: cfg, now: NOW }, { scope: 'agent:bot', deltaUsd: 1, by: 'ops' })).toEqual([
      { scope: 'agent:bot', period: 'month', window: MONTH, beforeUsd: 0, afterUsd: 1 },
    ]);
    expect(await used(store, `budget:agent:bot:month:${MONTH}`)).toEqual([1_000_000_000]);
  });

  it('records `by`, the reason when one is given, and the delta as asked (not rounded)', async () => {
    const { run, audit, sink } = setup();
    await run({ scope: 'tenant:acme', period: 'month', deltaUsd: 0.1234567891, by: 'carol', reason: 'missed invoice' });
    await run({ scope: 'tenant:acme', period: 'month', deltaUsd: 1, by: 'dave', reason: '' });
    expect(await events(audit, sink)).toEqual([
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.adjust',
        resource: 'tenant:acme',
        details: {
          scope: 'tenant:acme',
          period: 'month',
          window: MONTH,
          beforeUsd: 0,
          afterUsd: 0.123456789,
          by: 'carol',
          reason: 'missed invoice',
          deltaUsd: 0.1234567891,
        },
      },
      {
        type: 'admin.action',
        time: NOW,
        action: 'budget.adjust',
        resource: 'tenant:acme',
        details: { scope: 'tenant:acme', period: 'month', window: MONTH, beforeUsd: 0.123456789, afterUsd: 1.123456789, by: 'dave', deltaUsd: 1 },
      },
    ]);
    expect(Object.keys(sink.events[1]!.details!)).toEqual(['scope', 'period', 'window', 'beforeUsd', 'afterUsd', 'by', 'deltaUsd']);
  });
});

describe('adjustBudget: the guard reads the adjusted spend', () => {
  it("a tenant's day budget filled by an adjustment refuses the next call; a reset admits it again", async () => {
    const store = createMemoryStore();
    const clock = new FakeClock(Date.UTC(2026, 5, 15, 12));
    const guard = createGuard({
      config: baseConfig({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 1 }] } } } as never),
      store,
      clock,
    });
    open.push(
      () => store.close(),
      () => guard.close(),
    );
    const cfg = parseConfig(baseConfig({}, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 1 }] } } } as never));
    const parts = { store, config: cfg, now: clock.now() };
    const run = await guard.startRun({ agent: 'bot' });
    await run.callModel(ask('before'));
    const [spent] = await used(store, 'budget:tenant:acme:day:2026-06-15');
    expect(spent).toBeGreaterThan(0);

    const [line] = await adjustBudget(parts, { scope: 'tenant:acme', deltaUsd: 1, by: 'ops' });
    expect(line).toEqual({ scope: 'tenant:acme', period: 'day', window: '2026-06-15', beforeUsd: spent! / 1e9, afterUsd: spent! / 1e9 + 1 });
    const refused = await refusal(run.callModel(ask('after the adjustment')));
    expect(refused.code).toBe('budget.exhausted');
    expect(refused.details).toMatchObject({ scope: 'tenant:acme' });

    expect(await adjustBudget(parts, { scope: 'tenant:acme', reset: true, by: 'ops' })).toEqual([
      { scope: 'tenant:acme', period: 'day', window: '2026-06-15', beforeUsd: spent! / 1e9 + 1, afterUsd: 0 },
    ]);
    await expect(run.callModel(ask('after the reset'))).resolves.toBeTruthy();
  });
});
