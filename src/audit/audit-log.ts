import { systemClock, type Clock } from '../core/clock.ts';
import type { AuditEvent, StoredEvent } from '../store/audit.ts';
import type { AuditSink, AuditSpool } from '../store/audit-sink.ts';
import { createAnchorer, type Anchorer } from './anchorer.ts';
import { createRedactor, type Redactor } from './redact.ts';
import { createAuditPruner, type AuditPruner } from './retention.ts';
import { newWriterId } from './writer.ts';

/** An event as the runtime hands it over; `time` defaults to the clock's now. */
export type AuditRecord = Omit<AuditEvent, 'time' | 'writer' | 'wseq'> & { time?: number };

/** What happens when the events waiting for the sink reach the bound. */
export type SpoolFullPolicy = 'fail-closed' | 'drop';

export interface AuditLogOptions {
  sink: AuditSink;
  /**
   * A local durable queue in front of a remote sink: events are kept there first (one transaction
   * per batch) and drained to the sink in order, so an unreachable sink loses nothing.
   */
  spool?: AuditSpool;
  /** Group commit: events recorded within this many ms are written together. Default 5. */
  flushMs?: number;
  /** At most this many events per batch; a full batch is written at once. Default 500. */
  maxBatch?: number;
  /**
   * The bound on events waiting to reach the sink: in the spool (with one) or in memory (without,
   * while the sink fails). Defaults: 100,000 with a spool, 10,000 without.
   */
  maxEvents?: number;
  /** The bound on the spool's size in bytes of event text. Default 256 MiB. */
  maxBytes?: number;
  /**
   * At the bound: `fail-closed` (default) stops admitting calls at 90 % so the rest is kept for calls
   * already in flight, and drops only past 100 %; `drop` keeps admitting and drops events past 100 %.
   * Dropped events keep their numbers and an `audit.gap` event declares them.
   */
  onFull?: SpoolFullPolicy;
  /** Fields masked in every event (tool arguments included): bare names or dotted paths. */
  redactFields?: readonly string[];
  /** Known secret values (configured provider and agent keys) masked wherever they appear. */
  secrets?: readonly string[];
  clock?: Clock;
  /** Called when an event could not be prepared, stored, or had to be dropped. The caller's call is never failed for it. */
  onError?: (error: unknown, event?: AuditRecord) => void;
  /** Called with each event once it is in the sink (live tail, metrics). */
  onAppend?: (event: StoredEvent) => void;
  /** Sign the chain head every `everyMs` (default 10 s) and at close, appending it to `path`. */
  anchor?: { key: string; path?: string; everyMs?: number };
  /** Prune events older than `maxAgeMs` every `everyMs` (default 1 h), leaving a signed checkpoint. */
  retention?: { key: string; maxAgeMs: number; everyMs?: number };
}

export interface RecordOptions {
  /** Fields to mask in this event only, on top of the log's own (e.g. a tool's configured fields). */
  redactFields?: readonly string[];
}

/**
 * - ok: events reach the sink.
 * - degraded: the sink (or the spool) fails; events wait, up to the bound, and calls go on.
 * - refusing: fail-closed and the bound is (nearly) reached: calls are refused until it drains.
 */
export type AuditHealth = 'ok' | 'degraded' | 'refusing';

export interface AuditState {
  state: AuditHealth;
  /** This log's writer id and the last number it gave. */
  writer: string;
  wseq: number;
  /** Events recorded but not yet in the sink (memory and spool). */
  waiting: number;
  /** Bytes of event text in the spool. */
  spoolBytes: number;
  /** When the oldest waiting event was recorded. */
  oldest?: number;
  /** Events dropped since start (declared by `audit.gap` events). */
  dropped: number;
  /** When the sink (or spool) started failing, and its last error. */
  failingSince?: number;
  lastError?: string;
  onFull: SpoolFullPolicy;
  maxEvents: number;
}

