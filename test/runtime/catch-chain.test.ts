import { describe, expect, it } from 'vitest';
import type { Catcher } from '../../src/core/catch.ts';
import type { ChatRequest } from '../../src/core/chat.ts';
import { GuardError, guardError } from '../../src/core/errors.ts';
import { markRefused, withCatchers, withModelCatchers } from '../../src/runtime/catch-chain.ts';

/**
 * Issue 20: the catch chain (src/runtime/catch-chain.ts) through its exports, each branch pinned with
 * exact values: what is caught, what is thrown as is (the same object), the chain reported on the
 * result and on the error, the signals that forbid a catch, fmguard's own refusals.
 */

const all = (next: string): Catcher[] => [{ errorEquals: ['all'], next }];

/** A call that fails for the names in `failures` (with the error made there) and answers `ok:<name>` otherwise. */
function calls(failures: Record<string, () => unknown>) {
  const seen: string[] = [];
  const call = (name: string): Promise<string> => {
    seen.push(name);
    // A chain that loops would call forever: fail fast instead.
    if (seen.length > 10) return Promise.reject(new Error(`called too often: ${seen.join(', ')}`));
    const make = failures[name];
    return make ? Promise.reject(make()) : Promise.resolve(`ok:${name}`);
  };
  return { seen, call };
}

