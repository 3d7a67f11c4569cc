// Edges of runToolInWorker (src/runtime/worker-tool.ts) that test/runtime/worker-tool.test.ts does not pin down:
// each form of modulePath, the timeout bounds, the signal, the injected clock, resourceLimits, errors from the
// worker (thrown, uncaught, non-Error, exits) and that the promise settles only once the thread is gone.
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GuardError } from '../../src/core/errors.ts';
import { runToolInWorker } from '../../src/runtime/worker-tool.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

const EDGES = new URL('../fixtures/worker-tool-edges.mjs', import.meta.url);
const EDGES_PATH = fileURLToPath(EDGES);
const TOOLS = new URL('../fixtures/worker-tools.mjs', import.meta.url);
const TIMEOUT_MESSAGE = 'timeoutMs: expected a number of milliseconds in (0, 2147483647]';

/** Settles `p` to what it resolved or rejected with, tagged, so exact outcomes can be compared whole. */
function outcome(p: Promise<unknown>): Promise<{ resolved: unknown } | { rejected: unknown }> {
  return p.then(
    (resolved) => ({ resolved }),
    (rejected: unknown) => ({ rejected }),
  );
}

/** An Error as a plain object, own `name` included (remoteError sets it as an own property). */
function errorShape(err: unknown): { isError: boolean; isGuardError: boolean; name: unknown; message: unknown } {
  const e = err as Error;
  return { isError: err instanceof Error, isGuardError: GuardError.isInstance(err), name: e?.name, message: e?.message };
}

/** Two Int32 cells shared with the worker: [0] the cell a blocked tool waits on, [1] set to 1 once it runs. */
function cells() {
  const buffer = new SharedArrayBuffer(8);
  const view = new Int32Array(buffer);
  return {
    args: { cells: buffer },
    started: () => Atomics.load(view, 1) === 1,
    /** How many threads are waiting on cell 0 (wakes them): 0 once the worker is gone. */
    wake: () => Atomics.notify(view, 0),
  };
}

describe('runToolInWorker: modulePath forms', () => {
  it.each([
    ['a URL object', () => EDGES],
    ['an absolute path', () => EDGES_PATH],
    ['an absolute path with .. segments', () => join(EDGES_PATH, '..', '..', 'fixtures', 'worker-tool-edges.mjs')],
    ['a path relative to the working directory', () => relative(process.cwd(), EDGES_PATH)],
    ['a ./ relative path', () => `./${relative(process.cwd(), EDGES_PATH)}`],
    ['a file URL string', () => EDGES.href],
  ])('%s loads the module by its file URL and calls the default export with one argument', async (_, modulePath) => {
    const result = await runToolInWorker({ modulePath: modulePath(), args: { q: 1 }, timeoutMs: 5000 });
    expect(result).toEqual({ argc: 1, args: { q: 1 }, url: EDGES.href, exportName: 'default', tsx: false });
  });

  it('passes a file URL string through untouched (a query stays a query)', async () => {
    const href = `${EDGES.href}?v=1`;
    const result = await runToolInWorker({ modulePath: href, timeoutMs: 5000 });
    expect(result).toEqual({ argc: 1, args: undefined, url: href, exportName: 'default', tsx: false });
  });

  it('calls the export with exactly one argument, undefined when no args are given', async () => {
    await expect(runToolInWorker({ modulePath: EDGES, timeoutMs: 5000 })).resolves.toEqual({
      argc: 1,
      args: undefined,
      url: EDGES.href,
      exportName: 'default',
      tsx: false,
    });
  });

  it('an explicit exportName of default is the default export', async () => {
    await expect(runToolInWorker({ modulePath: EDGES, exportName: 'default', args: 7, timeoutMs: 5000 })).resolves.toEqual({
      argc: 1,
      args: 7,
      url: EDGES.href,
      exportName: 'default',
      tsx: false,
    });
  });
});

