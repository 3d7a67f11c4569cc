import type pg from 'pg';
import { chainEvent, parseStoredEvent } from '../../audit/chain.ts';
import { columnMismatch, COMPARED_COLUMNS, eventColumns, parseBodies, type EventColumns } from '../../audit/rows.ts';
import { loadDriver } from '../driver.ts';
import type { AuditCheckpoint, AuditEvent, AuditFilter, ChainHead, StoredEvent, VerifyOptions, VerifyResult } from '../../store/audit.ts';
import type { AuditSink, PruneRequest, PruneResult } from '../../store/audit-sink.ts';
import { verifyChain, verifyWriters, type VerifyEntry } from '../../audit/verify.ts';

export type PostgresAuditSinkOptions = (
  | { connectionString: string }
  /** Share a pool; the caller keeps ownership (close() leaves it open). */
  | { pool: pg.Pool }
) & {
  /** This replica's name: its events form their own chain (seq 1, 2, 3, ... and prevHash per replica). */
  replica: string;
  /** Events table, `name` or `schema.name` (default `fmguard_audit_events`); heads live in `<table>_heads`. */
  table?: string;
};

/** An event as this sink stores it: the replica that appended it is part of the hashed body. */
export type ReplicaEvent = StoredEvent & { replica: string };

export interface PostgresAuditFilter extends AuditFilter {
  /** Only events of this replica (default: every replica). */
  replica?: string;
}

export interface PostgresVerifyOptions extends VerifyOptions {
  /** Heads recorded earlier, per replica. `anchor` alone applies to this sink's own replica. */
  anchors?: Record<string, ChainHead>;
}

/** One replica's chain, as verify found it. */
export interface ChainReport {
  replica: string;
  result: VerifyResult;
}

/**
 * The result over every chain: ok only if all are. A failure is the first broken chain's (replicas
 * in name order), with `replica` set and named in the message; `chains` has each chain's own result.
 */
export type PostgresVerifyResult = (Extract<VerifyResult, { ok: true }> | (Extract<VerifyResult, { ok: false }> & { replica: string })) & {
  chains: ChainReport[];
};

export interface PostgresAuditSink extends AuditSink {
  readonly replica: string;
  readonly pool: pg.Pool;
  append(event: AuditEvent): Promise<ReplicaEvent>;
  appendBatch(events: readonly AuditEvent[]): Promise<ReplicaEvent[]>;
  /** Events of every replica (or one), ordered by when they were appended. */
  query(filter?: PostgresAuditFilter): Promise<ReplicaEvent[]>;
  /** The last `n` events of all replicas, oldest first. */
  tail(n: number): Promise<ReplicaEvent[]>;
  verify(options?: PostgresVerifyOptions): Promise<PostgresVerifyResult>;
  /** Every replica that has a chain here. */
  replicas(): Promise<string[]>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/;

interface Names {
  events: string;
  heads: string;
  checkpoints: string;
  /** Unqualified base name, for index names and the DDL lock. */
  base: string;
}

function namesOf(table: string): Names {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) throw new TypeError(`invalid table name ${JSON.stringify(table)}`);
  const base = parts[parts.length - 1];
  const schema = parts.length === 2 ? `"${parts[0]}".` : '';
  return { events: `${schema}"${base}"`, heads: `${schema}"${base}_heads"`, checkpoints: `${schema}"${base}_checkpoints"`, base };
}

