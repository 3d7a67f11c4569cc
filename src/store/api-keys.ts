/**
 * API keys minted at run time (`fmguard keys create`, `POST /admin/keys`), beside the keys in the
 * config. The store keeps a key's sha256 and what it may do, never the secret: whoever reads the
 * store (or a backup of it) cannot use a key.
 */

/** A periodic budget of one key: the config's budget shape (`agents.<name>.keys[].budgets`). */
export interface ApiKeyBudget {
  period: 'day' | 'month';
  maxCostUsd: number;
  alertAt?: number[];
}

/** Requests and tokens per minute of one key: the config's `rateLimits` shape. */
export interface ApiKeyRateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** A minted key as listed: everything but its hash. */
export interface ApiKeyInfo {
  /** Public id (`mk_…`): its budget and rate accounts are `key:<id>`, the audit log names it. */
  id: string;
  /** The secret's first characters (`fmg_AbCdEf`), to recognise it; far too few to use it. */
  hint: string;
  agent: string;
  name?: string;
  createdAt: number;
  createdBy: string;
  /** After this time (epoch ms) the key is refused; absent: it does not expire. */
  expiresAt?: number;
  /** Set once; a revoked key is refused by every process sharing the store from then on. */
  revokedAt?: number;
  revokedBy?: string;
  budgets: ApiKeyBudget[];
  rateLimits: ApiKeyRateLimits;
}

/** A minted key as stored. */
export interface ApiKeyRecord extends ApiKeyInfo {
  /** sha256 of the secret, lowercase hex. */
  hash: string;
}

export interface ApiKeyFilter {
  agent?: string;
}

export interface ApiKeyStore {
  /** Insert a key; false (nothing written) when its id or hash is already stored. */
  create(record: ApiKeyRecord): Promise<boolean>;
  /** The key whose secret hashes to `hash`, revoked and expired ones included (the caller judges them). */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  get(id: string): Promise<ApiKeyInfo | undefined>;
  /** Every key (of one agent), oldest first, without hashes. */
  list(filter?: ApiKeyFilter): Promise<ApiKeyInfo[]>;
  /**
   * Revoke a key: the first revocation wins and later ones change nothing. The key as stored after, and
   * whether this call revoked it (atomically: of two concurrent calls exactly one did); undefined when unknown.
   */
  revoke(id: string, at: number, by: string): Promise<{ key: ApiKeyInfo; changed: boolean } | undefined>;
}

/** A record without its hash (what `get` and `list` hand out). */
export function keyInfo(record: ApiKeyRecord): ApiKeyInfo {
  const { hash: _hash, ...info } = record;
  return info;
}
