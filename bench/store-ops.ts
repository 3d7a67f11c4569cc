/**
 * What a request costs a store, observed from outside the gateway process.
 *
 * SQLite (WAL mode): a second connection to the gateway's database file truncates the WAL
 * (`wal_checkpoint(TRUNCATE)`, while the gateway is idle), then holds a read snapshot taken on the
 * empty WAL, so no checkpoint can reset the WAL while requests run: every frame the gateway writes
 * stays in the file. Parsing the WAL afterwards gives the frames written and the commits (frames
 * that carry a database size: one per write transaction). `dbstat` and row counts before and after
 * (checkpointed) give the rows and bytes each table gained per request.
 *
 * Redis: MONITOR on a Redis server that only the gateway under test uses gives every command it
 * executes by name, sent by the gateway or run inside its Lua scripts (`INFO commandstats` cannot
 * tell the two apart); SCAN under the gateway's prefix and `used_memory` the keys and bytes left.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';

export interface WalCount {
  frames: number;
  commits: number;
  pageSize: number;
}

export interface TableSizes {
  /** Per table (and index): rows, bytes of pages, bytes of payload. */
  tables: Map<string, { rows: number; pageBytes: number; payloadBytes: number }>;
  fileBytes: number;
}

export class SqliteObserver {
  private readonly db: Database.Database;
  private holding = false;

  constructor(private readonly path: string) {
    this.db = new Database(path, { fileMustExist: true });
    this.db.pragma('busy_timeout = 10000');
  }

  /** Copy the WAL into the database and empty it; retried while the gateway has a transaction open. */
  async truncateWal(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const [row] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      if (row && row.busy === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`could not checkpoint ${this.path}: the gateway kept it busy`);
  }

  /** Hold a read snapshot on the (empty) WAL so nothing can reset it until release(). */
  hold(): void {
    this.db.exec('BEGIN');
    this.db.prepare('SELECT count(*) FROM sqlite_schema').get();
    this.holding = true;
  }

  release(): void {
    if (this.holding) this.db.exec('COMMIT');
    this.holding = false;
  }

  /** Frames and commits in the WAL file (only frames of the current WAL generation: matching salts). */
  walCount(): WalCount {
    const wal = `${this.path}-wal`;
    if (!existsSync(wal) || statSync(wal).size < 32) return { frames: 0, commits: 0, pageSize: 0 };
    const fd = openSync(wal, 'r');
    try {
      const header = Buffer.alloc(32);
      readSync(fd, header, 0, 32, 0);
      const pageSize = header.readUInt32BE(8);
      const salt1 = header.readUInt32BE(16);
      const salt2 = header.readUInt32BE(20);
      const size = statSync(wal).size;
      const frameHeader = Buffer.alloc(24);
      let frames = 0;
      let commits = 0;
      for (let at = 32; at + 24 + pageSize <= size; at += 24 + pageSize) {
        readSync(fd, frameHeader, 0, 24, at);
        if (frameHeader.readUInt32BE(8) !== salt1 || frameHeader.readUInt32BE(12) !== salt2) break;
        frames++;
        if (frameHeader.readUInt32BE(4) !== 0) commits++;
      }
      return { frames, commits, pageSize };
    } finally {
      closeSync(fd);
    }
  }

  sizes(): TableSizes {
    const tables = new Map<string, { rows: number; pageBytes: number; payloadBytes: number }>();
    for (const row of this.db.prepare('SELECT name, sum(pgsize) AS pageBytes, sum(payload) AS payloadBytes FROM dbstat GROUP BY name').all() as Array<{ name: string; pageBytes: number; payloadBytes: number }>) {
      tables.set(row.name, { rows: 0, pageBytes: row.pageBytes, payloadBytes: row.payloadBytes });
    }
    for (const { name } of this.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as Array<{ name: string }>) {
      const { n } = this.db.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number };
      const entry = tables.get(name) ?? { rows: 0, pageBytes: 0, payloadBytes: 0 };
      entry.rows = n;
      tables.set(name, entry);
    }
    const [{ page_count }] = this.db.pragma('page_count') as Array<{ page_count: number }>;
    const [{ page_size }] = this.db.pragma('page_size') as Array<{ page_size: number }>;
    return { tables, fileBytes: page_count * page_size };
  }

  close(): void {
    this.release();
    this.db.close();
  }
}

/** Per-table growth between two observations, per request, largest first. */
export function growth(before: TableSizes, after: TableSizes, n: number): Array<{ name: string; rows: number; pageBytes: number; payloadBytes: number }> {
  const out = [];
  for (const [name, a] of after.tables) {
    const b = before.tables.get(name) ?? { rows: 0, pageBytes: 0, payloadBytes: 0 };
    const d = { name, rows: (a.rows - b.rows) / n, pageBytes: (a.pageBytes - b.pageBytes) / n, payloadBytes: (a.payloadBytes - b.payloadBytes) / n };
    if (d.rows !== 0 || d.pageBytes !== 0 || d.payloadBytes !== 0) out.push(d);
  }
  return out.sort((x, y) => y.pageBytes - x.pageBytes || y.rows - x.rows);
}

/** Keys under a prefix (SCAN, so it also works on a shared server). */
export async function countKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

export async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? NaN);
}

export interface RedisCommands {
  /** Commands the gateway sent, by name (a pipeline's commands count one each). */
  sent: Map<string, number>;
  /** Commands its Lua scripts ran inside Redis, by name. */
  inScripts: Map<string, number>;
}

/**
 * Every command Redis executes between begin() and end(), seen through MONITOR, by name: sent by a
 * client, or run by a Lua script. Commands of the observer's own connection are left out; with
 * `prefix`, only commands naming a key (or argument) under it count (for a server others use too).
 * Markers (ECHO) sent through the observer's connection fence the window exactly.
 */
export async function redisCommandCounter(url: string, prefix?: string) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  // monitor() opens a connection of its own in MONITOR mode; `client` stays a normal one.
  const monitor = await client.monitor();
  monitor.on('error', () => {});
  await client.ping();
  const own = `${client.stream.localAddress}:${client.stream.localPort}`;
  let counting = false;
  let waiting: { marker: string; resolve: () => void } | undefined;
  let counts: RedisCommands = { sent: new Map(), inScripts: new Map() };
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === own || source.endsWith(own)) {
      if (waiting && args[0]?.toLowerCase() === 'echo' && args[1] === waiting.marker) waiting.resolve();
      return;
    }
    if (!counting) return;
    if (prefix && !args.some((a) => a.includes(prefix))) return;
    const name = args[0]!.toLowerCase();
    const map = source === 'lua' ? counts.inScripts : counts.sent;
    map.set(name, (map.get(name) ?? 0) + 1);
  });
  let markers = 0;
  const fence = async () => {
    const marker = `fmguard-bench-fence-${++markers}`;
    const seen = new Promise<void>((resolve) => (waiting = { marker, resolve }));
    await client.echo(marker);
    await seen;
    waiting = undefined;
  };
  return {
    client,
    async begin(): Promise<void> {
      await fence();
      counts = { sent: new Map(), inScripts: new Map() };
      counting = true;
    },
    async end(): Promise<RedisCommands> {
      await fence();
      counting = false;
      return counts;
    },
    close(): void {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

export const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
export const byCount = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, calls]) => `${name} ${+(calls / n).toFixed(2)}`)
    .join(', ');