describe('runToolInWorker: which modules go through tsx', () => {
  let dir: string;
  // A named export: tsx compiles a .ts module of a package without "type": "module" to CommonJS, where
  // `export default` is not the module's default export.
  const esm =
    "import { workerData } from 'node:worker_threads';\nexport function probe(args: unknown) {\n  return { args, tsx: workerData.tsxApi !== undefined };\n}\n";
  const cjs = "const { workerData } = require('node:worker_threads');\nexports.probe = (args) => ({ args, tsx: workerData.tsxApi !== undefined });\n";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fmguard-worker-edges-'));
    const files: Record<string, string> = {
      'tool.ts': esm,
      'tool.mts': esm,
      'tool.tsx': esm,
      'tool.cts': cjs,
      'tool.js': cjs,
      'tool.cjs': cjs,
      'tool.mjs': esm.replace(': unknown', ''),
      // Names with ts in them that are not TypeScript: the extension decides, not a substring.
      'tool.ts.mjs': esm.replace(': unknown', ''),
      'tool.tsx.js': cjs,
      'tool.xts.mjs': esm.replace(': unknown', ''),
      // No extension, a name ending in ts: CommonJS to Node, not TypeScript.
      toolts: cjs,
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['tool.ts', true],
    ['tool.mts', true],
    ['tool.cts', true],
    ['tool.tsx', true],
    ['tool.mjs', false],
    ['tool.js', false],
    ['tool.cjs', false],
    ['tool.ts.mjs', false],
    ['tool.tsx.js', false],
    ['tool.xts.mjs', false],
    ['toolts', false],
  ])('%s: through tsx = %s', async (name, tsx) => {
    const result = await runToolInWorker({ modulePath: join(dir, name), exportName: 'probe', args: { n: 1 }, timeoutMs: 10_000 });
    expect(result).toEqual({ args: { n: 1 }, tsx });
  });
});

describe('runToolInWorker: exports that cannot be called', () => {
  it.each(['missing', 'notAFunction'])('export %s rejects with the exact TypeError from the worker', async (exportName) => {
    const err = await runToolInWorker({ modulePath: EDGES, exportName, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({
      isError: true,
      isGuardError: false,
      name: 'TypeError',
      message: `export '${exportName}' of ${EDGES.href} is not a function`,
    });
    expect((err as Error).stack?.startsWith(`TypeError: export '${exportName}' of ${EDGES.href} is not a function\n`)).toBe(true);
  });
});

describe('runToolInWorker: timeoutMs', () => {
  it.each([
    ['0', 0],
    ['negative', -1],
    ['a tiny negative', -Number.MIN_VALUE],
    ['NaN', Number.NaN],
    ['2^31 (one over the timer limit)', 2_147_483_648],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a numeric string', '1000'],
    ['undefined', undefined],
    ['null', null],
  ])('%s is refused with a TypeError, starting no worker and no timer', async (_, timeoutMs) => {
    const clock = new FakeClock();
    const p = runToolInWorker({ modulePath: EDGES, timeoutMs: timeoutMs as number, clock });
    expect(clock.pending).toBe(0);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'TypeError', message: TIMEOUT_MESSAGE });
  });

  it('an invalid timeout is refused before an aborted signal is looked at', async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('aborted'));
    const err = await runToolInWorker({ modulePath: EDGES, timeoutMs: 0, signal: ctrl.signal }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'TypeError', message: TIMEOUT_MESSAGE });
  });

  it.each([
    ['2^31-1, the largest timer delay', 2_147_483_647],
    ['1 ms', 1],
    ['a fraction of a millisecond', 0.5],
  ])('%s is accepted', async (_, timeoutMs) => {
    const clock = new FakeClock();
    const p = runToolInWorker({ modulePath: EDGES, args: 'ok', timeoutMs, clock });
    expect(clock.pending).toBe(1);
    await expect(p).resolves.toEqual({ argc: 1, args: 'ok', url: EDGES.href, exportName: 'default', tsx: false });
    expect(clock.pending).toBe(0);
  });

  it('does not throw synchronously for a bad timeout: it returns a rejected promise', async () => {
    let p: Promise<unknown> | undefined;
    expect(() => {
      p = runToolInWorker({ modulePath: EDGES, timeoutMs: -5 });
    }).not.toThrow();
    await expect(p).rejects.toThrow(TIMEOUT_MESSAGE);
  });
});

