/**
 * Guard.reload / swapConfig (what changed is reported and audited; a bad config, or one that changes
 * the store or the providers, is refused and the old one keeps serving), runs held across a reload
 * (an agent removed, an agent moved to another tenant), and Guard.modelsFor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/index.ts';
import { type AuthorizeRequest, type Authorizer, createGuard, type GuardEvent, parseConfig } from '../../src/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { loadCheckedConfig } from '../../src/wiring/check-config.ts';
import { ask, baseConfig } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1, 9);
const dir = mkdtempSync(join(tmpdir(), 'fmguard-guard-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** An audit log that keeps what it is given. */
function auditLog() {
  const records: Array<Record<string, unknown>> = [];
  const log = {
    admitting: true,
    pending: 0,
    record: (event: Record<string, unknown>) => records.push(event),
    flush: async () => {},
    close: async () => {},
  } as unknown as AuditLog;
  return { log, actions: () => records.filter((r) => r.type === 'admin.action') };
}

function write(file: string, config: unknown): void {
  writeFileSync(file, JSON.stringify(config, null, 2));
}

function start(config: unknown) {
  const file = join(dir, `fmguard-${files++}.yaml`);
  write(file, config);
  const clock = new FakeClock(T0);
  const audit = auditLog();
  const guard = createGuard({ config: loadCheckedConfig(file), configFile: file, clock, audit: audit.log });
  return { file, clock, guard, audit };
}

