import { createHash, timingSafeEqual } from 'node:crypto';
import type { FmguardConfig, ResolvedAgent } from '../config/resolve.ts';
import type { BudgetConfig, RateLimitsConfig } from '../config/schema.ts';
import { guardError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { failClosed } from './fail-closed.ts';

/** What a key may spend on its own (`key:<id>` budgets and rate buckets): a config key's or a minted key's. */
export interface KeyGrant {
  id: string;
  budgets: readonly BudgetConfig[];
  rateLimits: RateLimitsConfig;
}

/** Who a request is: its agent and the key it came with. */
export interface Principal {
  agent: ResolvedAgent;
  keyId: string;
  key: KeyGrant;
}

/** The shape of a minted secret (`fmg_` and 32 random bytes in base64url); only these are looked up in the store. */
export const MINTED_SECRET = /^fmg_[A-Za-z0-9_-]{43}$/;

/** sha256 of a secret, lowercase hex: what the store keeps of a minted key. */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const unknownKey = () => guardError('auth.invalid', 'unknown API key');

/**
 * Resolve an API key: a key of the config (a Map lookup), else a minted key, read from the store on
 * every request so a revocation holds on every replica from the next request on. Unknown, revoked,
 * expired, or whose agent left the config: `auth.invalid`. The store unreadable: `store.unavailable`
 * (fail closed; config keys keep working).
 */
export async function resolvePrincipal(config: FmguardConfig, store: Store, key: string | undefined, now: number): Promise<Principal> {
  if (!key) throw guardError('auth.invalid', 'missing API key');
  const entry = config.keyIndex.get(key);
  if (entry) {
    const agent = config.agents[entry.agent]!;
    return { agent, keyId: entry.keyId, key: agent.keys.find((k) => k.id === entry.keyId)! };
  }
  // Anything not shaped like a minted secret is refused without a store read.
  if (!MINTED_SECRET.test(key)) throw unknownKey();
  const hash = hashApiKey(key);
  let record: Awaited<ReturnType<Store['apiKeys']['findByHash']>>;
  try {
    record = await store.apiKeys.findByHash(hash);
  } catch (error) {
    throw failClosed(error, 'API keys');
  }
  if (!record || record.hash.length !== hash.length || !timingSafeEqual(Buffer.from(record.hash), Buffer.from(hash))) throw unknownKey();
  if (record.revokedAt !== undefined) throw guardError('auth.invalid', 'the API key was revoked');
  if (record.expiresAt !== undefined && now >= record.expiresAt) throw guardError('auth.invalid', 'the API key has expired');
  const agent = Object.hasOwn(config.agents, record.agent) ? config.agents[record.agent] : undefined;
  if (!agent) throw guardError('auth.invalid', `the API key's agent "${record.agent}" is not in the config`);
  return { agent, keyId: record.id, key: { id: record.id, budgets: record.budgets, rateLimits: record.rateLimits } };
}
