import type { Database, Statement } from 'better-sqlite3';
import { copyKill, notifyKill, sameKill } from '../rules.ts';
import type { KillInfo, KillListener, KillScope, KillStore } from '../../store/store.ts';

interface KillRow {
  scope: string;
  reason: string;
  by: string;
  at: number;
}

/**
 * Kill switches in SQLite. Changes made through this store reach its listeners synchronously.
 * Changes made by other connections (another process, e.g. the CLI) are found by polling while
 * anyone is subscribed: `PRAGMA data_version` (free, changes on any foreign commit) gates a read of
 * the 'kills' version counter, which gates a re-read of the table, diffed against the last one.
 * So other processes see net changes: several writes between two polls arrive as one, and a set
 * that rewrites identical info is not reported there.
 */
export class SqliteKills implements KillStore {
  private readonly q: {
    upsert: Statement<[string, string, string, number]>;
    remove: Statement<[string]>;
    all: Statement<[], KillRow>;
    bump: Statement<[]>;
    version: Statement<[], number>;
    dataVersion: Statement<[], number>;
  };
  private readonly setTx;
  private readonly clearTx;
  private readonly listeners = new Set<KillListener>();
  private timer: NodeJS.Timeout | undefined;
  /** What listeners were last told; exists only while polling. */
  private known: Map<KillScope, KillInfo> | undefined;
  private seenDataVersion = -1;
  private seenKillsVersion = -1;

  constructor(
    db: Database,
    private readonly pollMs: number,
  ) {
    this.q = {
      upsert: db.prepare(
        `INSERT INTO fm_kills (scope, reason, by, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope) DO UPDATE SET reason = excluded.reason, by = excluded.by, at = excluded.at`,
      ),
      remove: db.prepare('DELETE FROM fm_kills WHERE scope = ?'),
      all: db.prepare('SELECT scope, reason, by, at FROM fm_kills'),
      bump: db.prepare(`INSERT INTO fm_meta (k, v) VALUES ('kills', 1) ON CONFLICT (k) DO UPDATE SET v = v + 1`),
      version: db.prepare<[], number>(`SELECT v FROM fm_meta WHERE k = 'kills'`).pluck(),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    };
    this.setTx = db.transaction((scope: KillScope, info: KillInfo) => {
      this.q.upsert.run(scope, info.reason, info.by, info.at);
      this.q.bump.run();
    });
    this.clearTx = db.transaction((scope: KillScope): boolean => {
      if (this.q.remove.run(scope).changes === 0) return false;
      this.q.bump.run();
      return true;
    });
  }

  async set(scope: KillScope, info: KillInfo): Promise<void> {
    this.setTx.immediate(scope, info);
    this.known?.set(scope, copyKill(info));
    notifyKill(this.listeners, scope, info);
  }

  async clear(scope: KillScope): Promise<void> {
    if (!this.clearTx.immediate(scope)) return;
    this.known?.delete(scope);
    notifyKill(this.listeners, scope, null);
  }

  async list(): Promise<Map<KillScope, KillInfo>> {
    return this.readAll();
  }

  subscribe(listener: KillListener): () => void {
    const entry: KillListener = (scope, info) => listener(scope, info);
    this.listeners.add(entry);
    if (this.timer === undefined) this.startPolling();
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  close(): void {
    this.listeners.clear();
    this.stopPolling();
  }

  private readAll(): Map<KillScope, KillInfo> {
    const out = new Map<KillScope, KillInfo>();
    for (const row of this.q.all.all()) out.set(row.scope, { reason: row.reason, by: row.by, at: row.at });
    return out;
  }

  private startPolling(): void {
    this.seenDataVersion = this.q.dataVersion.get() as number;
    this.seenKillsVersion = this.q.version.get() ?? 0;
    this.known = this.readAll();
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.known = undefined;
  }

  private poll(): void {
    let next: Map<KillScope, KillInfo>;
    try {
      const dataVersion = this.q.dataVersion.get() as number;
      if (dataVersion === this.seenDataVersion) return;
      this.seenDataVersion = dataVersion;
      const killsVersion = this.q.version.get() ?? 0;
      if (killsVersion === this.seenKillsVersion) return;
      this.seenKillsVersion = killsVersion;
      next = this.readAll();
    } catch {
      // Busy or closed underneath us: try again on the next tick.
      return;
    }
    const known = this.known;
    if (known === undefined) return;
    this.known = next;
    for (const [scope, info] of next) {
      const before = known.get(scope);
      if (before === undefined || !sameKill(before, info)) notifyKill(this.listeners, scope, info);
    }
    for (const scope of known.keys()) {
      if (!next.has(scope)) notifyKill(this.listeners, scope, null);
    }
  }
}