// The body is the canonical JSON that was hashed; the other columns are an index over it. `id`
// orders events across replicas (append order); (replica, seq) is each chain's own order. The
// heads table holds each chain's last seq and hash, written in the same transaction as its events,
// so a removed tail is detected and concurrent appends of one replica serialize on its row.
function schemaSql({ events, heads, checkpoints, base }: Names): string {
  return `
CREATE TABLE IF NOT EXISTS ${events} (
  id BIGSERIAL PRIMARY KEY,
  replica TEXT NOT NULL,
  seq BIGINT NOT NULL,
  time DOUBLE PRECISION NOT NULL,
  type TEXT NOT NULL,
  run TEXT,
  agent TEXT,
  tenant TEXT,
  code TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (replica, seq)
);
CREATE INDEX IF NOT EXISTS "${base}_run" ON ${events} (run, id);
CREATE INDEX IF NOT EXISTS "${base}_agent" ON ${events} (agent, id);
CREATE INDEX IF NOT EXISTS "${base}_tenant" ON ${events} (tenant, id);
CREATE INDEX IF NOT EXISTS "${base}_code" ON ${events} (code, id);
CREATE INDEX IF NOT EXISTS "${base}_type" ON ${events} (type, id);
CREATE INDEX IF NOT EXISTS "${base}_time" ON ${events} (time);
CREATE TABLE IF NOT EXISTS ${heads} (
  replica TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS writer TEXT;
ALTER TABLE ${events} ADD COLUMN IF NOT EXISTS wseq BIGINT;
CREATE INDEX IF NOT EXISTS "${base}_writer" ON ${events} (writer, wseq);
CREATE TABLE IF NOT EXISTS ${checkpoints} (
  replica TEXT PRIMARY KEY,
  body TEXT NOT NULL
);`;
}

interface EventRow extends Omit<EventColumns, 'wseq'> {
  replica: string;
  seq: string;
  /** BIGINT comes back as text. */
  wseq: string | null;
}

const toRow = (event: ReplicaEvent): EventRow => {
  const columns = eventColumns(event);
  return { replica: event.replica, seq: String(event.seq), ...columns, wseq: columns.wseq === null ? null : String(columns.wseq) };
};

interface HeadRow {
  replica: string;
  seq: string;
  hash: string;
}

const COLUMNS = 'replica, seq, time, type, run, agent, tenant, code, writer, wseq, prev_hash, hash, body';
const COLUMN_COUNT = 13;

/** One multi-row INSERT for a batch: `($1, ..., $13), ($14, ...)`. */
function insertValues(rows: readonly EventRow[]): { placeholders: string; params: unknown[] } {
  const params: unknown[] = [];
  const groups: string[] = [];
  for (const row of rows) {
    const base = params.length;
    params.push(row.replica, row.seq, row.time, row.type, row.run, row.agent, row.tenant, row.code, row.writer, row.wseq, row.prev_hash, row.hash, row.body);
    groups.push(`(${Array.from({ length: COLUMN_COUNT }, (_, i) => `$${base + i + 1}`).join(', ')})`);
  }
  return { placeholders: groups.join(', '), params };
}

// Postgres takes at most 65,535 parameters per statement: 5,000 rows of 13 stay well under.
const ROWS_PER_INSERT = 5000;

/**
 * The audit log of every replica in one PostgreSQL database. Each replica keeps its own hash chain;
 * an append locks that replica's head row (SELECT ... FOR UPDATE) inside its transaction, so any
 * number of processes appending as one replica still form one gap-free chain, and replicas never
 * wait on each other. verify() walks every chain.
 */
