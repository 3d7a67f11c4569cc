import { closeSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { chainEvent, parseStoredEvent, serializeEvent } from '../../audit/chain.ts';
import type { AuditEvent, AuditFilter, ChainHead, StoredEvent } from '../../store/audit.ts';
import { applyFilter } from '../../audit/filter.ts';
import type { AuditSink } from '../../store/audit-sink.ts';
import { verifyChain } from '../../audit/verify.ts';

export interface JsonlAuditSinkOptions {
  path: string;
}

/**
 * One canonical JSON event per line, appended. The chain head is recovered from the last line when
 * the file is opened. One writing process per file: unlike SQLite there is no cross-process lock.
 * Opening fails if the last line is not an event (a torn or edited tail) rather than chain onto it.
 */
export function createJsonlAuditSink({ path }: JsonlAuditSinkOptions): AuditSink {
  mkdirSync(dirname(path), { recursive: true });
  const last = readLastLine(path);
  let head: ChainHead | undefined;
  if (last.line !== undefined) {
    const event = parseStoredEvent(last.line);
    if (!event) throw new Error(`${path}: the last line is not an audit event; run verify before appending`);
    head = { seq: event.seq, hash: event.hash };
  }
  // An edited file may have lost its final newline; never glue a new event onto the old line.
  let needsNewline = !last.endsWithNewline;
  let handle: FileHandle | undefined;
  let closed = false;

  // Appends and reads run one at a time, in call order, so reads see every earlier append.
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(() => {
      if (closed) throw new Error('audit sink is closed');
      return fn();
    });
    queue = run.catch(() => {});
    return run;
  };

  const readAll = async (): Promise<string[]> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  };

  const readEvents = async (): Promise<StoredEvent[]> => {
    const out: StoredEvent[] = [];
    for (const line of await readAll()) {
      try {
        out.push(JSON.parse(line) as StoredEvent);
      } catch {
        // Unreadable lines are reported by verify(); a query cannot show them.
      }
    }
    return out;
  };

  // A batch is one write of whole lines; the head moves only once it is written.
  const appendAll = (events: readonly AuditEvent[]) =>
    enqueue(async () => {
      const stored: StoredEvent[] = [];
      let next = head;
      for (const event of events) {
        const one = chainEvent(event, next);
        stored.push(one);
        next = { seq: one.seq, hash: one.hash };
      }
      if (stored.length === 0) return stored;
      // Tool arguments are in here: readable by the owner only.
      handle ??= await open(path, 'a', 0o600);
      await handle.appendFile(`${needsNewline ? '\n' : ''}${stored.map((e) => `${serializeEvent(e)}\n`).join('')}`);
      needsNewline = false;
      head = next;
      return stored;
    });

  return {
    kind: 'jsonl',
    async append(event: AuditEvent) {
      return (await appendAll([event]))[0]!;
    },
    appendBatch: appendAll,
    writerSeq(writer) {
      return enqueue(async () => {
        const events = await readEvents();
        for (let i = events.length - 1; i >= 0; i--) if (events[i]!.writer === writer) return events[i]!.wseq ?? 0;
        return 0;
      });
    },
    head() {
      return enqueue(async () => ({ chain: '', head }));
    },
    query(filter?: AuditFilter) {
      return enqueue(async () => applyFilter(await readEvents(), filter));
    },
    tail(n) {
      return enqueue(async () => (n > 0 ? (await readEvents()).slice(-Math.floor(n)) : []));
    },
    verify(options) {
      return enqueue(async () => {
        const entries = (await readAll()).map((line) => ({ event: parseStoredEvent(line) }));
        // The head this process last wrote (or read at open) catches a tail cut off since.
        return verifyChain(entries, { ...options, head });
      });
    },
    async close() {
      await enqueue(async () => {
        closed = true;
        await handle?.close();
        handle = undefined;
      }).catch(() => {});
    },
  };
}

/** The last line of a file without reading all of it (the chain head on open). */
function readLastLine(path: string): { line: string | undefined; endsWithNewline: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { line: undefined, endsWithNewline: true };
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { line: undefined, endsWithNewline: true };
    const lastByte = Buffer.alloc(1);
    readSync(fd, lastByte, 0, 1, size - 1);
    const endsWithNewline = lastByte[0] === 0x0a;
    let pos = endsWithNewline ? size - 1 : size;
    const chunks: Buffer[] = [];
    while (pos > 0) {
      const length = Math.min(64 * 1024, pos);
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, pos - length);
      pos -= length;
      const newline = chunk.lastIndexOf(0x0a);
      if (newline >= 0) {
        chunks.unshift(chunk.subarray(newline + 1));
        break;
      }
      chunks.unshift(chunk);
    }
    return { line: Buffer.concat(chunks).toString('utf8'), endsWithNewline };
  } finally {
    closeSync(fd);
  }
}
