import { afterEach, describe, expect, it } from 'vitest';
import { guardError, type GuardError } from '../../src/core/errors.ts';
import { createGuard, type GuardEvent } from '../../src/index.ts';
import { admitCall, afterRefusal } from '../../src/runtime/admission.ts';
import type { AuditLog } from '../../src/audit/index.ts';
import type { GuardContext } from '../../src/runtime/context.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { baseConfig, recordingAuthorizer } from './fixtures.ts';

/**
 * Issue 20: src/runtime/admission.ts pinned exactly — the order of the checks every call passes (a dead
 * or timed-out run, then the audit gate, then the kill switch, then the policy; each one short-circuits
 * the rest, and the policy context is only built when the policy is asked), the exact refusals, and
 * which refusals end the run (`afterRefusal`). Through the module's exports with the guard's real
 * context and run handle, an Authorizer that records its requests, and a FakeClock.
 */
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function setup({ deny = [] as string[], approval = [] as string[] } = {}) {
  const clock = new FakeClock(T0);
  const { authorizer, requests } = recordingAuthorizer(deny, approval);
  const guard = createGuard({ config: baseConfig({ limits: { maxDurationMs: 60_000 } }), clock, authorizer, audit: false });
  closers.push(() => guard.close());
  const events: GuardEvent[] = [];
  guard.on((e) => {
    if (e.type === 'run.stopped' || e.type === 'call.refused') events.push(e);
  });
  const run = await guard.startRun({ agent: 'bot' });
  requests.length = 0;
  /** The policy context, counting how often it is built. */
  const built: number[] = [];
  const context = () => {
    built.push(built.length + 1);
    return { n: 7 };
  };
  return { clock, guard, ctx: guard.ctx as GuardContext, run, handle: run.handle, requests, events, built, context };
}

const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    const error = e as GuardError;
    return { code: error.code, message: error.message, details: error.details };
  }
  throw new Error('expected a throw');
};

const gate = (admitting: boolean) => ({ admitting }) as unknown as AuditLog;
const killed = (scope: string, reason: string) => () => ({ scope, reason });

describe('admitCall: the policy', () => {
  it('allow: the decision comes back as the authorizer gave it, asked once with the run principal, action, resource and the built context', async () => {
    const { ctx, handle, requests, built, context } = await setup();
    expect(admitCall(ctx, handle, 'invokeModel', 'sim-small', context)).toEqual({ effect: 'allow', policies: ['allow-all'] });
    expect(requests).toEqual([{ agent: 'bot', tenant: 'acme', action: 'invokeModel', resource: 'sim-small', context: { n: 7 } }]);
    expect(built).toEqual([1]);
  });

  it('approval is not a refusal: the decision is returned for the caller to act on', async () => {
    const { ctx, handle, context, requests } = await setup({ approval: ['files.write'] });
    expect(admitCall(ctx, handle, 'callTool', 'files.write', context)).toEqual({ effect: 'approval', policies: ['needs-ok'] });
    expect(requests.map((r) => r.action)).toEqual(['callTool']);
  });

  it('deny on a model: policy.denied "bot may not use model …" with the policies and the resource', async () => {
    const { ctx, handle, context } = await setup({ deny: ['sim-pricey'] });
    expect(thrown(() => admitCall(ctx, handle, 'invokeModel', 'sim-pricey', context))).toEqual({
      code: 'policy.denied',
      message: 'bot may not use model sim-pricey',
      details: { policies: ['no-sim-pricey'], resource: 'sim-pricey' },
    });
  });

  it('deny on a tool: policy.denied "bot may not call tool …"; the run goes on (policy.denied is not terminal)', async () => {
    const { ctx, handle, context, events } = await setup({ deny: ['files.delete'] });
    expect(thrown(() => admitCall(ctx, handle, 'callTool', 'files.delete', context))).toEqual({
      code: 'policy.denied',
      message: 'bot may not call tool files.delete',
      details: { policies: ['no-files.delete'], resource: 'files.delete' },
    });
    expect(handle.stopped).toBeUndefined();
    expect(admitCall(ctx, handle, 'callTool', 'files.read', context)).toEqual({ effect: 'allow', policies: ['allow-all'] });
    expect(events).toEqual([]);
  });

  it('without an authorizer nothing is asked, the context is not built, and the answer is undefined', async () => {
    const { ctx, handle, context, built, requests } = await setup({ deny: ['sim-small'] });
    expect(admitCall({ ...ctx, authorizer: undefined }, handle, 'invokeModel', 'sim-small', context)).toBeUndefined();
    expect(built).toEqual([]);
    expect(requests).toEqual([]);
  });
});

