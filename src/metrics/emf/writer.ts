import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { CallEvent } from '../event.ts';
import type { Metrics } from '../recorder.ts';
import { emfDocument } from './record.ts';

export interface EmfWriterOptions {
  /** A file (appended to, created with its folder) or `-` for stdout. */
  path: string;
  namespace: string;
  clock?: Clock;
  /** Write failures (a full disk); the library never logs and never fails a call for metrics. */
  onError?: (error: unknown) => void;
}

export interface EmfWriter {
  /** Append one JSON line for the event. Never throws. */
  record(event: CallEvent): void;
  /** Flush and close the file (stdout is left open). */
  close(): Promise<void>;
}

/**
 * JSON lines in CloudWatch Embedded Metric Format, one per call: the CloudWatch agent (tailing the
 * file) or Lambda and ECS/EKS log drivers (reading stdout) turn them into metrics.
 */
export function createEmfWriter({ path, namespace, clock = systemClock, onError = () => {} }: EmfWriterOptions): EmfWriter {
  let out: Writable;
  const owned = path !== '-';
  if (owned) {
    mkdirSync(dirname(path), { recursive: true });
    out = createWriteStream(path, { flags: 'a' });
    out.on('error', onError);
  } else {
    out = process.stdout;
  }
  let closed = false;
  return {
    record(event) {
      if (closed) return;
      try {
        out.write(`${JSON.stringify(emfDocument(event, namespace, clock.now()))}\n`);
      } catch (error) {
        onError(error);
      }
    },
    close() {
      if (closed || !owned) {
        closed = true;
        return Promise.resolve();
      }
      closed = true;
      return new Promise<void>((resolve) => out.end(() => resolve()));
    },
  };
}

/** `metrics` that also writes every recorded call as an EMF line; stopping them closes the writer. */
export function withEmf(metrics: Metrics, writer: EmfWriter): Metrics {
  return {
    ...metrics,
    record(event: CallEvent) {
      metrics.record(event);
      writer.record(event);
    },
    async stop() {
      try {
        await metrics.stop();
      } finally {
        await writer.close();
      }
    },
  };
}