const upstream = (message = 'down') => guardError('upstream.error', message, { status: 503 });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('markRefused', () => {
  it('returns its argument as is, for objects and for values that cannot be marked (null, strings, numbers, undefined)', () => {
    const error = upstream();
    expect(markRefused(error)).toBe(error);
    expect(markRefused(null)).toBe(null);
    expect(markRefused(undefined)).toBe(undefined);
    expect(markRefused('refused')).toBe('refused');
    expect(markRefused(42)).toBe(42);
  });

  it('a marked GuardError with a catchable code other than breaker.open is not caught: the same error, without a chain', async () => {
    const refusal = markRefused(guardError('rate.limited', 'rate limit on model:a', { scope: 'model:a' }));
    const { seen, call } = calls({ a: () => refusal });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: () => all('b'), call }));
    expect(error).toBe(refusal);
    expect(seen).toEqual(['a']);
    expect((error as GuardError).details).toEqual({ scope: 'model:a' });
  });

  it('a marked breaker.open refusal is caught', async () => {
    const refusal = markRefused(guardError('breaker.open', 'breaker open on model:a'));
    const { seen, call } = calls({ a: () => refusal });
    const result = await withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? all('b') : []), call });
    expect(result).toEqual({ value: 'ok:b', servedBy: 'b', caught: [{ from: 'a', code: 'breaker.open', catcher: 0, next: 'b' }] });
    expect(seen).toEqual(['a', 'b']);
  });

  it('the same code not marked is caught (only the mark makes it a refusal)', async () => {
    const { seen, call } = calls({ a: () => guardError('rate.limited', 'upstream 429') });
    const result = await withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? all('b') : []), call });
    expect(result).toEqual({ value: 'ok:b', servedBy: 'b', caught: [{ from: 'a', code: 'rate.limited', catcher: 0, next: 'b' }] });
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('withCatchers', () => {
  it('a first call that succeeds: its value, served by the first, nothing caught; catchersOf is never asked', async () => {
    const asked: string[] = [];
    const { seen, call } = calls({});
    const result = await withCatchers({
      first: 'a',
      catchersOf: (n) => {
        asked.push(n);
        return all('b');
      },
      call,
    });
    expect(result).toEqual({ value: 'ok:a', servedBy: 'a', caught: [] });
    expect(seen).toEqual(['a']);
    expect(asked).toEqual([]);
  });

  it('no catchers: the error is thrown as is, with no chain in its details', async () => {
    const failure = upstream();
    const { seen, call } = calls({ a: () => failure });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: () => [], call }));
    expect(error).toBe(failure);
    expect((error as GuardError).details).toEqual({ status: 503 });
    expect(seen).toEqual(['a']);
  });

  it('a failure that is not a GuardError is never caught, even when it carries a catchable code', async () => {
    const failure = Object.assign(new Error('socket hang up'), { code: 'upstream.error' });
    const { seen, call } = calls({ a: () => failure });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: () => all('b'), call }));
    expect(error).toBe(failure);
    expect(seen).toEqual(['a']);
  });

  it('a thrown non-object (a string) is thrown as is', async () => {
    const { call } = calls({ a: () => 'boom' });
    expect(await rejection(withCatchers({ first: 'a', catchersOf: () => all('b'), call }))).toBe('boom');
  });

  it('an aborted signal anywhere in the list forbids the catch; undefined and live signals do not', async () => {
    const aborted = AbortSignal.abort(new Error('stopped'));
    const live = new AbortController().signal;
    const failure = upstream();
    const first = calls({ a: () => failure });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: () => all('b'), call: first.call, signals: [undefined, live, aborted] }));
    expect(error).toBe(failure);
    expect(first.seen).toEqual(['a']);
    expect((error as GuardError).details).toEqual({ status: 503 });

    const second = calls({ a: () => upstream() });
    const result = await withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? all('b') : []), call: second.call, signals: [undefined, live] });
    expect(result).toEqual({ value: 'ok:b', servedBy: 'b', caught: [{ from: 'a', code: 'upstream.error', catcher: 0, next: 'b' }] });
    expect(second.seen).toEqual(['a', 'b']);
  });

  it('a signal aborted during the call (not before) still forbids the catch', async () => {
    const controller = new AbortController();
    const failure = upstream();
    const error = await rejection(
      withCatchers({
        first: 'a',
        catchersOf: () => all('b'),
        call: async (name) => {
          if (name !== 'a') return `ok:${name}`;
          controller.abort();
          throw failure;
        },
        signals: [controller.signal],
      }),
    );
    expect(error).toBe(failure);
  });

  it('no catcher matches the code: the error is thrown as is', async () => {
    const failure = upstream();
    const { seen, call } = calls({ a: () => failure });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: () => [{ errorEquals: ['timeout.*'], next: 'b' }], call }));
    expect(error).toBe(failure);
    expect((error as GuardError).details).toEqual({ status: 503 });
    expect(seen).toEqual(['a']);
  });

  it('an uncatchable code (a limit) is not caught even by a catch-all', async () => {
    const failure = guardError('limit.cost', 'over budget', { limit: 1 });
    const { seen, call } = calls({ a: () => failure });
    expect(await rejection(withCatchers({ first: 'a', catchersOf: () => all('b'), call }))).toBe(failure);
    expect(seen).toEqual(['a']);
  });

  it('the first matching catcher wins and its index is reported', async () => {
    const { seen, call } = calls({ a: () => guardError('timeout.total', 'slow') });
    const catchers: Catcher[] = [
      { errorEquals: ['upstream.error'], next: 'b' },
      { errorEquals: ['timeout.*'], next: 'c' },
      { errorEquals: ['all'], next: 'd' },
    ];
    const result = await withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? catchers : []), call });
    expect(result).toEqual({ value: 'ok:c', servedBy: 'c', caught: [{ from: 'a', code: 'timeout.total', catcher: 1, next: 'c' }] });
    expect(seen).toEqual(['a', 'c']);
  });

  it('a chain a → b → c: each link reported in order, the last one serves', async () => {
    const { seen, call } = calls({ a: () => upstream('a down'), b: () => guardError('timeout.idle', 'b idle') });
    const chain: Record<string, Catcher[]> = { a: all('b'), b: [{ errorEquals: ['timeout.idle'], next: 'c' }] };
    const result = await withCatchers({ first: 'a', catchersOf: (n) => chain[n] ?? [], call });
    expect(result).toEqual({
      value: 'ok:c',
      servedBy: 'c',
      caught: [
        { from: 'a', code: 'upstream.error', catcher: 0, next: 'b' },
        { from: 'b', code: 'timeout.idle', catcher: 0, next: 'c' },
      ],
    });
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('a cycle a → b → a: each name is called once; the second failure is thrown with the chain so far', async () => {
    const second = upstream('b down');
    const { seen, call } = calls({ a: () => upstream('a down'), b: () => second });
    const chain: Record<string, Catcher[]> = { a: all('b'), b: all('a') };
    const error = await rejection(withCatchers({ first: 'a', catchersOf: (n) => chain[n] ?? [], call }));
    expect(error).toBe(second);
    expect(seen).toEqual(['a', 'b']);
    expect((error as GuardError).details).toEqual({ status: 503, caught: [{ from: 'a', code: 'upstream.error', catcher: 0, next: 'b' }] });
  });

  it('a catcher back to the first name (a self-reference) is not followed', async () => {
    const failure = upstream();
    const { seen, call } = calls({ a: () => failure });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: () => all('a'), call }));
    expect(error).toBe(failure);
    expect(seen).toEqual(['a']);
    expect((error as GuardError).details).toEqual({ status: 503 });
  });

  it('the fallback fails with an error that is not a GuardError: it is thrown as is, untouched', async () => {
    const plain = new Error('fallback crashed');
    const { seen, call } = calls({ a: () => upstream(), b: () => plain });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? all('b') : []), call }));
    expect(error).toBe(plain);
    expect(Object.keys(plain)).toEqual([]);
    expect(seen).toEqual(['a', 'b']);
  });

  it('the fallback fails with a GuardError that already has a chain: its chain is kept', async () => {
    const own = [{ from: 'x', code: 'upstream.error', catcher: 2, next: 'y' }];
    const failure = guardError('policy.denied', 'bot may not use model b', { caught: own });
    const { call } = calls({ a: () => upstream(), b: () => failure });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? all('b') : []), call }));
    expect(error).toBe(failure);
    expect((error as GuardError).details.caught).toBe(own);
  });

  it('the fallback is refused (a marked policy.denied): the refusal carries the chain', async () => {
    const refusal = markRefused(guardError('policy.denied', 'bot may not use model b', { resource: 'b' }));
    const { call } = calls({ a: () => upstream(), b: () => refusal });
    const error = await rejection(withCatchers({ first: 'a', catchersOf: (n) => (n === 'a' ? all('b') : all('c')), call }));
    expect(error).toBe(refusal);
    expect((error as GuardError).details).toEqual({ resource: 'b', caught: [{ from: 'a', code: 'upstream.error', catcher: 0, next: 'b' }] });
  });
});

