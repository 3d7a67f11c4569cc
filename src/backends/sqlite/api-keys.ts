import type { Database, Statement } from 'better-sqlite3';
import { type ApiKeyInfo, type ApiKeyRecord, type ApiKeyStore, keyInfo } from '../../store/api-keys.ts';

interface KeyRow {
  hash: string;
  info: string;
  revoked_at: number | null;
  revoked_by: string | null;
}

function toRecord(row: KeyRow): ApiKeyRecord {
  const record = { ...(JSON.parse(row.info) as ApiKeyInfo), hash: row.hash };
  if (row.revoked_at !== null) Object.assign(record, { revokedAt: row.revoked_at, revokedBy: row.revoked_by ?? '' });
  return record;
}

/**
 * Minted API keys in SQLite (`fm_api_keys`). A lookup is one read by the unique hash index, so
 * every process sharing the file sees a revocation from its next lookup on.
 */
export class SqliteApiKeys implements ApiKeyStore {
  private readonly q: {
    insert: Statement<[string, string, string, number, string]>;
    byHash: Statement<[string], KeyRow>;
    byId: Statement<[string], KeyRow>;
    all: Statement<[], KeyRow>;
    ofAgent: Statement<[string], KeyRow>;
    revoke: Statement<[number, string, string]>;
  };

  constructor(db: Database) {
    const cols = 'hash, info, revoked_at, revoked_by';
    this.q = {
      insert: db.prepare('INSERT OR IGNORE INTO fm_api_keys (id, hash, agent, created_at, info) VALUES (?, ?, ?, ?, ?)'),
      byHash: db.prepare(`SELECT ${cols} FROM fm_api_keys WHERE hash = ?`),
      byId: db.prepare(`SELECT ${cols} FROM fm_api_keys WHERE id = ?`),
      all: db.prepare(`SELECT ${cols} FROM fm_api_keys ORDER BY created_at, id`),
      ofAgent: db.prepare(`SELECT ${cols} FROM fm_api_keys WHERE agent = ? ORDER BY created_at, id`),
      revoke: db.prepare('UPDATE fm_api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
    };
  }

  async create(record: ApiKeyRecord): Promise<boolean> {
    const { revokedAt: _at, revokedBy: _by, ...info } = keyInfo(record);
    return this.q.insert.run(record.id, record.hash, record.agent, record.createdAt, JSON.stringify(info)).changes === 1;
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.q.byHash.get(hash);
    return row && toRecord(row);
  }

  async get(id: string): Promise<ApiKeyInfo | undefined> {
    const row = this.q.byId.get(id);
    return row && keyInfo(toRecord(row));
  }

  async list(filter: { agent?: string } = {}): Promise<ApiKeyInfo[]> {
    const rows = filter.agent === undefined ? this.q.all.all() : this.q.ofAgent.all(filter.agent);
    return rows.map((row) => keyInfo(toRecord(row)));
  }

  async revoke(id: string, at: number, by: string): Promise<{ key: ApiKeyInfo; changed: boolean } | undefined> {
    const { changes } = this.q.revoke.run(at, by, id);
    const key = await this.get(id);
    return key && { key, changed: changes === 1 };
  }
}