describe('runToolInWorker: the injected clock', () => {
  it('times out on the clock: not at timeoutMs - 1, at timeoutMs, with the whole timeout.tool error', async () => {
    const clock = new FakeClock();
    const c = cells();
    let settled = false;
    const result = outcome(runToolInWorker({ modulePath: EDGES, exportName: 'block', args: c.args, timeoutMs: 1000, clock })).finally(() => {
      settled = true;
    });
    expect(clock.pending).toBe(1);
    await vi.waitFor(() => expect(c.started()).toBe(true), { timeout: 10_000, interval: 10 });
    await clock.advance(999);
    expect(settled).toBe(false);
    expect(clock.pending).toBe(1);
    await clock.advance(1);
    const { rejected: err } = (await result) as { rejected: GuardError };
    expect(GuardError.isInstance(err)).toBe(true);
    expect(err.name).toBe('GuardError');
    expect(err.toJSON()).toEqual({
      code: 'timeout.tool',
      message: "tool 'block' did not finish within 1000 ms; its worker was terminated",
      details: { limit: 1000 },
      retryable: true,
    });
    expect(clock.pending).toBe(0);
    // Settled only after the thread was terminated: nobody is left waiting on the cell.
    expect(c.wake()).toBe(0);
  });

  it('names the default export in the timeout message', async () => {
    const clock = new FakeClock();
    const p = outcome(runToolInWorker({ modulePath: TOOLS, exportName: undefined, args: undefined, timeoutMs: 250, clock }));
    // echo (the default export of worker-tools.mjs) answers at once; the timer is cleared.
    expect(await p).toEqual({ resolved: { echoed: undefined } });
    expect(clock.pending).toBe(0);

    const clock2 = new FakeClock();
    const c = cells();
    const blocked = outcome(runToolInWorker({ modulePath: EDGES, exportName: 'block', args: c.args, timeoutMs: 250, clock: clock2 }));
    await clock2.advance(250);
    const { rejected } = (await blocked) as { rejected: GuardError };
    expect(rejected.message).toBe("tool 'block' did not finish within 250 ms; its worker was terminated");
    expect(c.wake()).toBe(0);
  });

  it('a result clears the timer: advancing past the timeout later changes nothing', async () => {
    const clock = new FakeClock();
    const p = runToolInWorker({ modulePath: EDGES, args: 1, timeoutMs: 1000, clock });
    await expect(p).resolves.toEqual({ argc: 1, args: 1, url: EDGES.href, exportName: 'default', tsx: false });
    expect(clock.pending).toBe(0);
    await clock.advance(5000);
    await expect(p).resolves.toEqual({ argc: 1, args: 1, url: EDGES.href, exportName: 'default', tsx: false });
  });
});

