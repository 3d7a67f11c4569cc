/**
 * Run a tool that may ignore abort signals in a worker thread that is terminated at its timeout or on
 * abort — the tool is stopped, as Lambda stops a function at its limit, not merely abandoned.
 *
 * The export is called with one argument, `args` (the tool's arguments; structured-cloned, as is the
 * result). The promise settles only after the worker has been terminated, so no tool code is still
 * running when the caller sees the outcome.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { systemClock, type Clock } from '../core/clock.ts';
import { guardError } from '../core/errors.ts';

export interface RunToolInWorkerOptions {
  /** File URL or path (absolute, or relative to the working directory) of an ESM .js/.mjs/.ts module. */
  modulePath: string | URL;
  /** The export to call. Default `'default'`. */
  exportName?: string;
  /** The single argument passed to the export. */
  args?: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Default: the system clock. */
  clock?: Clock;
  /** Heap and stack limits for the worker, so a tool cannot exhaust the process's memory either. */
  resourceLimits?: ResourceLimits;
}

/** Largest delay a timer can wait (2^31-1 ms). */
const MAX_TIMEOUT_MS = 2_147_483_647;

// Runs as a CommonJS script in the worker. .ts modules go through tsx's tsImport, which registers
// its loader for this one import only.
const BOOTSTRAP = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { url, exportName, args, tsxApi } = workerData;
  const mod = tsxApi ? await (await import(tsxApi)).tsImport(url, url) : await import(url);
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new TypeError("export '" + exportName + "' of " + url + ' is not a function');
  const value = await fn(args);
  parentPort.postMessage({ ok: true, value });
})().catch((e) => {
  const isErr = e instanceof Error;
  parentPort.postMessage({ ok: false, name: isErr ? e.name : 'Error', message: isErr ? e.message : String(e), stack: isErr ? e.stack : undefined });
});
`;

type WorkerReply = { ok: true; value: unknown } | { ok: false; name: string; message: string; stack?: string };

function toUrl(modulePath: string | URL): string {
  if (modulePath instanceof URL) return modulePath.href;
  if (modulePath.startsWith('file:')) return modulePath;
  return pathToFileURL(isAbsolute(modulePath) ? modulePath : resolve(modulePath)).href;
}

let tsxApiUrl: string | undefined;
function tsxApi(): string {
  // Resolved from fmguard's own location, so it works whatever the tool's directory. The ESM entry:
  // the CJS build's tsImport fails to load its own ESM half. (`--import tsx` in a worker's execArgv
  // does not install the loader in the worker on Node 20, hence tsImport.)
  // tsx is an optional peer dependency: only tools written in TypeScript need it.
  try {
    tsxApiUrl ??= import.meta.resolve('tsx/esm/api');
  } catch (error) {
    throw new Error(
      'a worker tool written in TypeScript needs the "tsx" package, which is not installed: run `npm install tsx` (or point the worker at compiled JavaScript)',
      { cause: error },
    );
  }
  return tsxApiUrl;
}

function remoteError(reply: { name: string; message: string; stack?: string }): Error {
  const err = new Error(reply.message);
  err.name = reply.name;
  if (reply.stack) err.stack = reply.stack;
  return err;
}

/**
 * What a worker's 'error' event carries: an Error, or, when the tool threw something else outside the call
 * (`setTimeout(() => { throw null })`), the bare value. Read as the call's own non-Error throws are; never
 * throws itself, since this runs in the caller's process.
 */
function uncaughtError(value: unknown): Error {
  if (value instanceof Error) return remoteError(value);
  return remoteError({ name: 'Error', message: String(value) });
}

/** Call `exportName` of `modulePath` with `args` in a worker; terminate it at `timeoutMs` or on abort. */
export function runToolInWorker(options: RunToolInWorkerOptions): Promise<unknown> {
  const { modulePath, exportName = 'default', args, timeoutMs, signal, clock = systemClock, resourceLimits } = options;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    return Promise.reject(new TypeError(`timeoutMs: expected a number of milliseconds in (0, ${MAX_TIMEOUT_MS}]`));
  }
  if (signal?.aborted) return Promise.reject(signal.reason);

  return new Promise<unknown>((resolvePromise, rejectPromise) => {
    const url = toUrl(modulePath);
    let worker: Worker;
    try {
      worker = new Worker(BOOTSTRAP, {
        eval: true,
        workerData: { url, exportName, args, tsxApi: /\.[cm]?tsx?$/.test(new URL(url).pathname) ? tsxApi() : undefined },
        resourceLimits,
      });
    } catch (err) {
      // e.g. args that cannot be structured-cloned.
      rejectPromise(err);
      return;
    }
    let settled = false;

    const finish = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Listeners stay: they are no-ops now, and an 'error' event without one would throw.
      const done = () => {
        if (outcome.ok) resolvePromise(outcome.value);
        else rejectPromise(outcome.error);
      };
      // Settle once the thread is gone, so nothing of the tool outlives the call.
      worker.terminate().then(done, done);
    };

    const onAbort = () => finish({ ok: false, error: signal!.reason });
    const timer = clock.setTimeout(
      () =>
        finish({
          ok: false,
          error: guardError('timeout.tool', `tool '${exportName}' did not finish within ${timeoutMs} ms; its worker was terminated`, {
            limit: timeoutMs,
          }),
        }),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (reply: WorkerReply) => {
      finish(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: remoteError(reply) });
    });
    worker.on('error', (err: unknown) => finish({ ok: false, error: uncaughtError(err) }));
    worker.on('messageerror', (err: unknown) => finish({ ok: false, error: uncaughtError(err) }));
    worker.on('exit', (code) => {
      finish({ ok: false, error: new Error(`tool worker exited with code ${code} before returning a result`) });
    });
  });
}
