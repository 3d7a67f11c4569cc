import { systemClock, type Clock } from '../core/clock.ts';
import type { AuditEvent, StoredEvent } from '../store/audit.ts';
import { createRedactor, type Redactor } from './redact.ts';
import type { AuditSink } from '../store/audit-sink.ts';

/** An event as the runtime hands it over; `time` defaults to the clock's now. */
export type AuditRecord = Omit<AuditEvent, 'time'> & { time?: number };

export interface AuditLogOptions {
  sink: AuditSink;
  /** Fields masked in every event (tool arguments included): bare names or dotted paths. */
  redactFields?: readonly string[];
  /** Known secret values (configured provider and agent keys) masked wherever they appear. */
  secrets?: readonly string[];
  clock?: Clock;
  /** Called when an event could not be prepared or stored. The caller's call is never failed for it. */
  onError?: (error: unknown, event: AuditRecord) => void;
  /** Called with each event once stored (live tail, metrics). */
  onAppend?: (event: StoredEvent) => void;
}

export interface RecordOptions {
  /** Fields to mask in this event only, on top of the log's own (e.g. a tool's configured fields). */
  redactFields?: readonly string[];
}

/**
 * The front the runtime talks to. `record` returns at once and never throws: the event is redacted
 * and snapshotted synchronously (later mutation of the caller's objects does not leak in), then
 * appended in the order recorded.
 */
export interface AuditLog {
  readonly sink: AuditSink;
  record(event: AuditRecord, options?: RecordOptions): void;
  /** Resolves when every event recorded so far has been appended (or reported to onError). */
  flush(): Promise<void>;
  /** Events recorded but not yet appended. */
  readonly pending: number;
  /** Flush, then close the sink. Later records go to onError. */
  close(): Promise<void>;
}

export function createAuditLog({ sink, redactFields = [], secrets = [], clock = systemClock, onError = () => {}, onAppend }: AuditLogOptions): AuditLog {
  const base = createRedactor({ fields: redactFields, secrets });
  let tail: Promise<void> = Promise.resolve();
  let pending = 0;
  let closed = false;

  const report = (error: unknown, event: AuditRecord) => {
    try {
      onError(error, event);
    } catch {
      // An error handler that throws must not break the queue either.
    }
  };

  const redactorFor = (options?: RecordOptions): Redactor =>
    options?.redactFields?.length ? createRedactor({ fields: [...redactFields, ...options.redactFields], secrets }) : base;

  return {
    sink,
    get pending() {
      return pending;
    },
    record(event, options) {
      try {
        if (closed) throw new Error('audit log is closed');
        const prepared = redactorFor(options)({ ...event, time: event.time ?? clock.now() }) as AuditEvent;
        pending++;
        tail = tail
          .then(() => sink.append(prepared))
          .then(
            (stored) => {
              try {
                onAppend?.(stored);
              } catch (error) {
                report(error, event);
              }
            },
            (error: unknown) => report(error, event),
          )
          .finally(() => {
            pending--;
          });
      } catch (error) {
        report(error, event);
      }
    },
    flush() {
      return tail;
    },
    async close() {
      closed = true;
      await tail;
      await sink.close();
    },
  };
}
