import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { parseDuration } from '../config/duration.ts';
import { budgetSchema, rateLimitsSchema } from '../config/schema.ts';
import { invalid, readJsonObject } from './request.ts';

/**
 * The request bodies of the admin API's commands. Each handler validates its body with one of these,
 * and `/admin/openapi.json` documents the same schemas (src/admin/openapi.ts): what is documented is
 * what is checked.
 */

const by = z.string().max(200, 'expected a string of at most 200 characters').describe('Who acts (recorded in the audit log)');
const reason = z.string().max(1000, 'expected a string of at most 1000 characters').describe('Why (recorded in the audit log)');

/** The scopes a kill switch may name (the runtime's own rule, checked here for a clear 400). */
export const KILL_SCOPE = /^(global|(tenant|agent|run|provider|model|tool):.+)$/;
const KILL_SCOPE_MESSAGE = 'expected global, tenant:<id>, agent:<id>, run:<id>, provider:<id>, model:<id> or tool:<id>';
export const killScopeSchema = z
  .string({ error: KILL_SCOPE_MESSAGE })
  .regex(KILL_SCOPE, KILL_SCOPE_MESSAGE)
  .describe('global, tenant:<id>, agent:<id>, run:<id>, provider:<id>, model:<id> or tool:<id>');

export const killBody = z.object({ scope: killScopeSchema, reason: reason.optional(), by: by.optional() });
export const unkillBody = z.object({ scope: killScopeSchema });
export const runKillBody = z.object({ reason: reason.optional(), by: by.optional() });
export const decisionBody = z.object({ by: by.optional(), reason: reason.optional() });
export const reloadBody = z.object({ by: by.optional() });
export const breakerActionBody = z.object({
  by: by.optional(),
  reason: reason.optional(),
  cooldownMs: z
    .number({ error: 'expected a positive number of milliseconds, or null to hold the breaker open' })
    .positive('expected a positive number of milliseconds, or null to hold the breaker open')
    .finite()
    .nullable()
    .optional()
    .describe("open only: how long it stays open; null holds it open until closed; absent: the scope's policy"),
});
export const alarmStateBody = z.object({
  state: z.enum(['OK', 'ALARM', 'INSUFFICIENT_DATA'], { error: 'expected one of OK, ALARM, INSUFFICIENT_DATA' }),
  reason: z
    .string({ error: 'expected a non-empty string (why the state is set by hand)' })
    .trim()
    .min(1, 'expected a non-empty string (why the state is set by hand)')
    .max(1000, 'expected a non-empty string (why the state is set by hand)'),
});

/** `POST /admin/keys`: a key minted for an agent of the config, with the config keys' budget and rate-limit shapes. Unknown fields are refused. */
export const keyCreateBody = z.strictObject({
  agent: z.string({ error: 'expected the name of an agent of the config' }).min(1).max(200).describe('The agent the key authenticates as'),
  name: z.string().max(200, 'expected a string of at most 200 characters').optional().describe('A label to recognise the key by'),
  expiresAt: z
    .union([z.number().int().positive(), z.string()], { error: 'expected epoch milliseconds or an ISO date' })
    .optional()
    .describe('When the key stops working: epoch milliseconds or an ISO date'),
  ttl: z
    .union([z.number().positive(), z.string()], { error: 'expected a duration such as "30d"' })
    .optional()
    .describe('Or how long from now the key works: milliseconds or a duration such as "12h", "30d"'),
  budgets: z.array(budgetSchema).optional().describe("The key's own periodic budgets (as agents.<name>.keys[].budgets)"),
  rateLimits: rateLimitsSchema.optional().describe("The key's own rate limits (as agents.<name>.keys[].rateLimits)"),
  by: by.optional(),
});
export const keyRevokeBody = z.object({ by: by.optional() });

/** When a key created with `expiresAt` or `ttl` expires (epoch ms), or undefined; a 400 when both or either is bad. */
export function keyExpiry(body: { expiresAt?: number | string; ttl?: number | string }, now: number): number | undefined {
  if (body.expiresAt !== undefined && body.ttl !== undefined) throw invalid('ttl: give expiresAt or ttl, not both', 'ttl');
  if (body.ttl !== undefined) {
    const ms = parseDuration(body.ttl);
    if (ms === undefined || !(ms > 0)) throw invalid(`ttl: expected a positive duration such as "30d", got ${JSON.stringify(body.ttl)}`, 'ttl');
    return now + ms;
  }
  if (body.expiresAt === undefined) return undefined;
  const at = typeof body.expiresAt === 'number' ? body.expiresAt : /^\d+$/.test(body.expiresAt) ? Number(body.expiresAt) : Date.parse(body.expiresAt);
  if (!Number.isFinite(at)) throw invalid(`expiresAt: expected epoch milliseconds or an ISO date, got ${JSON.stringify(body.expiresAt)}`, 'expiresAt');
  return at;
}

/** Read the JSON body and validate it: a 400 `request.invalid` naming the first field that is wrong. */
export async function parseBody<T extends z.ZodType>(req: IncomingMessage, schema: T): Promise<z.output<T>> {
  const result = schema.safeParse(await readJsonObject(req));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.join('.');
  throw invalid(`${param || 'body'}: ${issue.message.replace(/^Invalid input: /, '')}`, param || undefined);
}