export function createPostgresAuditSink(options: PostgresAuditSinkOptions): PostgresAuditSink {
  const { replica } = options;
  if (typeof replica !== 'string' || replica.length === 0) throw new TypeError('replica must be a non-empty string');
  const names = namesOf(options.table ?? 'fmguard_audit_events');
  const owned = !('pool' in options);
  const pool =
    'pool' in options
      ? options.pool
      : new (loadDriver<typeof pg>('pg', 'the Postgres audit sink').Pool)({
          connectionString: options.connectionString,
          connectionTimeoutMillis: 5000,
          max: 4,
        });
  // An idle client losing its connection must not crash the process; the next query reports it.
  if (owned) pool.on('error', () => {});
  let closed = false;
  let schemaReady: Promise<void> | undefined;

  const ensureSchema = () => {
    if (closed) return Promise.reject(new Error('audit sink is closed'));
    schemaReady ??= withClient(pool, async (client) => {
      await client.query('BEGIN');
      try {
        // Replicas starting together would race on CREATE ... IF NOT EXISTS; take turns.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fmguard-audit:${names.events}`]);
        await client.query(schemaSql(names));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }).catch((error: unknown) => {
      schemaReady = undefined; // try again on the next call
      throw error;
    });
    return schemaReady;
  };

  const readCheckpoints = async (): Promise<AuditCheckpoint[]> => {
    const { rows } = await pool.query<{ body: string }>(`SELECT body FROM ${names.checkpoints} ORDER BY replica`);
    return rows.map((r) => JSON.parse(r.body) as AuditCheckpoint);
  };

  // The group commit: one transaction per batch, the head row locked, multi-row INSERTs in order.
  const appendAll = async (events: readonly AuditEvent[]): Promise<ReplicaEvent[]> => {
    await ensureSchema();
    if (events.length === 0) return [];
    return withClient(pool, async (client) => {
      await client.query('BEGIN');
      try {
        let head = await readHead(client);
        if (!head) {
          await client.query(`INSERT INTO ${names.heads} (replica, seq, hash) VALUES ($1, 0, '') ON CONFLICT (replica) DO NOTHING`, [replica]);
          head = (await readHead(client)) as HeadRow;
        }
        let last: ChainHead | undefined = Number(head.seq) === 0 ? undefined : { seq: Number(head.seq), hash: head.hash };
        const stored: ReplicaEvent[] = [];
        for (const event of events) {
          const one = chainEvent({ ...event, replica } as AuditEvent, last) as ReplicaEvent;
          stored.push(one);
          last = { seq: one.seq, hash: one.hash };
        }
        for (let i = 0; i < stored.length; i += ROWS_PER_INSERT) {
          const { placeholders, params } = insertValues(stored.slice(i, i + ROWS_PER_INSERT).map(toRow));
          await client.query(`INSERT INTO ${names.events} (${COLUMNS}) VALUES ${placeholders}`, params);
        }
        await client.query(`UPDATE ${names.heads} SET seq = $2, hash = $3 WHERE replica = $1`, [replica, last!.seq, last!.hash]);
        await client.query('COMMIT');
        return stored;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    });
  };

  const readHead = async (client: pg.PoolClient) => {
    const { rows } = await client.query<HeadRow>(`SELECT replica, seq, hash FROM ${names.heads} WHERE replica = $1 FOR UPDATE`, [replica]);
    return rows[0];
  };

  return {
    kind: 'postgres',
    replica,
    pool,
    async append(event) {
      return (await appendAll([event]))[0]!;
    },
    appendBatch: appendAll,
    async writerSeq(writer) {
      await ensureSchema();
      const { rows } = await pool.query<{ wseq: string | null }>(`SELECT max(wseq) AS wseq FROM ${names.events} WHERE writer = $1`, [writer]);
      if (rows[0]?.wseq != null) return Number(rows[0].wseq);
      const own = (await readCheckpoints()).find((c) => Object.hasOwn(c.writers, writer));
      return own?.writers[writer] ?? 0;
    },
    async head() {
      await ensureSchema();
      const { rows } = await pool.query<HeadRow>(`SELECT replica, seq, hash FROM ${names.heads} WHERE replica = $1`, [replica]);
      const row = rows[0];
      return { chain: replica, head: row && Number(row.seq) > 0 ? { seq: Number(row.seq), hash: row.hash } : undefined };
    },
    async prune(request) {
      await ensureSchema();
      return withClient(pool, (client) => pruneAll(client, names, request));
    },
    checkpoints: () => ensureSchema().then(readCheckpoints),
    async query(filter: PostgresAuditFilter = {}) {
      await ensureSchema();
      const { sql, params } = buildQuery(names.events, filter);
      const { rows } = await pool.query<{ body: string }>(sql, params);
      return parseBodies<ReplicaEvent>(rows);
    },
    async tail(n) {
      await ensureSchema();
      if (!(n > 0)) return [];
      const { rows } = await pool.query<{ body: string }>(`SELECT body FROM ${names.events} ORDER BY id DESC LIMIT $1`, [Math.floor(n)]);
      return parseBodies<ReplicaEvent>(rows).reverse();
    },
    async replicas() {
      await ensureSchema();
      const { rows } = await pool.query<{ replica: string }>(
        `SELECT replica FROM ${names.heads} UNION SELECT DISTINCT replica FROM ${names.events} ORDER BY replica`,
      );
      return rows.map((r) => r.replica);
    },
    async verify(verifyOptions: PostgresVerifyOptions = {}) {
      await ensureSchema();
      // One snapshot for heads and events, so appends running meanwhile cannot look like tampering.
      const { heads, rows, checkpoints } = await withClient(pool, async (client) => {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          const h = await client.query<HeadRow>(`SELECT replica, seq, hash FROM ${names.heads}`);
          const e = await client.query<EventRow>(`SELECT ${COLUMNS} FROM ${names.events} ORDER BY replica, seq, id`);
          const c = await client.query<{ body: string }>(`SELECT body FROM ${names.checkpoints}`);
          await client.query('COMMIT');
          return { heads: h.rows, rows: e.rows, checkpoints: c.rows.map((r) => JSON.parse(r.body) as AuditCheckpoint) };
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        }
      });
      return verifyAll(heads, rows, checkpoints, replica, verifyOptions);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned) await pool.end();
    },
  };
}

