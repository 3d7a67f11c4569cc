/**
 * src/runtime/upstream.ts on its own: the request as sent upstream, how anything an attempt threw
 * maps to a stop code and a GuardError (retries spent, the retry budget's cap), attempt controllers,
 * the retry options of a model call and the upstream request id kept for the audit. Exact values.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/core/chat.ts';
import { guardError } from '../../src/core/errors.ts';
import { faultOf, markInternal } from '../../src/core/fault.ts';
import { ProviderError } from '../../src/providers/provider.ts';
import type { GuardContext } from '../../src/runtime/context.ts';
import type { Prepared, Reserved } from '../../src/runtime/model-types.ts';
import type { RunHandle } from '../../src/runtime/run-handle.ts';
import { attemptController, codeOf, retryOptions, toGuardError, upstreamMeta, upstreamRequest } from '../../src/runtime/upstream.ts';

const OUTCOME = Symbol.for('fmguard.retryOutcome');
function withOutcome<E extends object>(err: E, reason: string, attempts: number): E {
  Object.defineProperty(err, OUTCOME, { value: { reason, attempts }, configurable: true, enumerable: false });
  return err;
}

function prepared(request: ChatRequest, model: { name: string; upstreamModel?: string } = { name: 'm' }, maxTokens = 100): Prepared {
  return { request, model, maxTokens } as unknown as Prepared;
}

describe('upstreamRequest', () => {
  it('keeps max_completion_tokens when the caller used it, clamped', () => {
    const out = upstreamRequest(prepared({ model: 'm', messages: [], max_completion_tokens: 5000 }, { name: 'm', upstreamModel: 'up' }, 64), false);
    expect(out).toEqual({ model: 'up', messages: [], max_completion_tokens: 64, stream: false });
  });
  it('sets max_tokens otherwise, and no stream_options when not streaming', () => {
    const out = upstreamRequest(prepared({ model: 'm', messages: [], stream_options: { include_usage: false } }, { name: 'm' }, 64), false);
    expect(out).toEqual({ model: 'm', messages: [], max_tokens: 64, stream: false });
  });
  it('asks for usage when streaming, keeping the other stream options', () => {
    const out = upstreamRequest(
      prepared({ model: 'm', messages: [], stream_options: { include_usage: false, extra: 1 } as ChatRequest['stream_options'] }, { name: 'm' }, 8),
      true,
    );
    expect(out).toEqual({ model: 'm', messages: [], max_tokens: 8, stream: true, stream_options: { include_usage: true, extra: 1 } });
  });
});

describe('codeOf', () => {
  it('maps each kind of thrown value to its stop code', () => {
    expect(codeOf(guardError('rate.limited', 'x'))).toBe('rate.limited');
    expect(codeOf(markInternal(guardError('rate.limited', 'x')))).toBe('rate.limited');
    expect(codeOf(new RangeError('Maximum call stack size exceeded'))).toBe('request.invalid');
    expect(codeOf(new ProviderError('x', { status: 429, code: 'rate.limited' }))).toBe('rate.limited');
    for (const status of [400, 404, 413, 422]) expect(codeOf(new ProviderError('x', { status }))).toBe('request.invalid');
    for (const status of [401, 500, 502]) expect(codeOf(new ProviderError('x', { status }))).toBe('upstream.error');
    expect(codeOf({ code: 'timeout.total' })).toBe('timeout.total');
    expect(codeOf({ code: 'not-a-code' })).toBe('upstream.error');
    expect(codeOf(null)).toBe('upstream.error');
    expect(codeOf('timeout.total')).toBe('upstream.error');
    expect(codeOf(undefined)).toBe('upstream.error');
  });
});

describe('toGuardError', () => {
  it('wraps a provider error with a code, keeping status and retry-after', () => {
    const cause = new ProviderError('slow down', { status: 429, retryAfterMs: 1500, code: 'rate.limited' });
    const g = toGuardError(cause, 'model m');
    expect([g.code, g.message, g.details, g.cause]).toEqual(['rate.limited', 'model m: slow down', { status: 429, retryAfterMs: 1500 }, cause]);
  });
  it('maps a rejected request to request.invalid and other statuses to upstream.error', () => {
    const bad = toGuardError(new ProviderError('no such model', { status: 404, retryAfterMs: 9 }), 'model m');
    expect([bad.code, bad.message, bad.details]).toEqual([
      'request.invalid',
      'model m: the upstream rejected the request (404): no such model',
      { status: 404 },
    ]);
    const down = toGuardError(new ProviderError('boom', { status: 503, retryAfterMs: 9 }), 'model m');
    expect([down.code, down.message, down.details]).toEqual(['upstream.error', 'model m: upstream failed (503): boom', { status: 503, retryAfterMs: 9 }]);
  });
  it('maps an internal throw to an internal request.invalid, anything else to upstream.error', () => {
    const internal = toGuardError(new RangeError('Invalid string length'), 'model m');
    expect([internal.code, internal.message, internal.details, faultOf(internal)]).toEqual([
      'request.invalid',
      'model m: the call could not be processed: Invalid string length',
      {},
      'internal',
    ]);
    const other = toGuardError('socket hang up', 'model m');
    expect([other.code, other.message, other.details, faultOf(other)]).toEqual(['upstream.error', 'model m: socket hang up', {}, 'upstream']);
  });
  it('returns a GuardError as is', () => {
    const g = guardError('rate.limited', 'x', { status: 429 });
    expect(toGuardError(g, 'model m')).toBe(g);
    expect(g.details).toEqual({ status: 429 });
  });
  it('marks retries spent for exhausted and no-time, not for other give-ups', () => {
    for (const reason of ['exhausted', 'no-time']) {
      const g = toGuardError(withOutcome(guardError('upstream.error', 'x'), reason, 3), 'model m');
      expect([g.message, g.details]).toEqual(['x', { retriesSpent: true, attempts: 3 }]);
    }
    const g = toGuardError(withOutcome(guardError('upstream.error', 'x'), 'unknown-error', 3), 'model m');
    expect(g.details).toEqual({});
  });
  it('says when the retry budget capped the retries, with the attempt count', () => {
    const one = toGuardError(withOutcome(guardError('upstream.error', 'boom', { status: 503 }), 'budget', 1), 'model m');
    expect([one.code, one.message, one.details]).toEqual([
      'upstream.error',
      'boom (retries capped by the retry budget after 1 attempt: too many retries across calls recently)',
      { status: 503, retriesSpent: true, attempts: 1, retryDenied: 'budget' },
    ]);
    const two = toGuardError(withOutcome(new ProviderError('boom', { status: 503 }), 'budget', 2), 'model m');
    expect([two.message, two.details]).toEqual([
      'model m: upstream failed (503): boom (retries capped by the retry budget after 2 attempts: too many retries across calls recently)',
      { status: 503, retriesSpent: true, attempts: 2, retryDenied: 'budget' },
    ]);
  });
  it('does not say it twice, but does when only one of the two marks is there', () => {
    const said = guardError('upstream.error', 'x (retries capped by the retry budget after 2 attempts)', { retryDenied: 'budget' });
    expect(toGuardError(withOutcome(said, 'budget', 2), 'model m')).toBe(said);
    const denied = guardError('upstream.error', 'x', { retryDenied: 'budget' });
    const out = toGuardError(withOutcome(denied, 'budget', 2), 'model m');
    expect(out).not.toBe(denied);
    expect(out.message).toBe('x (retries capped by the retry budget after 2 attempts: too many retries across calls recently)');
    const worded = guardError('upstream.error', 'x retry budget');
    expect(toGuardError(withOutcome(worded, 'budget', 2), 'model m')).not.toBe(worded);
  });
});

describe('attemptController', () => {
  it('aborts on any linked signal with its reason, and not after unlink', () => {
    const a = new AbortController();
    const b = new AbortController();
    const { controller, unlink } = attemptController(a.signal, b.signal);
    expect(controller.signal.aborted).toBe(false);
    b.abort('why');
    expect([controller.signal.aborted, controller.signal.reason]).toEqual([true, 'why']);
    // the listener of the signal that fired is gone with it; the other one stays until unlink
    expect([getEventListeners(a.signal, 'abort').length, getEventListeners(b.signal, 'abort').length]).toEqual([1, 0]);
    unlink();
    expect(getEventListeners(a.signal, 'abort').length).toBe(0);
    const c = new AbortController();
    const second = attemptController(c.signal, c.signal);
    second.unlink();
    c.abort('late');
    expect(second.controller.signal.aborted).toBe(false);
  });
  it('starts aborted when a signal already is, with the first such reason', () => {
    const live = new AbortController();
    const { controller } = attemptController(live.signal, AbortSignal.abort('first'), AbortSignal.abort('second'));
    expect(controller.signal.reason).toBe('first');
  });
  it('links a repeated signal once', () => {
    const a = new AbortController();
    let added = 0;
    const add = a.signal.addEventListener.bind(a.signal);
    a.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof add;
    attemptController(a.signal, a.signal, a.signal);
    expect(added).toBe(1);
  });
});

describe('retryOptions', () => {
  function setup(listening: boolean) {
    const events: unknown[] = [];
    const clock = { now: () => 1234 };
    const ctx = {
      retryPolicy: (name: string) => `policy:${name}`,
      retryBudget: 'budget',
      clock,
      listening,
      emit: (e: unknown) => events.push(e),
    } as unknown as GuardContext;
    const handle = { id: 'run-1', agent: { name: 'bot' }, record: { deadline: 99, tenant: 't1' } } as unknown as RunHandle;
    const reserved = { model: { name: 'gpt', provider: 'openai' } } as unknown as Reserved;
    const signal = new AbortController().signal;
    return { events, clock, signal, opts: retryOptions(ctx, handle, reserved, signal) };
  }
  it('carries the policy, budget, scope, clock, deadline; the run deadline aborts, not the loop', () => {
    const { opts, clock, signal } = setup(false);
    expect(opts).toMatchObject({ policy: 'policy:bot', budget: 'budget', scope: 'provider:openai', deadline: 99, enforceDeadline: false });
    expect(opts.clock).toBe(clock);
    expect(opts.signal).toBe(signal);
    expect(opts.onRetry).toBeUndefined();
    expect(opts.codeOf(new ProviderError('x', { status: 400 }))).toBe('request.invalid');
  });
  it('takes retry-after from a provider error or a GuardError', () => {
    const { opts } = setup(false);
    expect(opts.retryAfterOf(new ProviderError('x', { status: 429, retryAfterMs: 700 }))).toBe(700);
    expect(opts.retryAfterOf(guardError('rate.limited', 'x', { retryAfterMs: 800 }))).toBe(800);
    expect(opts.retryAfterOf(new Error('x'))).toBeUndefined();
  });
  it('reports each retry when someone listens', () => {
    const { opts, events } = setup(true);
    opts.onRetry?.({ attempt: 2, code: 'upstream.error', delayMs: 250 });
    expect(events).toEqual([
      {
        type: 'retry',
        at: 1234,
        runId: 'run-1',
        agent: 'bot',
        tenant: 't1',
        action: 'invokeModel',
        resource: 'gpt',
        attempt: 2,
        code: 'upstream.error',
        delayMs: 250,
      },
    ]);
  });
});

describe('upstreamMeta', () => {
  it('keeps the latest request id, and ignores meta without one', () => {
    const p: { upstreamRequestId?: string } = {};
    const keep = upstreamMeta(p);
    keep({ requestId: 'r1' });
    keep({});
    expect(p.upstreamRequestId).toBe('r1');
    keep({ requestId: 'r2' });
    expect(p.upstreamRequestId).toBe('r2');
  });
});