describe('admitCall: the audit gate', () => {
  it('an audit log that is not admitting refuses with store.unavailable (auditGate), before the kill switch and the policy', async () => {
    const { ctx, handle, context, built, requests } = await setup({ deny: ['sim-small'] });
    const full = { ...ctx, audit: gate(false), killedBy: killed('agent:bot', 'incident') };
    expect(thrown(() => admitCall(full, handle, 'invokeModel', 'sim-small', context))).toEqual({
      code: 'store.unavailable',
      message: 'the audit log is full (its sink is unreachable and the spool reached its bound): calls wait until it drains',
      details: { auditGate: true },
    });
    expect(built).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('an admitting audit log, or none at all, lets the call through', async () => {
    const { ctx, handle, context } = await setup();
    expect(admitCall({ ...ctx, audit: gate(true) }, handle, 'invokeModel', 'sim-small', context)).toEqual({ effect: 'allow', policies: ['allow-all'] });
    expect(ctx.audit).toBeUndefined();
    expect(admitCall(ctx, handle, 'invokeModel', 'sim-small', context)).toEqual({ effect: 'allow', policies: ['allow-all'] });
  });
});

describe('admitCall: the kill switch', () => {
  it('a kill switch covering the run refuses with kill.switch naming its scope and reason, before the policy', async () => {
    const { ctx, handle, context, built, requests } = await setup({ deny: ['sim-small'] });
    expect(thrown(() => admitCall({ ...ctx, killedBy: killed('tenant:acme', 'incident 7') }, handle, 'invokeModel', 'sim-small', context))).toEqual({
      code: 'kill.switch',
      message: 'stopped by the kill switch on tenant:acme: incident 7',
      details: { scope: 'tenant:acme', runId: handle.id },
    });
    expect(built).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('through the guard: a kill on the agent stops the run, and its next admission throws that stop', async () => {
    const { guard, ctx, handle, context, events } = await setup();
    await guard.kill('agent:bot', 'incident 8');
    const stop = handle.stopped!;
    expect({ code: stop.code, message: stop.message, details: stop.details }).toEqual({
      code: 'kill.switch',
      message: 'stopped by the kill switch on agent:bot: incident 8',
      details: { scope: 'agent:bot', runId: handle.id },
    });
    expect(() => admitCall(ctx, handle, 'invokeModel', 'sim-small', context)).toThrow(stop);
    expect(events).toEqual([
      {
        type: 'run.stopped',
        at: T0,
        runId: handle.id,
        agent: 'bot',
        tenant: 'acme',
        code: 'kill.switch',
        reason: 'stopped by the kill switch on agent:bot: incident 8',
      },
    ]);
  });
});

describe('admitCall: a dead run is checked first', () => {
  it('a stopped run throws its stop, before the audit gate, the kill switch and the policy', async () => {
    const { ctx, handle, context, built, requests } = await setup({ deny: ['sim-small'] });
    const stop = guardError('loop.repeated_tool_call', 'looping', { limit: 1 });
    await afterRefusal(ctx, handle, stop);
    const everything = { ...ctx, audit: gate(false), killedBy: killed('global', 'all off') };
    let caught: unknown;
    try {
      admitCall(everything, handle, 'invokeModel', 'sim-small', context);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(stop);
    expect(built).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('a run at its wall time is stopped by its timer (fake clock); admission throws that limit.duration, before the audit gate', async () => {
    const { ctx, handle, context, clock } = await setup();
    await clock.advance(59_999);
    expect(admitCall(ctx, handle, 'invokeModel', 'sim-small', context)).toEqual({ effect: 'allow', policies: ['allow-all'] });
    await clock.advance(1);
    expect(thrown(() => admitCall({ ...ctx, audit: gate(false) }, handle, 'invokeModel', 'sim-small', context))).toEqual({
      code: 'limit.duration',
      message: `run ${handle.id} reached its wall-time limit of 60000 ms`,
      details: { runId: handle.id, limit: 60_000 },
    });
  });
});

describe('afterRefusal', () => {
  it('a refusal that is not terminal is returned as is and the run goes on', async () => {
    const { ctx, handle, events } = await setup();
    const denied = guardError('policy.denied', 'no', { resource: 'x' });
    expect(await afterRefusal(ctx, handle, denied)).toBe(denied);
    expect(handle.stopped).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('a terminal refusal stops the run with it (run.stopped with the exact code and reason) and is returned', async () => {
    const { ctx, handle, events, clock, guard } = await setup();
    await clock.advance(5_000);
    const loop = guardError('loop.repeated_tool_call', 'the model proposed search with the same arguments for the 3th time', { limit: 2, used: 3 });
    expect(await afterRefusal(ctx, handle, loop)).toBe(loop);
    expect(handle.stopped).toBe(loop);
    expect(events).toEqual([
      {
        type: 'run.stopped',
        at: T0 + 5_000,
        runId: handle.id,
        agent: 'bot',
        tenant: 'acme',
        code: 'loop.repeated_tool_call',
        reason: 'the model proposed search with the same arguments for the 3th time',
      },
    ]);
    expect(await guard.store.runs.get(handle.id)).toMatchObject({ status: 'stopped', stopCode: 'loop.repeated_tool_call', endedAt: T0 + 5_000 });
  });

  it("a run's own stop given back again changes nothing (no second run.stopped)", async () => {
    const { ctx, handle, events } = await setup();
    const loop = guardError('loop.repeated_tool_call', 'looping');
    await afterRefusal(ctx, handle, loop);
    expect(await afterRefusal(ctx, handle, loop)).toBe(loop);
    expect(events).toHaveLength(1);
  });

  it('another terminal refusal on a run already stopped returns the first stop, which stays', async () => {
    const { ctx, handle, events } = await setup();
    const first = guardError('kill.switch', 'stopped by the kill switch on global: x', { scope: 'global' });
    const second = guardError('limit.duration', 'late', {});
    await afterRefusal(ctx, handle, first);
    expect(await afterRefusal(ctx, handle, second)).toBe(first);
    expect(handle.stopped).toBe(first);
    expect(events.map((e) => e.type === 'run.stopped' && e.code)).toEqual(['kill.switch']);
  });

  it('through Run.refuse: a terminal refusal stops the run and is reported as call.refused on the tool', async () => {
    const { run, events } = await setup();
    const loop = guardError('loop.repeated_tool_call', 'looping', { tool: 'search', limit: 1, used: 2 });
    expect(await run.refuse(loop)).toBe(loop);
    expect(events).toEqual([
      { type: 'run.stopped', at: T0, runId: run.id, agent: 'bot', tenant: 'acme', code: 'loop.repeated_tool_call', reason: 'looping' },
      {
        type: 'call.refused',
        at: T0,
        runId: run.id,
        agent: 'bot',
        tenant: 'acme',
        keyId: undefined,
        action: 'callTool',
        resource: 'search',
        code: 'loop.repeated_tool_call',
        message: 'looping',
        details: { tool: 'search', limit: 1, used: 2 },
      },
    ]);
  });
});