async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

function verifyAll(heads: HeadRow[], rows: EventRow[], checkpoints: AuditCheckpoint[], self: string, options: PostgresVerifyOptions): PostgresVerifyResult {
  const byReplica = new Map<string, EventRow[]>();
  const checkpointOf = new Map(checkpoints.map((c) => [c.chain, c]));
  for (const head of heads) byReplica.set(head.replica, []);
  for (const row of rows) {
    let list = byReplica.get(row.replica);
    if (!list) byReplica.set(row.replica, (list = []));
    list.push(row);
  }
  const headOf = new Map(heads.map((h) => [h.replica, h]));
  const chains: ChainReport[] = [];
  let total = 0;
  for (const name of [...byReplica.keys()].sort()) {
    const chainRows = byReplica.get(name) as EventRow[];
    const entries: VerifyEntry[] = chainRows.map((row) => {
      const event = parseStoredEvent(row.body);
      return { event, mismatch: event && columnMismatch(row, toRow(event as ReplicaEvent), ['replica', ...COMPARED_COLUMNS]) };
    });
    const h = headOf.get(name);
    // No head row while events exist: the head itself was deleted (verifyChain reports it).
    const head = h ? { seq: Number(h.seq), hash: h.hash } : chainRows.length > 0 ? null : undefined;
    const anchor = options.anchors?.[name] ?? (name === self ? options.anchor : undefined);
    const checkpoint = checkpointOf.get(name);
    const result = verifyChain(entries, {
      skipWriters: true,
      head,
      ...(anchor ? { anchor } : {}),
      ...(checkpoint ? { checkpoint } : {}),
      ...(options.checkSignature ? { checkSignature: options.checkSignature } : {}),
    });
    chains.push({ replica: name, result });
    if (result.ok) total += result.count;
  }
  for (const [name, anchor] of Object.entries(options.anchors ?? {})) {
    if (!byReplica.has(name)) {
      chains.push({
        replica: name,
        result: { ok: false, seq: 1, problem: 'removed', message: `no events at all; the anchored event ${anchor.seq} is gone`, position: 1, checked: 0 },
      });
    }
  }
  const broken = chains.find((c) => !c.result.ok);
  if (broken && !broken.result.ok) {
    return { ...broken.result, replica: broken.replica, message: `replica ${broken.replica}: ${broken.result.message}`, chains };
  }
  // Writers across every chain: a spool's writer goes on in a new replica chain after a restart.
  const start: Record<string, number> = {};
  for (const c of checkpoints) for (const [w, n] of Object.entries(c.writers)) start[w] = Math.max(start[w] ?? 0, n);
  const events = rows.flatMap((row) => {
    const event = parseStoredEvent(row.body);
    return event ? [event] : [];
  });
  const writers = verifyWriters(events, start);
  if (!writers.ok) {
    const replica = (writers.event as ReplicaEvent | undefined)?.replica ?? self;
    return {
      ok: false,
      seq: writers.seq,
      problem: writers.problem,
      message: `replica ${replica}: ${writers.message}`,
      position: 0,
      checked: total,
      replica,
      chains,
      ...(writers.gaps.length > 0 ? { gaps: writers.gaps } : {}),
    };
  }
  const gaps = writers.gaps;
  // This replica's own checkpoint, as a one-chain sink reports it (each chain's is in `chains`).
  const own = chains.find((c) => c.replica === self)?.result.checkpoint;
  return { ok: true, count: total, chains, ...(gaps.length > 0 ? { gaps } : {}), ...(own ? { checkpoint: own } : {}) };
}