describe('runToolInWorker: the signal', () => {
  it('an already-aborted signal rejects with its reason, starting no worker and no timer', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    const reason = new Error('stop before start');
    ctrl.abort(reason);
    const p = runToolInWorker({ modulePath: EDGES, timeoutMs: 1000, signal: ctrl.signal, clock });
    expect(clock.pending).toBe(0);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
    expect(await outcome(p)).toEqual({ rejected: reason });
    expect((await p.catch((e: unknown) => e)) === reason).toBe(true);
  });

  it('an already-aborted signal with a non-Error reason rejects with that very value', async () => {
    const ctrl = new AbortController();
    const reason = { why: 'budget' };
    ctrl.abort(reason);
    const err = await runToolInWorker({ modulePath: EDGES, timeoutMs: 1000, signal: ctrl.signal }).catch((e: unknown) => e);
    expect(err).toBe(reason);
  });

  it('abort mid-run terminates the worker and rejects with the reason; listener and timer are removed', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    const c = cells();
    const result = outcome(runToolInWorker({ modulePath: EDGES, exportName: 'block', args: c.args, timeoutMs: 60_000, signal: ctrl.signal, clock }));
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(1);
    expect(clock.pending).toBe(1);
    await vi.waitFor(() => expect(c.started()).toBe(true), { timeout: 10_000, interval: 10 });
    const reason = new RangeError('run cancelled');
    ctrl.abort(reason);
    const settledWith = await result;
    expect(settledWith).toEqual({ rejected: reason });
    expect((settledWith as { rejected: unknown }).rejected).toBe(reason);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
    expect(clock.pending).toBe(0);
    expect(c.wake()).toBe(0);
  });

  it('abort() without a reason rejects with the signal’s AbortError', async () => {
    const ctrl = new AbortController();
    const c = cells();
    const result = runToolInWorker({ modulePath: EDGES, exportName: 'block', args: c.args, timeoutMs: 60_000, signal: ctrl.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(c.started()).toBe(true), { timeout: 10_000, interval: 10 });
    ctrl.abort();
    const err = await result;
    expect(err).toBe(ctrl.signal.reason);
    expect((err as DOMException).name).toBe('AbortError');
    expect(c.wake()).toBe(0);
  });

  it('after a result the abort listener is gone and a later abort changes nothing', async () => {
    const ctrl = new AbortController();
    const clock = new FakeClock();
    const p = runToolInWorker({ modulePath: EDGES, args: 'x', timeoutMs: 1000, signal: ctrl.signal, clock });
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(1);
    await expect(p).resolves.toEqual({ argc: 1, args: 'x', url: EDGES.href, exportName: 'default', tsx: false });
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
    ctrl.abort(new Error('late'));
    await expect(p).resolves.toEqual({ argc: 1, args: 'x', url: EDGES.href, exportName: 'default', tsx: false });
  });

  it('after a timeout the abort listener is gone too', async () => {
    const ctrl = new AbortController();
    const clock = new FakeClock();
    const c = cells();
    const result = outcome(runToolInWorker({ modulePath: EDGES, exportName: 'block', args: c.args, timeoutMs: 10, signal: ctrl.signal, clock }));
    await clock.advance(10);
    const { rejected } = (await result) as { rejected: GuardError };
    expect(rejected.code).toBe('timeout.tool');
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
    expect(c.wake()).toBe(0);
  });
});

describe('runToolInWorker: what crosses the thread boundary', () => {
  it('passes resourceLimits to the worker', async () => {
    const resourceLimits = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8, codeRangeSizeMb: 16, stackSizeMb: 2 };
    await expect(runToolInWorker({ modulePath: EDGES, exportName: 'limits', timeoutMs: 5000, resourceLimits })).resolves.toEqual(resourceLimits);
  });

  it('structured-clones args and result (Map, Set, Date, BigInt, typed arrays, undefined, NaN, RegExp)', async () => {
    const date = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const args = { date, map: new Map([[1, 'one']]), list: [1, { deep: true }] };
    const result = (await runToolInWorker({ modulePath: EDGES, exportName: 'cloneKinds', args, timeoutMs: 5000 })) as Record<string, unknown>;
    expect(result).toEqual({
      received: { date, map: new Map([[1, 'one']]), list: [1, { deep: true }] },
      map: new Map([['k', date]]),
      set: new Set([1, 2]),
      big: 10n,
      missing: undefined,
      nan: Number.NaN,
      regex: /a+/gi,
      bytes: new Uint8Array([1, 2, 3]),
      isArgsDate: true,
      isArgsMap: true,
    });
    expect(Object.hasOwn(result, 'missing')).toBe(true);
    expect(result.received).not.toBe(args);
    expect((result.received as typeof args).date).not.toBe(date);
  });

  it('args that cannot be cloned reject with the DataCloneError, leaving no timer and no listener', async () => {
    const clock = new FakeClock();
    const ctrl = new AbortController();
    const err = await runToolInWorker({ modulePath: EDGES, args: { f: () => 1 }, timeoutMs: 1000, clock, signal: ctrl.signal }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'DataCloneError', message: '() => 1 could not be cloned.' });
    expect(clock.pending).toBe(0);
    expect(getEventListeners(ctrl.signal, 'abort')).toHaveLength(0);
  });

  it('settles only after the worker is terminated, even when the tool left the thread busy after returning', async () => {
    const c = cells();
    await expect(runToolInWorker({ modulePath: EDGES, exportName: 'returnThenBlock', args: c.args, timeoutMs: 5000 })).resolves.toBe('returned');
    expect(c.wake()).toBe(0);
  });
});

