import { randomBytes } from 'node:crypto';
import type { AuditLog } from '../audit/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { BudgetConfig, RateLimitsConfig } from '../config/schema.ts';
import { guardError } from '../core/errors.ts';
import type { ApiKeyFilter, ApiKeyInfo, ApiKeyRecord, Store } from '../store/index.ts';
import { keyInfo } from '../store/index.ts';
import { hashApiKey } from './principal.ts';

/** What the operations on minted keys run on (a Guard has all of it; the CLI builds it from the config). */
export interface ApiKeyParts {
  store: Store;
  config: FmguardConfig;
  audit?: AuditLog;
  now: number;
}

export interface MintRequest {
  agent: string;
  name?: string;
  /** Epoch ms; must be in the future. Absent: the key does not expire. */
  expiresAt?: number;
  budgets?: BudgetConfig[];
  rateLimits?: RateLimitsConfig;
  /** Who mints it (the audit log records it). */
  by: string;
}

export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

/** A key as the admin API and the CLI show it: never the secret, never its hash. */
export type ApiKeyView = ApiKeyInfo & { status: ApiKeyStatus };

export function keyStatus(key: ApiKeyInfo, now: number): ApiKeyStatus {
  if (key.revokedAt !== undefined) return 'revoked';
  return key.expiresAt !== undefined && now >= key.expiresAt ? 'expired' : 'active';
}

const view = (key: ApiKeyInfo, now: number): ApiKeyView => ({ ...key, status: keyStatus(key, now) });

/**
 * Mint a key for an agent of the config: a secret of 32 random bytes (`fmg_…`), returned here and
 * nowhere else; the store keeps its sha256. Audited as `key.created` (id, agent, limits: no secret).
 */
export async function mintApiKey(parts: ApiKeyParts, request: MintRequest): Promise<{ secret: string; key: ApiKeyView }> {
  const agent = Object.hasOwn(parts.config.agents, request.agent) ? parts.config.agents[request.agent] : undefined;
  if (!agent) throw guardError('request.invalid', `agent: no agent "${request.agent}" in the config`, { param: 'agent' });
  if (request.expiresAt !== undefined && !(request.expiresAt > parts.now)) {
    throw guardError('request.invalid', 'expiresAt: expected a time in the future', { param: 'expiresAt' });
  }
  const secret = `fmg_${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id: `mk_${randomBytes(10).toString('hex')}`,
    hash: hashApiKey(secret),
    hint: secret.slice(0, 10),
    agent: agent.name,
    ...(request.name !== undefined && { name: request.name }),
    createdAt: parts.now,
    createdBy: request.by,
    ...(request.expiresAt !== undefined && { expiresAt: request.expiresAt }),
    budgets: request.budgets ?? [],
    rateLimits: request.rateLimits ?? {},
  };
  // 80 random bits of id and 256 of secret: a clash is a broken random source, not bad luck.
  if (!(await parts.store.apiKeys.create(record))) throw new Error('a minted API key clashed with a stored one');
  const key = keyInfo(record);
  parts.audit?.record({
    type: 'key.created',
    time: parts.now,
    agent: agent.name,
    tenant: agent.tenant,
    action: 'key.create',
    resource: key.id,
    details: { by: request.by, hint: key.hint, name: key.name, expiresAt: key.expiresAt, budgets: key.budgets, rateLimits: key.rateLimits },
  });
  return { secret, key: view(key, parts.now) };
}

/** Minted keys (of one agent), oldest first, with their status. */
export async function listApiKeys(parts: Pick<ApiKeyParts, 'store' | 'now'>, filter: ApiKeyFilter = {}): Promise<ApiKeyView[]> {
  return (await parts.store.apiKeys.list(filter)).map((key) => view(key, parts.now));
}

/**
 * Revoke a minted key: every process sharing the store refuses it from its next request on (calls
 * already in flight finish). Audited as `key.revoked` when this call revoked it; revoking a revoked
 * key changes nothing. Undefined when no key has that id.
 */
export async function revokeApiKey(parts: ApiKeyParts, id: string, by: string): Promise<{ key: ApiKeyView; revoked: boolean } | undefined> {
  const result = await parts.store.apiKeys.revoke(id, parts.now, by);
  if (!result) return undefined;
  const { key, changed: revoked } = result;
  if (revoked) {
    parts.audit?.record({
      type: 'key.revoked',
      time: parts.now,
      agent: key.agent,
      tenant: parts.config.agents[key.agent]?.tenant,
      action: 'key.revoke',
      resource: key.id,
      details: { by, hint: key.hint, name: key.name },
    });
  }
  return { key: view(key, parts.now), revoked };
}