/**
 * Retention over every chain in the table (replicas that stopped long ago included): per chain, the
 * events recorded before the cut go and a signed checkpoint stands for them. Pruners of several
 * replicas take turns on an advisory lock.
 */
async function pruneAll(client: pg.PoolClient, names: Names, { before, now, sign }: PruneRequest): Promise<PruneResult[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`fmguard-audit-prune:${names.events}`]);
    const results: PruneResult[] = [];
    const { rows: chains } = await client.query<{ replica: string }>(`SELECT DISTINCT replica FROM ${names.events} ORDER BY replica`);
    for (const { replica } of chains) {
      const { rows: firstRows } = await client.query<{ seq: string | null }>(`SELECT min(seq) AS seq FROM ${names.events} WHERE replica = $1 AND time >= $2`, [
        replica,
        before,
      ]);
      const first = firstRows[0]?.seq == null ? Number.MAX_SAFE_INTEGER : Number(firstRows[0].seq);
      const { rows: throughRows } = await client.query<{ seq: string; hash: string }>(
        `SELECT seq, hash FROM ${names.events} WHERE replica = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1`,
        [replica, first],
      );
      const through = throughRows[0];
      if (!through) continue;
      const { rows: prevRows } = await client.query<{ body: string }>(`SELECT body FROM ${names.checkpoints} WHERE replica = $1`, [replica]);
      const previous = prevRows[0] ? (JSON.parse(prevRows[0].body) as AuditCheckpoint) : undefined;
      const { rows: afterRows } = await client.query<{ writer: string }>(
        `SELECT DISTINCT writer FROM ${names.events} WHERE replica = $1 AND seq > $2 AND writer IS NOT NULL`,
        [replica, through.seq],
      );
      const after = new Set(afterRows.map((r) => r.writer));
      const { rows: lastRows } = await client.query<{ writer: string; wseq: string }>(
        `SELECT writer, max(wseq) AS wseq FROM ${names.events} WHERE replica = $1 AND seq <= $2 AND writer IS NOT NULL GROUP BY writer`,
        [replica, through.seq],
      );
      const writers: Record<string, number> = {};
      for (const [writer, wseq] of Object.entries(previous?.writers ?? {})) if (after.has(writer)) writers[writer] = wseq;
      for (const row of lastRows) if (after.has(row.writer)) writers[row.writer] = Number(row.wseq);
      const unsigned = { chain: replica, seq: Number(through.seq), hash: through.hash, time: now, writers };
      const checkpoint: AuditCheckpoint = { ...unsigned, sig: sign(unsigned) };
      await client.query(`INSERT INTO ${names.checkpoints} (replica, body) VALUES ($1, $2) ON CONFLICT (replica) DO UPDATE SET body = excluded.body`, [
        replica,
        JSON.stringify(checkpoint),
      ]);
      const deleted = await client.query(`DELETE FROM ${names.events} WHERE replica = $1 AND seq <= $2`, [replica, through.seq]);
      results.push({ pruned: deleted.rowCount ?? 0, checkpoint });
    }
    await client.query('COMMIT');
    return results;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

function buildQuery(table: string, filter: PostgresAuditFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(clause(`$${params.length}`));
  };
  for (const column of ['replica', 'run', 'agent', 'tenant', 'code'] as const) {
    const value = filter[column];
    if (value !== undefined) add((p) => `${column} = ${p}`, value);
  }
  if (filter.type !== undefined) add((p) => `type = ANY(${p}::text[])`, Array.isArray(filter.type) ? filter.type : [filter.type]);
  if (filter.from !== undefined) add((p) => `time >= ${p}`, filter.from);
  if (filter.to !== undefined) add((p) => `time < ${p}`, filter.to);
  let sql = `SELECT body FROM ${table}`;
  if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ` ORDER BY id ${(filter.order ?? 'desc') === 'asc' ? 'ASC' : 'DESC'}`;
  if (filter.limit !== undefined) {
    params.push(Math.max(0, Math.floor(filter.limit)));
    sql += ` LIMIT $${params.length}`;
  }
  return { sql, params };
}