describe('withModelCatchers', () => {
  const config = {
    models: {
      a: { catch: all('b') },
      b: { catch: [{ errorEquals: ['timeout.*'], next: 'c' }] },
      c: {},
      plain: {},
      // A model named like a number: only a string `model` in the request may be looked up.
      '5': { catch: all('b') },
    },
  } as never;

  const request = (model: unknown): ChatRequest => ({ model, messages: [{ role: 'user', content: 'hi' }], temperature: 0.5 }) as ChatRequest;

  function recorder(failures: Record<string, () => unknown>) {
    const requests: ChatRequest[] = [];
    const call = (r: ChatRequest): Promise<string> => {
      requests.push(r);
      if (requests.length > 10) return Promise.reject(new Error('called too often'));
      const make = failures[String(r?.model)];
      return make ? Promise.reject(make()) : Promise.resolve(`ok:${String(r?.model)}`);
    };
    return { requests, call };
  }

  it('a model without catchers is called directly with the request itself', async () => {
    const req = request('plain');
    const { requests, call } = recorder({});
    expect(await withModelCatchers(config, req, [], call)).toEqual({ value: 'ok:plain', servedBy: 'plain', caught: [] });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toBe(req);
  });

  it('a model without catchers that fails: the error as is, no chain', async () => {
    const failure = upstream();
    const { call } = recorder({ plain: () => failure });
    const error = await rejection(withModelCatchers(config, request('plain'), [], call));
    expect(error).toBe(failure);
    expect((error as GuardError).details).toEqual({ status: 503 });
  });

  it('an unknown model (no config entry) is called directly', async () => {
    const { requests, call } = recorder({});
    expect(await withModelCatchers(config, request('nope'), [], call)).toEqual({ value: 'ok:nope', servedBy: 'nope', caught: [] });
    expect(requests.map((r) => r.model)).toEqual(['nope']);
  });

  it('a request whose model is not a string is called directly, never through catchers (even one named like it)', async () => {
    const failure = upstream();
    const req = request(5);
    const { requests, call } = recorder({ '5': () => failure });
    const error = await rejection(withModelCatchers(config, req, [], call));
    expect(error).toBe(failure);
    expect(requests).toEqual([req]);
  });

  it('no request at all: called directly, served by undefined', async () => {
    const { requests, call } = recorder({});
    expect(await withModelCatchers(config, undefined as unknown as ChatRequest, [], call)).toEqual({ value: 'ok:undefined', servedBy: undefined, caught: [] });
    expect(requests).toEqual([undefined]);
  });

  it('a model with catchers that succeeds: the request itself, nothing caught', async () => {
    const req = request('a');
    const { requests, call } = recorder({});
    expect(await withModelCatchers(config, req, [], call)).toEqual({ value: 'ok:a', servedBy: 'a', caught: [] });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toBe(req);
  });

  it('caught: the fallback gets a copy of the request with its own model, every other field kept; the original is untouched', async () => {
    const req = request('a');
    const { requests, call } = recorder({ a: () => upstream(), b: () => guardError('timeout.first_token', 'slow') });
    const result = await withModelCatchers(config, req, [undefined], call);
    expect(result).toEqual({
      value: 'ok:c',
      servedBy: 'c',
      caught: [
        { from: 'a', code: 'upstream.error', catcher: 0, next: 'b' },
        { from: 'b', code: 'timeout.first_token', catcher: 0, next: 'c' },
      ],
    });
    expect(requests[0]).toBe(req);
    expect(requests.slice(1)).toEqual([
      { model: 'b', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5 },
      { model: 'c', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5 },
    ]);
    expect(req).toEqual({ model: 'a', messages: [{ role: 'user', content: 'hi' }], temperature: 0.5 });
  });

  it('the signals are passed on: an aborted one forbids the catch', async () => {
    const failure = upstream();
    const { requests, call } = recorder({ a: () => failure });
    const error = await rejection(withModelCatchers(config, request('a'), [undefined, AbortSignal.abort()], call));
    expect(error).toBe(failure);
    expect(requests.map((r) => r.model)).toEqual(['a']);
    expect((error as GuardError).details).toEqual({ status: 503 });
  });

  it('the chain is on the final error when the fallback fails too', async () => {
    const last = guardError('upstream.error', 'b down', {});
    const { call } = recorder({ a: () => upstream(), b: () => last });
    const error = await rejection(withModelCatchers(config, request('a'), [], call));
    expect(error).toBe(last);
    expect(GuardError.isInstance(error)).toBe(true);
    expect((error as GuardError).details).toEqual({ caught: [{ from: 'a', code: 'upstream.error', catcher: 0, next: 'b' }] });
  });
});
