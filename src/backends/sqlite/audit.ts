import { openDatabase, type Database } from './database.ts';
import { chainEvent, parseStoredEvent } from '../../audit/chain.ts';
import { columnMismatch, COMPARED_COLUMNS, eventColumns, parseBodies, type EventColumns } from '../../audit/rows.ts';
import type { AuditCheckpoint, AuditEvent, AuditFilter, ChainHead, StoredEvent } from '../../store/audit.ts';
import type { AuditSink, PruneRequest } from '../../store/audit-sink.ts';
import { verifyChain, type VerifyEntry } from '../../audit/verify.ts';

export type SqliteAuditSinkOptions =
  /** Open (or create) this file; the sink closes it on close(). */
  | { path: string }
  /** Share fmguard's state database; the caller keeps ownership of the handle. */
  | { db: Database };

// The body is the canonical JSON that was hashed; the other columns are an index over it.
// audit_head holds the last seq and hash, written in the same transaction as each event, so a
// removed tail (or a re-hashed last event) is detected and appends continue the true chain.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  run TEXT,
  agent TEXT,
  tenant TEXT,
  code TEXT,
  writer TEXT,
  wseq INTEGER,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_run ON audit_events (run, seq);
CREATE INDEX IF NOT EXISTS audit_events_agent ON audit_events (agent, seq);
CREATE INDEX IF NOT EXISTS audit_events_tenant ON audit_events (tenant, seq);
CREATE INDEX IF NOT EXISTS audit_events_code ON audit_events (code, seq);
CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (type, seq);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time);
CREATE TABLE IF NOT EXISTS audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_checkpoint (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  body TEXT NOT NULL
);
`;

// Logs made before writers numbered their events lack these columns; add them in place.
function migrate(db: Database): void {
  const columns = new Set(
    db
      .prepare<[], { name: string }>('PRAGMA table_info(audit_events)')
      .all()
      .map((c) => c.name),
  );
  if (!columns.has('writer')) db.exec('ALTER TABLE audit_events ADD COLUMN writer TEXT');
  if (!columns.has('wseq')) db.exec('ALTER TABLE audit_events ADD COLUMN wseq INTEGER');
  db.exec('CREATE INDEX IF NOT EXISTS audit_events_writer ON audit_events (writer, wseq)');
}

interface EventRow extends EventColumns {
  seq: number;
}

const toRow = (event: StoredEvent): EventRow => ({ seq: event.seq, ...eventColumns(event) });

/**
 * The default sink: a table in fmguard's SQLite file. Each append runs in a BEGIN IMMEDIATE
 * transaction that reads the head, so any number of connections or processes on one file still
 * form one gap-free chain.
 */
export function createSqliteAuditSink(options: SqliteAuditSinkOptions): AuditSink {
  const owned = 'path' in options;
  const db = owned ? openDatabase(options.path) : options.db;
  db.exec(SCHEMA);
  migrate(db);

  const selectHead = db.prepare<[], ChainHead>('SELECT seq, hash FROM audit_head WHERE id = 1');
  const insertEvent = db.prepare(
    `INSERT INTO audit_events (seq, time, type, run, agent, tenant, code, writer, wseq, prev_hash, hash, body)
     VALUES (@seq, @time, @type, @run, @agent, @tenant, @code, @writer, @wseq, @prev_hash, @hash, @body)`,
  );
  const upsertHead = db.prepare(
    'INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
  );
  const selectAll = db.prepare<[], EventRow>('SELECT * FROM audit_events ORDER BY seq');
  const selectTail = db.prepare<[number], { body: string }>('SELECT body FROM audit_events ORDER BY seq DESC LIMIT ?');

  const selectWriterSeq = db.prepare<[string], { wseq: number | null }>('SELECT max(wseq) AS wseq FROM audit_events WHERE writer = ?');
  const selectCheckpoint = db.prepare<[], { body: string }>('SELECT body FROM audit_checkpoint WHERE id = 1');
  const upsertCheckpoint = db.prepare('INSERT INTO audit_checkpoint (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body');
  const readCheckpoint = (): AuditCheckpoint | undefined => {
    const row = selectCheckpoint.get();
    return row ? (JSON.parse(row.body) as AuditCheckpoint) : undefined;
  };

  // The group commit: a batch is one transaction, chained in order from the head read inside it.
  const appendTx = db.transaction((events: readonly AuditEvent[]): StoredEvent[] => {
    let head = selectHead.get();
    const out: StoredEvent[] = [];
    for (const event of events) {
      const stored = chainEvent(event, head);
      insertEvent.run(toRow(stored));
      head = { seq: stored.seq, hash: stored.hash };
      out.push(stored);
    }
    if (head) upsertHead.run(head.seq, head.hash);
    return out;
  });

  const readAllTx = db.transaction(() => ({ rows: selectAll.all(), head: selectHead.get(), checkpoint: readCheckpoint() }));

  const pruneTx = db.transaction(({ before, now, sign }: PruneRequest) => {
    const previous = readCheckpoint();
    const first = db.prepare<[number], { seq: number | null }>('SELECT min(seq) AS seq FROM audit_events WHERE time >= ?').get(before)?.seq;
    const through = db
      .prepare<[number], { seq: number; hash: string } | undefined>('SELECT seq, hash FROM audit_events WHERE seq < ? ORDER BY seq DESC LIMIT 1')
      .get(first ?? Number.MAX_SAFE_INTEGER);
    if (!through) return [];
    const pruned = db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM audit_events WHERE seq <= ?').get(through.seq)!.n;
    // Writers with events on both sides: their last number before the cut (or the previous cut's).
    const lastBefore = db
      .prepare<[number, number], { writer: string; wseq: number }>(
        `SELECT writer, max(wseq) AS wseq FROM audit_events WHERE seq <= ? AND writer IS NOT NULL
         AND writer IN (SELECT DISTINCT writer FROM audit_events WHERE seq > ? AND writer IS NOT NULL) GROUP BY writer`,
      )
      .all(through.seq, through.seq);
    const after = new Set(
      db
        .prepare<[number], { writer: string }>('SELECT DISTINCT writer FROM audit_events WHERE seq > ? AND writer IS NOT NULL')
        .all(through.seq)
        .map((r) => r.writer),
    );
    const writers: Record<string, number> = {};
    for (const [writer, wseq] of Object.entries(previous?.writers ?? {})) if (after.has(writer)) writers[writer] = wseq;
    for (const row of lastBefore) writers[row.writer] = row.wseq;
    const unsigned = { chain: '', seq: through.seq, hash: through.hash, time: now, writers };
    const checkpoint: AuditCheckpoint = { ...unsigned, sig: sign(unsigned) };
    upsertCheckpoint.run(JSON.stringify(checkpoint));
    db.prepare('DELETE FROM audit_events WHERE seq <= ?').run(through.seq);
    return [{ pruned, checkpoint }];
  });

  let closed = false;
  const open = () => {
    if (closed) throw new Error('audit sink is closed');
  };

  return {
    kind: 'sqlite',
    async append(event) {
      open();
      return appendTx.immediate([event])[0]!;
    },
    async appendBatch(events) {
      open();
      return events.length === 0 ? [] : appendTx.immediate(events);
    },
    appendBatchSync(events) {
      open();
      return events.length === 0 ? [] : appendTx.immediate(events);
    },
    async writerSeq(writer) {
      open();
      return selectWriterSeq.get(writer)?.wseq ?? readCheckpoint()?.writers[writer] ?? 0;
    },
    async head() {
      open();
      return { chain: '', head: selectHead.get() };
    },
    async prune(request) {
      open();
      return pruneTx.immediate(request);
    },
    async checkpoints() {
      open();
      const checkpoint = readCheckpoint();
      return checkpoint ? [checkpoint] : [];
    },
    async query(filter: AuditFilter = {}) {
      open();
      const { sql, params } = buildQuery(filter);
      return parseBodies(db.prepare<unknown[], { body: string }>(sql).all(...params));
    },
    async tail(n) {
      open();
      if (n <= 0) return [];
      return parseBodies(selectTail.all(Math.floor(n))).reverse();
    },
    async verify(verifyOptions) {
      open();
      const { rows, head, checkpoint } = readAllTx();
      const entries: VerifyEntry[] = rows.map((row) => {
        const event = parseStoredEvent(row.body);
        return { event, mismatch: event && columnMismatch(row, toRow(event), COMPARED_COLUMNS) };
      });
      // No head with events present means the head record itself was deleted.
      return verifyChain(entries, { ...verifyOptions, head: head ?? (rows.length > 0 ? null : undefined), checkpoint });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned) db.close();
    },
  };
}

function buildQuery(filter: AuditFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const column of ['run', 'agent', 'tenant', 'code'] as const) {
    const value = filter[column];
    if (value !== undefined) {
      where.push(`${column} = ?`);
      params.push(value);
    }
  }
  if (filter.type !== undefined) {
    const types = Array.isArray(filter.type) ? filter.type : [filter.type];
    where.push(`type IN (${types.map(() => '?').join(', ') || 'NULL'})`);
    params.push(...types);
  }
  if (filter.from !== undefined) {
    where.push('time >= ?');
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push('time < ?');
    params.push(filter.to);
  }
  let sql = 'SELECT body FROM audit_events';
  if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ` ORDER BY seq ${(filter.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC'}`;
  if (filter.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(Math.max(0, Math.floor(filter.limit)));
  }
  return { sql, params };
}
