import { newWriterId } from '../../audit/writer.ts';
import type { AuditEvent } from '../../store/audit.ts';
import type { AuditSpool, SpooledEvent } from '../../store/audit-sink.ts';
import { openDatabase } from './database.ts';

export interface SqliteAuditSpoolOptions {
  path: string;
  /**
   * Names the sink this spool feeds (URL without credentials, table, replica). An empty spool
   * pointed at another sink starts a new writer, so the new log does not see the old numbers as a gap.
   */
  sink?: string;
}

// One row per event waiting for the remote sink, in the order recorded. spool_meta keeps the
// writer id (made once), the last number it gave, and the pid that owns the spool.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS spool_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  wseq INTEGER NOT NULL,
  time INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spool_meta (
  k TEXT PRIMARY KEY,
  v TEXT NOT NULL
);
`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The audit spool as a SQLite file of its own. Chosen over an append-only file because a batch is
 * one transaction (a crash never leaves half an event), the drained head is deleted in place (no
 * second file for the read position, no compaction), and the driver is already here. Every batch
 * commits with `synchronous = FULL` (fsync of the WAL): the spool exists to keep events through an
 * outage, and it is written once per flush window, so the fsync is paid per batch, not per event.
 * One process owns a spool at a time (its pid is recorded; a live owner makes a second open fail).
 */
export function createSqliteAuditSpool({ path, sink }: SqliteAuditSpoolOptions): AuditSpool {
  const db = openDatabase(path);
  try {
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
  } catch (error) {
    db.close();
    throw error;
  }
  const getMeta = db.prepare<[string], { v: string }>('SELECT v FROM spool_meta WHERE k = ?');
  const setMeta = db.prepare('INSERT INTO spool_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v');

  const claim = db.transaction(() => {
    const owner = Number(getMeta.get('owner')?.v ?? 0);
    if (owner && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`${path}: the audit spool is in use by process ${owner}; give each process its own audit.spool.path`);
    }
    setMeta.run('owner', String(process.pid));
    let writer = getMeta.get('writer')?.v;
    const empty = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM spool_events').get()!.n === 0;
    if (sink !== undefined && getMeta.get('sink')?.v !== sink && empty) {
      writer = undefined;
      setMeta.run('last_wseq', '0');
    }
    if (sink !== undefined) setMeta.run('sink', sink);
    if (!writer) setMeta.run('writer', (writer = newWriterId()));
    return { writer, lastWseq: Number(getMeta.get('last_wseq')?.v ?? 0) };
  });
  let claimed: { writer: string; lastWseq: number };
  try {
    claimed = claim.immediate();
  } catch (error) {
    db.close();
    throw error;
  }
  const { writer } = claimed;
  let lastWseq = claimed.lastWseq;

  const totals = db.prepare<[], { n: number; bytes: number | null; oldest: number | null }>(
    'SELECT count(*) AS n, sum(length(body)) AS bytes, min(time) AS oldest FROM spool_events',
  );
  const initial = totals.get()!;
  let events = initial.n;
  let bytes = initial.bytes ?? 0;
  let oldest = initial.oldest ?? undefined;

  const insert = db.prepare('INSERT INTO spool_events (wseq, time, body) VALUES (?, ?, ?)');
  const putTx = db.transaction((rows: Array<{ wseq: number; time: number; body: string }>) => {
    for (const row of rows) insert.run(row.wseq, row.time, row.body);
    const top = rows[rows.length - 1]!.wseq;
    if (top > lastWseq) setMeta.run('last_wseq', String(top));
  });
  const selectHead = db.prepare<[number], { id: number; body: string }>('SELECT id, body FROM spool_events ORDER BY id LIMIT ?');
  const deleteThrough = db.prepare('DELETE FROM spool_events WHERE id <= ?');
  const sizeThrough = db.prepare<[number], { n: number; bytes: number | null }>(
    'SELECT count(*) AS n, sum(length(body)) AS bytes FROM spool_events WHERE id <= ?',
  );
  const idThroughWseq = db.prepare<[number], { id: number | null }>('SELECT max(id) AS id FROM spool_events WHERE wseq <= ?');
  const selectOldest = db.prepare<[], { time: number }>('SELECT time FROM spool_events ORDER BY id LIMIT 1');
  // Only the rows going are counted (a range of the primary key), not the whole spool.
  const removeTx = db.transaction((throughId: number) => {
    const gone = sizeThrough.get(throughId)!;
    deleteThrough.run(throughId);
    return gone;
  });
  const removeThrough = (throughId: number) => {
    const gone = removeTx.immediate(throughId);
    events -= gone.n;
    bytes -= gone.bytes ?? 0;
    oldest = events > 0 ? selectOldest.get()?.time : undefined;
  };

  let closed = false;
  const open = () => {
    if (closed) throw new Error('audit spool is closed');
  };

  return {
    path,
    writer,
    get lastWseq() {
      return lastWseq;
    },
    async put(batch: readonly AuditEvent[]) {
      this.putSync!(batch);
    },
    putSync(batch: readonly AuditEvent[]) {
      open();
      if (batch.length === 0) return;
      const rows = batch.map((event) => ({ wseq: event.wseq ?? 0, time: event.time, body: JSON.stringify(event) }));
      putTx.immediate(rows);
      for (const row of rows) {
        bytes += row.body.length;
        if (row.wseq > lastWseq) lastWseq = row.wseq;
      }
      if (events === 0) oldest = rows[0]!.time;
      events += rows.length;
    },
    async peek(limit: number): Promise<SpooledEvent[]> {
      open();
      return selectHead.all(Math.max(1, Math.floor(limit))).map((row) => ({ id: row.id, event: JSON.parse(row.body) as AuditEvent }));
    },
    async remove(throughId: number) {
      open();
      removeThrough(throughId);
    },
    async removeThroughWseq(wseq: number) {
      open();
      const id = idThroughWseq.get(wseq)?.id;
      if (id != null) removeThrough(id);
    },
    stats() {
      return { events, bytes, ...(oldest !== undefined ? { oldest } : {}) };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        db.prepare('DELETE FROM spool_meta WHERE k = ? AND v = ?').run('owner', String(process.pid));
      } finally {
        db.close();
      }
    },
  };
}
