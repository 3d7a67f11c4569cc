import { createRequire } from 'node:module';
import type { FmguardConfig } from '../config/resolve.ts';
import type { AccessEntry, AccessLogSink } from '../gateway/index.ts';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
interface PinoLogger {
  info(obj: object): void;
  warn(obj: object): void;
}
interface Destination {
  end(): void;
  once(event: 'close' | 'error', listener: () => void): void;
}
interface Pino {
  (options: object, stream?: unknown): PinoLogger;
  destination(options: { dest: string | number; sync?: boolean; mkdir?: boolean; append?: boolean }): Destination;
  stdTimeFunctions: { isoTime: () => string };
}

export interface AccessLog {
  sink: AccessLogSink;
  /** Write out what is buffered (the gateway's close calls it). */
  close(): Promise<void>;
}

/**
 * The access log the config asks for, written by pino (loaded only when a log is wanted). `off` (or
 * level `silent`) gives none. A file is written asynchronously and flushed on close; stdout and
 * stderr synchronously, like any CLI output.
 */
export function openAccessLog(settings: FmguardConfig['server']['accessLog'], fallback: 'stdout' | 'off' = 'off'): AccessLog | undefined {
  const destination = settings?.destination ?? fallback;
  const level: Level = settings?.level ?? 'info';
  if (destination === 'off' || level === 'silent') return undefined;
  const pino = createRequire(import.meta.url)('pino') as Pino;
  const toFile = destination !== 'stdout' && destination !== 'stderr';
  const stream = pino.destination(
    toFile ? { dest: destination, sync: false, mkdir: true, append: true } : { dest: destination === 'stdout' ? 1 : 2, sync: true },
  );
  // No pid/hostname noise, `msg` fixed, the time as ISO text; fields are the entry's own.
  const logger = pino({ level, base: undefined, messageKey: 'msg', timestamp: false }, stream);
  let closed: Promise<void> | undefined;
  return {
    sink: (entry: AccessEntry) => {
      const line = { msg: 'request', ...entry };
      if ((entry.status ?? 0) >= 500) logger.warn(line);
      else logger.info(line);
    },
    close() {
      // stdout and stderr are written synchronously and stay open. A file is written asynchronously:
      // pino's flush() calls back at once when nothing is held back for batching (minLength 0), before
      // the writes reach the file, so the stream is ended and its close awaited instead.
      if (!toFile) return Promise.resolve();
      closed ??= new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.once('error', resolve);
        stream.end();
      });
      return closed;
    },
  };
}