/**
 * The front the runtime talks to. `record` returns at once and never throws: the event is redacted,
 * snapshotted and numbered by this writer synchronously, then written with the others of its flush
 * window in one batch (the chain still computed in order).
 */
export interface AuditLog {
  /** The sink, for reading: its reads first flush what this log recorded (read-your-writes). */
  readonly sink: AuditSink;
  readonly writer: string;
  /** Signs the head (with `anchor`). */
  readonly anchorer?: Anchorer;
  /** Prunes by age (with `retention`). */
  readonly pruner?: AuditPruner;
  record(event: AuditRecord, options?: RecordOptions): void;
  /**
   * Resolves when every event recorded so far is in the sink, or, while the sink fails, kept where it
   * waits (the spool, or memory).
   */
  flush(): Promise<void>;
  /** Events recorded but not yet in the sink. */
  readonly pending: number;
  /** False while calls must be refused (fail-closed and the bound is reached). */
  readonly admitting: boolean;
  state(): AuditState;
  /** Flush, then close the spool and the sink. Later records go to onError. */
  close(): Promise<void>;
}

/** A refusal caused by the audit bound itself: dropped (and declared) rather than eat the room kept for calls in flight. */
function isGateRefusal(event: AuditEvent): boolean {
  return event.type === 'call.refused' && event.details?.auditGate === true;
}

