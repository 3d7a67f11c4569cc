import { type ApiKeyInfo, type ApiKeyRecord, type ApiKeyStore, keyInfo } from '../../store/api-keys.ts';

/** Minted API keys in a Map by id, with an index by hash. Records are copied in and out. */
export class MemoryApiKeys implements ApiKeyStore {
  private readonly byId = new Map<string, ApiKeyRecord>();
  private readonly idByHash = new Map<string, string>();

  async create(record: ApiKeyRecord): Promise<boolean> {
    if (this.byId.has(record.id) || this.idByHash.has(record.hash)) return false;
    this.byId.set(record.id, structuredClone(record));
    this.idByHash.set(record.hash, record.id);
    return true;
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const id = this.idByHash.get(hash);
    const record = id === undefined ? undefined : this.byId.get(id);
    return record && structuredClone(record);
  }

  async get(id: string): Promise<ApiKeyInfo | undefined> {
    const record = this.byId.get(id);
    return record && keyInfo(structuredClone(record));
  }

  async list(filter: { agent?: string } = {}): Promise<ApiKeyInfo[]> {
    return [...this.byId.values()]
      .filter((r) => filter.agent === undefined || r.agent === filter.agent)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map((r) => keyInfo(structuredClone(r)));
  }

  async revoke(id: string, at: number, by: string): Promise<{ key: ApiKeyInfo; changed: boolean } | undefined> {
    const record = this.byId.get(id);
    if (!record) return undefined;
    const changed = record.revokedAt === undefined;
    if (changed) Object.assign(record, { revokedAt: at, revokedBy: by });
    return { key: keyInfo(structuredClone(record)), changed };
  }
}
