import { keyStatus, listApiKeys, mintApiKey, revokeApiKey } from '../runtime/api-keys.ts';
import type { Guard } from '../runtime/guard.ts';
import { notFound, textOf } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';
import { keyCreateBody, keyExpiry, keyRevokeBody, parseBody } from './schemas.ts';

const partsOf = (guard: Guard) => ({ store: guard.store, config: guard.config, audit: guard.audit, now: guard.clock.now() });

/** `POST /admin/keys`: the secret is in this answer and nowhere else, ever. */
async function create({ guard, req }: AdminRequest): Promise<AdminReply> {
  const body = await parseBody(req, keyCreateBody);
  const parts = partsOf(guard);
  const expiresAt = keyExpiry(body, parts.now);
  const { secret, key } = await mintApiKey(parts, {
    agent: body.agent,
    name: body.name,
    expiresAt,
    budgets: body.budgets,
    rateLimits: body.rateLimits,
    by: body.by ?? 'admin',
  });
  return { status: 201, body: { secret, key } };
}

async function list({ guard, query }: AdminRequest): Promise<AdminReply> {
  return { body: { keys: await listApiKeys({ store: guard.store, now: guard.clock.now() }, { agent: textOf(query, 'agent') }) } };
}

async function get({ guard, params }: AdminRequest): Promise<AdminReply> {
  const key = await guard.store.apiKeys.get(params.id);
  if (!key) throw notFound(`no API key "${params.id}"`);
  return { body: { ...key, status: keyStatus(key, guard.clock.now()) } };
}

async function revoke(guard: Guard, id: string, by: string): Promise<AdminReply> {
  const result = await revokeApiKey(partsOf(guard), id, by);
  if (!result) throw notFound(`no API key "${id}"`);
  return { body: result };
}

/** Keys minted at run time (`fmguard keys`): create, list, revoke. Config keys are not listed here. */
export const keyRoutes: Route[] = [
  { method: 'GET', pattern: 'keys', handler: list },
  { method: 'POST', pattern: 'keys', handler: create },
  { method: 'GET', pattern: 'keys/:id', handler: get },
  { method: 'DELETE', pattern: 'keys/:id', handler: ({ guard, params }) => revoke(guard, params.id, 'admin') },
  {
    method: 'POST',
    pattern: 'keys/:id/revoke',
    handler: async ({ guard, req, params }) => revoke(guard, params.id, (await parseBody(req, keyRevokeBody)).by ?? 'admin'),
  },
];