const MAX_BACKOFF_MS = 5000;

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { sink, spool, redactFields = [], secrets = [], clock = systemClock, onError = () => {}, onAppend } = options;
  const flushMs = Math.max(0, options.flushMs ?? 5);
  const maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 500));
  const maxEvents = Math.max(1, Math.floor(options.maxEvents ?? (spool ? 100_000 : 10_000)));
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const onFull: SpoolFullPolicy = options.onFull ?? 'fail-closed';
  const writer = spool?.writer ?? newWriterId();
  let wseq = spool?.lastWseq ?? 0;

  const base = createRedactor({ fields: redactFields, secrets });
  const redactorFor = (opts?: RecordOptions): Redactor =>
    opts?.redactFields?.length ? createRedactor({ fields: [...redactFields, ...opts.redactFields], secrets }) : base;

  let buffer: AuditEvent[] = [];
  let flushing: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let resync = true; // the first drain asks the sink where this writer stands
  let closed = false;
  let dropped = 0;
  let gapRanges: Array<[number, number]> = [];
  let gapReasons: Record<string, number> = {};
  let stageFailure: { since: number; error: string; attempts: number } | undefined;
  let sinkFailure: { since: number; error: string; attempts: number } | undefined;

  const report = (error: unknown, event?: AuditRecord) => {
    try {
      onError(error, event);
    } catch {
      // An error handler that throws must not break the log either.
    }
  };
  const delivered = (stored: readonly StoredEvent[]) => {
    if (!onAppend) return;
    for (const event of stored) {
      try {
        onAppend(event);
      } catch (error) {
        report(error);
      }
    }
  };
  const failing = (current: typeof stageFailure, error: unknown) => ({
    since: current?.since ?? clock.now(),
    error: error instanceof Error ? error.message : String(error),
    attempts: (current?.attempts ?? 0) + 1,
  });
  const backoff = (attempts: number) => Math.min(MAX_BACKOFF_MS, 25 * 2 ** Math.min(attempts, 12));

  const waiting = () => buffer.length + (spool?.stats().events ?? 0);
  const fill = () => Math.max(waiting() / maxEvents, spool ? spool.stats().bytes / maxBytes : 0);
  const admitting = () => onFull !== 'fail-closed' || fill() < 0.9;

  const drop = (event: AuditEvent, reason: string) => {
    const n = event.wseq!;
    const episode = gapRanges.length === 0;
    const last = gapRanges[gapRanges.length - 1];
    if (last && last[1] === n - 1) last[1] = n;
    else gapRanges.push([n, n]);
    gapReasons[reason] = (gapReasons[reason] ?? 0) + 1;
    dropped++;
    // Loud, once per episode: the onError hook logs it; the audit.gap event declares every number.
    if (episode) report(new Error(`audit events of writer ${writer} are being dropped from number ${n}: ${reason}`));
  };

  /**
   * Once there is room again (below 90 %, so the room kept for calls in flight stays theirs), one
   * `audit.gap` event declares what was dropped; its own number follows. At close it is forced in.
   */
  const declareGaps = (force = false) => {
    if (gapRanges.length === 0 || (!force && fill() >= 0.9)) return;
    const ranges = gapRanges;
    const reasons = gapReasons;
    gapRanges = [];
    gapReasons = {};
    const count = ranges.reduce((n, [from, to]) => n + to - from + 1, 0);
    buffer.push({ type: 'audit.gap', time: clock.now(), writer, wseq: ++wseq, details: { writer, ranges, count, reasons } });
  };

  const schedule = (delay: number) => {
    if (timer || flushing || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      startFlush();
    }, delay);
  };

  const failed = (batch: AuditEvent[], error: unknown) => {
    buffer = batch.concat(buffer);
    if (!stageFailure) report(error);
    stageFailure = failing(stageFailure, error);
    return false;
  };

  /** Write one batch to the first durable stage, committed before this returns; undefined when the stage has no synchronous path. */
  const writeSync = (batch: AuditEvent[]): boolean | undefined => {
    const put = spool?.putSync?.bind(spool);
    const append = !spool ? sink.appendBatchSync?.bind(sink) : undefined;
    if (!put && !append) return undefined;
    try {
      if (put) {
        put(batch);
        kickDrain();
      } else delivered(append!(batch));
      stageFailure = undefined;
      return true;
    } catch (error) {
      return failed(batch, error);
    }
  };

  const write = async (batch: AuditEvent[]): Promise<boolean> => {
    try {
      if (spool) {
        await spool.put(batch);
        kickDrain();
      } else {
        delivered(await sink.appendBatch(batch));
      }
      stageFailure = undefined;
      return true;
    } catch (error) {
      return failed(batch, error);
    }
  };

  const afterWrite = (ok: boolean) => {
    declareGaps();
    if (buffer.length === 0) return;
    if (!ok) {
      // Retry while the stage fails; the timer must not keep a process alive on its own.
      timer = setTimeout(
        () => {
          timer = undefined;
          startFlush();
        },
        backoff(stageFailure?.attempts ?? 1),
      );
      timer.unref?.();
    } else schedule(buffer.length >= maxBatch ? 0 : flushMs);
  };

  function startFlush(): void {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (flushing || buffer.length === 0) return;
    const batch = buffer.splice(0, maxBatch);
    const done = writeSync(batch);
    if (done !== undefined) return afterWrite(done);
    const current = write(batch);
    flushing = current;
    void current.then((ok) => {
      flushing = undefined;
      afterWrite(ok);
    });
  }

  function kickDrain(): void {
    if (!spool || draining || drainTimer || closedHard) return;
    draining = drainLoop().finally(() => {
      draining = undefined;
    });
  }

  let closedHard = false;

  async function drainLoop(): Promise<void> {
    while (spool && spool.stats().events > 0 && !closedHard) {
      try {
        if (resync) {
          // After a failure the last batch may have committed before the error: skip what the sink has.
          await spool.removeThroughWseq(await sink.writerSeq(spool.writer));
          resync = false;
          continue;
        }
        const rows = await spool.peek(maxBatch);
        if (rows.length === 0) return;
        const stored = await sink.appendBatch(rows.map((r) => r.event));
        await spool.remove(rows[rows.length - 1]!.id);
        sinkFailure = undefined;
        delivered(stored);
        declareGaps();
        if (buffer.length > 0 && !flushing) schedule(flushMs);
      } catch (error) {
        resync = true;
        if (!sinkFailure) report(error);
        sinkFailure = failing(sinkFailure, error);
        drainTimer = setTimeout(() => {
          drainTimer = undefined;
          kickDrain();
        }, backoff(sinkFailure.attempts));
        drainTimer.unref?.();
        return;
      }
    }
  }

  /** Every batch written (or the stage failing). */
  async function settleStage(): Promise<void> {
    for (;;) {
      if (!flushing) startFlush();
      if (!flushing) return;
      const ok = await flushing;
      if (!ok) return;
    }
  }

  /** The spool drained into the sink (or the sink failing). */
  async function settleDrain(): Promise<void> {
    if (!spool) return;
    for (;;) {
      if (spool.stats().events === 0) return;
      if (drainTimer) return; // failing: waiting for the next try
      kickDrain();
      if (!draining) return;
      await draining;
      if (sinkFailure) return;
    }
  }

  const anchorer = options.anchor && createAnchorer({ sink, ...options.anchor, clock, onError: (error) => report(error) });
  const pruner =
    options.retention && createAuditPruner({ sink, ...options.retention, anchorPath: options.anchor?.path, clock, onError: (error) => report(error) });
  anchorer?.start();
  pruner?.start();

  const flushAll = async () => {
    await settleStage();
    await settleDrain();
  };
  // Reads through the log see every event it recorded before them, though group commit holds events
  // for a flush window (a run's timeline right after its call, a verify right after an append).
  const READS = new Set(['query', 'tail', 'verify', 'head', 'checkpoints', 'writerSeq', 'replicas']);
  const readable = new Proxy(sink, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !READS.has(property) || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        if (!closed) await flushAll();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });

  return {
    sink: readable,
    writer,
    ...(anchorer ? { anchorer } : {}),
    ...(pruner ? { pruner } : {}),
    get pending() {
      return waiting();
    },
    get admitting() {
      return admitting();
    },
    state() {
      const stats = spool?.stats();
      const failure = stageFailure ?? sinkFailure;
      const oldest = buffer[0]?.time ?? stats?.oldest;
      const degraded = failure !== undefined || gapRanges.length > 0;
      return {
        state: !admitting() ? 'refusing' : degraded ? 'degraded' : 'ok',
        writer,
        wseq,
        waiting: waiting(),
        spoolBytes: stats?.bytes ?? 0,
        ...(oldest !== undefined && waiting() > 0 ? { oldest: Math.min(oldest, stats?.oldest ?? oldest) } : {}),
        dropped,
        ...(failure ? { failingSince: failure.since, lastError: failure.error } : {}),
        onFull,
        maxEvents,
      };
    },
    record(event, opts) {
      try {
        if (closed) throw new Error('audit log is closed');
        const prepared = redactorFor(opts)({ ...event, time: event.time ?? clock.now() }) as AuditEvent;
        declareGaps();
        const numbered: AuditEvent = { ...prepared, writer, wseq: ++wseq };
        if (onFull === 'fail-closed' && !admitting() && isGateRefusal(numbered)) return drop(numbered, 'refused while the audit spool was full');
        if (fill() >= 1) return drop(numbered, spool ? 'the audit spool is full' : 'too many audit events waiting for the sink');
        buffer.push(numbered);
        // A full batch is written now (on SQLite before record returns), so no more than one batch waits.
        if (buffer.length >= maxBatch && !flushing && !stageFailure) startFlush();
        else schedule(flushMs);
      } catch (error) {
        report(error, event);
      }
    },
    flush: flushAll,
    async close() {
      if (closed) return;
      closed = true;
      pruner?.stop();
      anchorer?.stop();
      declareGaps(true);
      await settleStage();
      await settleDrain();
      // The last head is anchored on the way out, so a clean stop leaves nothing unanchored.
      if (anchorer) await anchorer.anchorNow().catch((error: unknown) => report(error));
      closedHard = true;
      if (timer) clearTimeout(timer);
      if (drainTimer) clearTimeout(drainTimer);
      await draining;
      if (buffer.length > 0) report(new Error(`${buffer.length} audit events could not be written before close`));
      try {
        await spool?.close();
      } finally {
        await sink.close();
      }
    },
  };
}