describe('reload', () => {
  it('a guard not started from a file has nothing to reload; the refusal is audited', async () => {
    const audit = auditLog();
    const guard = createGuard({ config: baseConfig(), clock: new FakeClock(T0), audit: audit.log });
    const message = 'this guard was not started from a config file: there is nothing to reload';
    expect(() => guard.reload()).toThrow(expect.objectContaining({ code: 'request.invalid', message }));
    expect(audit.actions()).toEqual([
      { type: 'admin.action', time: T0, action: 'config.reload', resource: 'config', details: { by: 'operator', ok: false, error: message } },
    ]);
    await guard.close();
    // Without an audit log the refusal is the same.
    const quiet = createGuard({ config: baseConfig(), audit: false });
    expect(() => quiet.reload('ops')).toThrow(expect.objectContaining({ code: 'request.invalid', message }));
    await quiet.close();
  });

  it('swaps the config in, reports the sections that changed and those read only at start, audited with who asked', async () => {
    const { file, clock, guard, audit } = start(baseConfig());
    const before = await guard.startRun({ agent: 'bot', id: 'before' });
    await clock.advance(10);
    write(file, baseConfig({ limits: { maxSteps: 1 } }, { server: { port: 9999 } } as never));
    expect(guard.reload('alice')).toEqual({ at: T0 + 10, changed: ['agents', 'server'], restartOnly: ['server'] });
    expect(audit.actions()).toEqual([
      {
        type: 'admin.action',
        time: T0 + 10,
        action: 'config.reload',
        resource: 'config',
        details: { by: 'alice', ok: true, changed: ['agents', 'server'], restartOnly: ['server'] },
      },
    ]);
    expect(guard.config.server.port).toBe(9999);
    // A new run is decided under the new limits; the run started before keeps its own.
    const after = await guard.startRun({ agent: 'bot', id: 'after' });
    await after.callModel(ask('one'));
    await expect(after.callModel(ask('two'))).rejects.toMatchObject({ code: 'limit.steps' });
    await before.callModel(ask('one'));
    await expect(before.callModel(ask('two'))).resolves.toBeTruthy();
    // Nothing changed: nothing to report.
    expect(guard.reload()).toEqual({ at: T0 + 10, changed: [], restartOnly: [] });
    await guard.close();
  });

  it('refuses a change of store or providers, and a bad file; the old config keeps serving', async () => {
    const { file, guard, audit } = start(baseConfig());
    const old = guard.config;
    write(file, baseConfig({}, { store: { kind: 'sqlite', path: join(dir, 'other.db') } } as never));
    const store = 'store: the store (its kind and location) cannot change while fmguard runs; restart it to use the new store';
    expect(() => guard.reload()).toThrow(expect.objectContaining({ code: 'request.invalid', message: store, details: { param: 'store' } }));
    write(file, baseConfig({}, { providers: { sim: { kind: 'simulated' }, sim2: { kind: 'simulated' } } } as never));
    const providers = 'providers: the providers cannot change while fmguard runs; restart it to use the new providers';
    expect(() => guard.reload()).toThrow(expect.objectContaining({ code: 'request.invalid', message: providers, details: { param: 'providers' } }));
    writeFileSync(file, 'agents:\n  bot:\n    tenant: 42\n');
    const bad = (() => {
      try {
        guard.reload();
      } catch (error) {
        return error as Error;
      }
    })();
    expect(bad?.message).toMatch(/tenant/);
    expect(audit.actions().map((a) => a.details)).toEqual([
      { by: 'operator', ok: false, error: store },
      { by: 'operator', ok: false, error: providers },
      { by: 'operator', ok: false, error: bad?.message.slice(0, 2000) },
    ]);
    expect(guard.config).toBe(old);
    const run = await guard.startRun({ agent: 'bot' });
    await expect(run.callModel(ask('still served'))).resolves.toBeTruthy();
    await guard.close();
  });

  it('a refusal longer than 2000 characters is audited cut to 2000', async () => {
    const { file, guard, audit } = start(baseConfig());
    const long = `x${'y'.repeat(3000)}`;
    write(file, baseConfig({}, { models: { [long]: { provider: 'nope' } } } as never));
    const error = (() => {
      try {
        guard.reload();
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error!.message.length).toBeGreaterThan(2000);
    expect(audit.actions().map((a) => (a.details as { error: string }).error)).toEqual([error!.message.slice(0, 2000)]);
    await guard.close();
  });

  it("swapConfig: the new policy layer's events reach the guard's listeners; who defaults to operator", async () => {
    const audit = auditLog();
    const guard = createGuard({ config: baseConfig(), clock: new FakeClock(T0), audit: audit.log });
    const events: GuardEvent[] = [];
    guard.on((e) => events.push(e));
    let emit: ((event: GuardEvent) => void) | undefined;
    const next = parseConfig(baseConfig({ limits: { maxSteps: 3 } }));
    const result = guard.swapConfig({
      config: next,
      authorizer: (e) => {
        emit = e;
        return { authorize: () => ({ effect: 'allow', policies: [] }) };
      },
    });
    expect(result).toEqual({ at: T0, changed: ['agents'], restartOnly: [] });
    expect(guard.config).toBe(next);
    emit!({ type: 'kill', at: T0, scope: 'global', on: false });
    expect(events).toEqual([{ type: 'kill', at: T0, scope: 'global', on: false }]);
    expect(audit.actions().map((a) => a.details)).toEqual([{ by: 'operator', ok: true, changed: ['agents'], restartOnly: [] }]);
    await guard.close();
  });

  it('swapConfig works without an audit log', async () => {
    const guard = createGuard({ config: baseConfig(), clock: new FakeClock(T0), audit: false });
    const next = parseConfig(baseConfig({ limits: { maxSteps: 3 } }));
    expect(guard.swapConfig({ config: next, authorizer: () => ({ authorize: () => ({ effect: 'allow', policies: [] }) }) }, 'ops')).toEqual({
      at: T0,
      changed: ['agents'],
      restartOnly: [],
    });
    expect(guard.config).toBe(next);
    await guard.close();
  });
});

describe('runs held across a reload', () => {
  const agents = (withBoss: boolean) => ({
    bot: { tenant: 'acme', keys: ['sk-test-bot-0001'], allow: { models: ['*'] }, limits: { maxDepth: 5 }, ...(withBoss ? { delegatesTo: ['boss'] } : {}) },
    ...(withBoss ? { boss: { tenant: 'acme', keys: ['sk-test-boss-001'], allow: { models: ['*'] }, limits: { maxDepth: 1 }, delegatesTo: ['bot'] } } : {}),
  });

  it('an ancestor whose agent was removed no longer limits a sub-run, and does not break it', async () => {
    const { file, guard } = start(baseConfig({}, { agents: agents(true) } as never));
    const root = await guard.startRun({ agent: 'boss', id: 'root' });
    const mid = await root.subRun({ agent: 'bot', id: 'mid' });
    write(file, baseConfig({}, { agents: agents(false) } as never));
    expect(guard.reload().changed).toEqual(['agents']);
    // Depth 2 is two below root: boss (limit 1) would refuse it, but boss is gone.
    const low = await guard.startRun({ agent: 'bot', id: 'low', parentId: 'mid' });
    expect(await guard.store.runs.get('low@bot')).toMatchObject({ ancestors: ['mid@bot', 'root@boss'], depth: 2 });
    await low.callModel(ask('x'));
    expect([(await low.usage()).steps, (await mid.usage()).steps]).toEqual([1, 1]);
    await guard.close();
  });

  it("an agent moved to another tenant: its held run still calls, and cannot parent the agent's new runs", async () => {
    const { file, guard } = start(baseConfig());
    const held = await guard.startRun({ agent: 'bot', id: 'held' });
    write(file, baseConfig({ tenant: 'beta' }, { tenants: { beta: {} } } as never));
    expect(guard.reload().changed).toEqual(['agents', 'tenants']);
    await expect(held.callModel(ask('x'))).resolves.toBeTruthy();
    await expect(guard.startRun({ agent: 'bot', parentId: 'held' })).rejects.toMatchObject({
      code: 'auth.invalid',
      message: 'parent run held@bot belongs to another tenant',
      details: { runId: 'held@bot' },
    });
    await guard.close();
  });

  it("a held run's next call counts against the budgets the reload put in service, not the lines it cached", async () => {
    const roomy = baseConfig({ budgets: [{ period: 'month', maxCostUsd: 50 }] }, {
      tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 10 }] } },
    } as never);
    const { file, clock, guard } = start(roomy);
    const held = await guard.startRun({ agent: 'bot', id: 'held' });
    // The first call caches the run's budget lines until the day ends (hours away on this clock).
    await expect(held.callModel(ask('cached'))).resolves.toBeTruthy();
    await clock.advance(1_000);

    // The tenant's day budget cut to almost nothing: the held run's next call is refused by it.
    write(
      file,
      baseConfig({ budgets: [{ period: 'month', maxCostUsd: 50 }] }, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 0.000001 }] } } } as never),
    );
    expect(guard.reload().changed).toEqual(['tenants']);
    await expect(held.callModel(ask('after the tenant cut'))).rejects.toMatchObject({ code: 'budget.exhausted', details: { scope: 'tenant:acme' } });

    // The agent's month budget cut instead (the tenant's back): refused by the agent's line.
    write(
      file,
      baseConfig({ budgets: [{ period: 'month', maxCostUsd: 0.000001 }] }, { tenants: { acme: { budgets: [{ period: 'day', maxCostUsd: 10 }] } } } as never),
    );
    expect(guard.reload().changed).toEqual(['agents', 'tenants']);
    await expect(held.callModel(ask('after the agent cut'))).rejects.toMatchObject({ code: 'budget.exhausted', details: { scope: 'agent:bot' } });

    // Both budgets removed: the held run calls again, charged to no budget account.
    write(file, baseConfig());
    guard.reload();
    const before = await guard.store.ledger.balances([{ key: 'budget:agent:bot:month:2026-01', dim: 'cost' }], clock.now());
    await expect(held.callModel(ask('no budgets'))).resolves.toBeTruthy();
    expect(await guard.store.ledger.balances([{ key: 'budget:agent:bot:month:2026-01', dim: 'cost' }], clock.now())).toEqual(before);
    await guard.close();
  });
});

describe('modelsFor', () => {
  it("lists the models the agent's policy allows, asking with a one-token, non-streaming call at the current hour", async () => {
    const asked: AuthorizeRequest[] = [];
    const authorizer: Authorizer = {
      authorize: (request) => {
        asked.push(request);
        return { effect: request.resource === 'sim-pricey' ? 'deny' : 'allow', policies: [] };
      },
    };
    const guard = createGuard({ config: baseConfig(), clock: new FakeClock(Date.UTC(2026, 0, 1, 13, 30)), authorizer });
    expect(guard.modelsFor('bot')).toEqual(['sim-small']);
    const context = { maxTokens: 1, stream: false, runSteps: 0, runCostNanoUsd: 0, runDepth: 0, hourUtc: 13 };
    expect(asked).toEqual([
      { agent: 'bot', tenant: 'acme', action: 'invokeModel', resource: 'sim-small', context },
      { agent: 'bot', tenant: 'acme', action: 'invokeModel', resource: 'sim-pricey', context },
    ]);
    expect(guard.modelsFor('nobody')).toEqual([]);
    expect(asked).toHaveLength(2);
    await guard.close();
  });
});
