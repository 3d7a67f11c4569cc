import type { StoredEvent } from '../store/audit.ts';
import { serializeEvent } from './chain.ts';

/**
 * The columns a database sink (SQLite, Postgres) keeps for an event: the canonical JSON body that was
 * hashed, and an index over it that queries filter on. verify() checks the index against the body.
 */
export interface EventColumns {
  time: number;
  type: string;
  run: string | null;
  agent: string | null;
  tenant: string | null;
  code: string | null;
  writer: string | null;
  wseq: number | null;
  prev_hash: string;
  hash: string;
  body: string;
}

/** The index columns verify() compares with the body (seq is the row's place, so it is not compared). */
export const COMPARED_COLUMNS = ['time', 'type', 'run', 'agent', 'tenant', 'code', 'writer', 'wseq', 'prev_hash', 'hash'] as const;

export function eventColumns(event: StoredEvent): EventColumns {
  return {
    time: event.time,
    type: event.type,
    run: event.run ?? null,
    agent: event.agent ?? null,
    tenant: event.tenant ?? null,
    code: event.code ?? null,
    writer: event.writer ?? null,
    wseq: event.wseq ?? null,
    prev_hash: event.prevHash,
    hash: event.hash,
    body: serializeEvent(event),
  };
}

/** Which of `columns` of a stored row disagrees with what the body says, as verify() reports it. */
export function columnMismatch<R extends object>(row: R, expected: R, columns: ReadonlyArray<keyof R & string>): string | undefined {
  for (const column of columns) {
    if (row[column] !== expected[column]) return `column ${column} was edited (${String(row[column])} != ${String(expected[column])})`;
  }
  return undefined;
}

/** Parse stored bodies, skipping unreadable ones (verify() reports those; a query cannot show them). */
export function parseBodies<E extends StoredEvent = StoredEvent>(rows: ReadonlyArray<{ body: string }>): E[] {
  const out: E[] = [];
  for (const row of rows) {
    try {
      out.push(JSON.parse(row.body) as E);
    } catch {
      // Reported by verify().
    }
  }
  return out;
}