describe('runToolInWorker: errors from the worker', () => {
  it('a thrown Error keeps its name, message and the worker’s stack', async () => {
    const err = await runToolInWorker({ modulePath: EDGES, exportName: 'throwRange', args: { message: 'out of range' }, timeoutMs: 5000 }).catch(
      (e: unknown) => e,
    );
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'RangeError', message: 'out of range' });
    const stack = (err as Error).stack ?? '';
    expect(stack.startsWith('RangeError: out of range\n')).toBe(true);
    expect(stack).toContain(`at throwRange (${EDGES.href}:`);
  });

  it.each([
    ['a string', 'throwString', 'boom'],
    ['an object', 'throwObject', '[object Object]'],
    ['null', 'throwNull', 'null'],
  ])('a thrown non-Error (%s) rejects with an Error named Error carrying String(value)', async (_, exportName, message) => {
    const err = await runToolInWorker({ modulePath: EDGES, exportName, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'Error', message });
    // No remote stack: the Error keeps the one it got here, so it still has one.
    expect(typeof (err as Error).stack).toBe('string');
    expect((err as Error).stack?.startsWith(`Error: ${message}\n`)).toBe(true);
  });

  it('an Error thrown outside the call (uncaught in the worker) rejects with that error, stack included', async () => {
    const err = await runToolInWorker({ modulePath: EDGES, exportName: 'throwLater', timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'TypeError', message: 'late type error' });
    const stack = (err as Error).stack ?? '';
    expect(stack.startsWith('TypeError: late type error\n')).toBe(true);
    expect(stack).toContain(EDGES.href);
  });

  // Regression: a non-Error uncaught in the worker reaches the 'error' event as the bare value; it was read as
  // an Error (message '', name undefined) and what was thrown was lost.
  it('a non-Error uncaught in the worker rejects with its String() as the message', async () => {
    const err = await runToolInWorker({ modulePath: EDGES, exportName: 'throwStringLater', timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'Error', message: 'late boom' });
  });

  // Regression: `throw null` (or undefined) uncaught in the worker made the 'error' listener throw a TypeError in
  // this process (a tool could crash its caller); the promise then rejected as an exit with code 1.
  it('null uncaught in the worker rejects, without an exception in this process', async () => {
    const err = await runToolInWorker({ modulePath: EDGES, exportName: 'throwNullLater', timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({ isError: true, isGuardError: false, name: 'Error', message: 'null' });
  });

  it.each([
    ['exitZero', 0],
    ['exitThree', 3],
  ])('a tool that exits (%s) rejects with the exit code', async (exportName, code) => {
    const clock = new FakeClock();
    const err = await runToolInWorker({ modulePath: EDGES, exportName, timeoutMs: 5000, clock }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({
      isError: true,
      isGuardError: false,
      name: 'Error',
      message: `tool worker exited with code ${code} before returning a result`,
    });
    expect(clock.pending).toBe(0);
  });

  it('a module that does not exist rejects with the loader error, named as in the worker', async () => {
    const missing = join(tmpdir(), 'fmguard-no-such-dir', 'tool.mjs');
    const err = await runToolInWorker({ modulePath: missing, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(errorShape(err)).toEqual({
      isError: true,
      isGuardError: false,
      name: 'Error',
      message: `Cannot find module '${missing}' imported from ${join(process.cwd(), '[worker eval]')}`,
    });
  });
});
