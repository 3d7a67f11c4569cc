import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { GuardError } from '../../src/core/errors.ts';
import { runToolInWorker } from '../../src/runtime/worker-tool.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

const MJS = new URL('../fixtures/worker-tools.mjs', import.meta.url);
const TS = new URL('../fixtures/worker-tool.ts', import.meta.url);

/** A counter the spinning tool increments on every lap (shared memory: the worker sees this buffer). */
function lapCounter() {
  const laps = new SharedArrayBuffer(4);
  const view = new Int32Array(laps);
  return { args: { laps }, count: () => Atomics.load(view, 0) };
}

/** The thread has stopped: its lap count no longer moves (a live thread counts millions in this time). */
async function expectStopped(counter: ReturnType<typeof lapCounter>): Promise<void> {
  const before = counter.count();
  await delay(300);
  expect(counter.count()).toBe(before);
}

describe('runToolInWorker', () => {
  it('calls a named export of an .mjs module and returns its result', async () => {
    await expect(runToolInWorker({ modulePath: MJS, exportName: 'add', args: { a: 2, b: 3 }, timeoutMs: 5000 })).resolves.toBe(5);
  });

  it('calls the default export, given a plain path', async () => {
    const result = await runToolInWorker({ modulePath: fileURLToPath(MJS), args: { q: 'x' }, timeoutMs: 5000 });
    expect(result).toEqual({ echoed: { q: 'x' } });
  });

  it('awaits async tools', async () => {
    await expect(runToolInWorker({ modulePath: MJS.href, exportName: 'slowEcho', args: { value: 'hi', ms: 20 }, timeoutMs: 5000 })).resolves.toBe('hi');
  });

  it('loads a .ts module (and its .ts imports) through tsx', async () => {
    await expect(runToolInWorker({ modulePath: TS, exportName: 'sumTwice', args: { a: 2, b: 3 }, timeoutMs: 10_000 })).resolves.toBe(10);
  });

  it('terminates a tool stuck in while(true){} at its timeout with timeout.tool', async () => {
    const counter = lapCounter();
    const started = Date.now();
    const err = await runToolInWorker({ modulePath: MJS, exportName: 'spin', args: counter.args, timeoutMs: 300 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(GuardError.isInstance(err)).toBe(true);
    const g = err as GuardError;
    expect(g.code).toBe('timeout.tool');
    expect(g.details.limit).toBe(300);
    expect(g.message).toMatch(/'spin' did not finish within 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5000);
    // This process keeps running: timers fire and the thread no longer burns CPU.
    await expectStopped(counter);
  });

  it('terminates a spinning .ts tool too', async () => {
    const counter = lapCounter();
    const err = await runToolInWorker({ modulePath: TS, exportName: 'spin', args: counter.args, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(GuardError.isInstance(err) && err.code).toBe('timeout.tool');
    await expectStopped(counter);
  });

  it('terminates on abort and rejects with the signal reason', async () => {
    const ctrl = new AbortController();
    const counter = lapCounter();
    const p = runToolInWorker({ modulePath: MJS, exportName: 'spin', args: counter.args, timeoutMs: 60_000, signal: ctrl.signal });
    // The thread is really spinning (a loaded machine can take a while to start a worker).
    await vi.waitFor(() => expect(counter.count()).toBeGreaterThan(0), { timeout: 20_000, interval: 20 });
    const reason = new Error('run killed');
    ctrl.abort(reason);
    expect(await p.catch((e: unknown) => e)).toBe(reason);
    await expectStopped(counter);
  });

  it('rejects at once, starting no worker, when the signal is already aborted', async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('already'));
    await expect(runToolInWorker({ modulePath: MJS, exportName: 'spin', timeoutMs: 1000, signal: ctrl.signal })).rejects.toThrow('already');
  });

  it('uses the injected clock for its timeout', async () => {
    const clock = new FakeClock();
    const counter = lapCounter();
    const p = runToolInWorker({ modulePath: MJS, exportName: 'spin', args: counter.args, timeoutMs: 1000, clock });
    const settled = p.catch((e: unknown) => e);
    expect(clock.pending).toBe(1);
    await clock.advance(1000);
    const err = await settled;
    expect(GuardError.isInstance(err) && err.code).toBe('timeout.tool');
    expect(clock.pending).toBe(0);
    await expectStopped(counter);
  });

  it('clears its timer after a result', async () => {
    const clock = new FakeClock();
    await expect(runToolInWorker({ modulePath: MJS, exportName: 'add', args: { a: 1, b: 1 }, timeoutMs: 1000, clock })).resolves.toBe(2);
    expect(clock.pending).toBe(0);
  });

  it.each([
    { exportName: 'fail', args: { message: 'bad input' }, name: 'RangeError', message: /^bad input$/ },
    { exportName: 'throwLater', args: undefined, name: 'Error', message: /uncaught in a timer/ },
    { exportName: 'exitEarly', args: undefined, name: 'Error', message: /exited with code 7/ },
    { exportName: 'unclonable', args: undefined, name: 'DataCloneError', message: /could not be cloned/ },
    { exportName: 'notAFunction', args: undefined, name: 'TypeError', message: /export 'notAFunction' of .* is not a function/ },
    { exportName: 'missing', args: undefined, name: 'TypeError', message: /export 'missing' of .* is not a function/ },
  ])('a worker error ($exportName) rejects with an Error carrying its message', async ({ exportName, args, name, message }) => {
    const err = await runToolInWorker({ modulePath: MJS, exportName, args, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe(name);
    expect((err as Error).message).toMatch(message);
    expect(GuardError.isInstance(err)).toBe(false);
  });

  it('a module that cannot be found rejects with the loader message', async () => {
    const err = await runToolInWorker({ modulePath: '/nonexistent/tool.mjs', timeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Cannot find module/);
  });

  it('arguments that cannot be cloned reject without leaving a worker behind', async () => {
    const err = await runToolInWorker({ modulePath: MJS, args: { f: () => 1 }, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('DataCloneError');
  });

  it('rejects an invalid timeout', async () => {
    await expect(runToolInWorker({ modulePath: MJS, timeoutMs: 0 })).rejects.toThrow(TypeError);
    await expect(runToolInWorker({ modulePath: MJS, timeoutMs: Number.POSITIVE_INFINITY })).rejects.toThrow(/timeoutMs/);
  });
});
