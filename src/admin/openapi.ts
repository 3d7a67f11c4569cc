import { z } from 'zod';
import type { Route } from './router.ts';
import {
  alarmStateBody,
  breakerActionBody,
  decisionBody,
  keyCreateBody,
  keyRevokeBody,
  killBody,
  killScopeSchema,
  reloadBody,
  runKillBody,
  unkillBody,
} from './schemas.ts';

/**
 * `GET /admin/openapi.json`: the admin API as an OpenAPI 3.1 document, generated from the router's
 * route table (so a route added to the table is in the document without anything else) and the zod
 * schemas the handlers validate bodies with (src/admin/schemas.ts). What this file adds is prose: a
 * summary per route, the query parameters, and which body schema a route reads.
 */
interface RouteDoc {
  summary: string;
  query?: z.ZodObject;
  body?: z.ZodType;
}

const text = (description: string) => z.string().optional().describe(description);
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).optional().describe(`How many (1 to ${max}; default ${fallback})`);
const range = text('A duration from 1m, e.g. 15m, 1h, 24h');
const time = text('Epoch milliseconds or an ISO date');

const DOCS: Record<string, RouteDoc> = {
  'GET runs': {
    summary: 'Runs, newest first',
    query: z.object({
      agent: text('Only this agent'),
      tenant: text('Only this tenant'),
      status: z.enum(['running', 'stopped', 'completed']).optional(),
      limit: limit(1000, 100),
    }),
  },
  'GET runs/:id': { summary: 'A run, its usage from the ledger, and its kill switch if one is on' },
  'POST runs/:id/kill': { summary: 'Kill a run: work in flight is aborted in every process sharing the store', body: runKillBody },
  'GET runs/:id/timeline': { summary: "The run's audit events in order, its usage and limits, and its sub-runs as a tree" },
  'GET kill': { summary: 'The kill switches that are on' },
  'POST kill': { summary: 'Turn a kill switch on', body: killBody },
  'DELETE kill/:scope': { summary: 'Turn a kill switch off' },
  'POST unkill': { summary: 'Turn a kill switch off (the scope in the body)', body: unkillBody },
  'GET kill/impact': { summary: 'How many runs are in flight under a kill scope', query: z.object({ scope: killScopeSchema }) },
  'GET breakers': { summary: 'Every breaker that has state' },
  'GET breakers/:scope': { summary: 'A breaker (model:<id>, provider:<id>, server:<id> or tool:<id>) and its policy' },
  'POST breakers/:scope/open': { summary: 'Open a breaker by hand', body: breakerActionBody },
  'POST breakers/:scope/close': { summary: 'Close a breaker', body: breakerActionBody },
  'POST breakers/:scope/reset': { summary: 'Reset a breaker to closed with no history', body: breakerActionBody },
  'GET alarms': { summary: "Every alarm's state" },
  'POST alarms/:name/state': { summary: "Set an alarm's state by hand until its next evaluation (like CloudWatch SetAlarmState)", body: alarmStateBody },
  'GET alarms/:name/history': { summary: "The alarm's metric, threshold and state bands", query: z.object({ range }) },
  'GET budgets': { summary: "Every budget's current period: spent, held, limit, alert thresholds, reset time" },
  'GET keys': {
    summary: 'API keys minted at run time, oldest first, with their status; never a secret or its hash',
    query: z.object({ agent: text('Only this agent') }),
  },
  'POST keys': {
    summary:
      'Mint an API key for an agent of the config (201): the answer holds the secret, shown this once; the store keeps only its sha256. Audited (key.created)',
    body: keyCreateBody,
  },
  'GET keys/:id': { summary: 'A minted API key and its status' },
  'DELETE keys/:id': { summary: 'Revoke a minted API key: every replica sharing the store refuses it from its next request on. Audited (key.revoked)' },
  'POST keys/:id/revoke': { summary: 'Revoke a minted API key (who revokes it in the body). Audited (key.revoked)', body: keyRevokeBody },
  'GET approvals': {
    summary: 'Approval requests',
    query: z.object({
      status: z.enum(['pending', 'approved', 'denied', 'expired', 'consumed']).optional(),
      run: text('Only this run'),
      agent: text('Only this agent'),
      tool: text('Only this tool (server.tool)'),
      limit: limit(1000, 100),
    }),
  },
  'POST approvals/:id/approve': { summary: 'Approve a pending tool call (the identical call goes through once)', body: decisionBody },
  'POST approvals/:id/deny': { summary: 'Deny a pending tool call', body: decisionBody },
  'POST config/reload': {
    summary:
      'Load the config file again and swap it in: new requests use it, requests in flight finish under the old one; a file `fmguard config check` refuses (or one changing the store or providers) is refused with that error and the old config stays. Audited',
    body: reloadBody,
  },
  'GET audit': {
    summary: 'Query the audit log',
    query: z.object({
      run: text('Only this run'),
      agent: text('Only this agent'),
      tenant: text('Only this tenant'),
      code: text('Only this stop code'),
      type: text('Only this event type (repeatable)'),
      from: time,
      to: time,
      limit: limit(10_000, 100),
      order: z.enum(['asc', 'desc']).optional(),
    }),
  },
  'GET audit/verify': { summary: 'Walk the hash chain: the first event changed, removed or reordered, and any gap in a writer numbering' },
  'GET audit/head': { summary: 'The chain head, signed (with audit.key)' },
  'GET audit/status': { summary: "The audit log's state: events waiting, the oldest one's age, the last error" },
  'GET config': { summary: 'The running config, secrets masked' },
  'GET config/info': { summary: 'The running config, secrets masked, and when it was loaded' },
  'GET events': { summary: "Server-sent events: this process's run, call, kill, breaker, alarm and approval events" },
  'GET live/runs': {
    summary: 'Runs with usage, limits and last model, filtered and paged, with counts per state',
    query: z.object({
      tenant: text('Only this tenant'),
      agent: text('Only this agent'),
      state: z.enum(['running', 'stopped', 'completed']).optional(),
      code: text('Only this stop code'),
      page: z.coerce.number().int().min(1).optional().describe('Page, from 1'),
      limit: limit(500, 50),
    }),
  },
  'GET live/breakers': { summary: 'Every breaker with state, policy and history', query: z.object({ range }) },
  'GET spend': {
    summary: 'Cost and tokens per period; each budget with its spend this window',
    query: z.object({ by: z.enum(['tenant', 'agent', 'model']).optional(), range }),
  },
  'GET openapi.json': { summary: 'This document' },
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

function operation(route: Route, doc: RouteDoc | undefined) {
  const params = route.pattern
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => ({ name: s.slice(1), in: 'path', required: true, schema: { type: 'string' } }));
  const query = doc?.query
    ? Object.entries(doc.query.shape).map(([name, schema]) => {
        const { description, ...rest } = jsonSchema(schema as z.ZodType) as { description?: string };
        return { name, in: 'query', required: false, ...(description && { description }), schema: rest };
      })
    : [];
  return {
    operationId: `${route.method.toLowerCase()} ${route.pattern}`.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : '')),
    summary: doc?.summary ?? `${route.method} /admin/${route.pattern}`,
    ...(params.length + query.length > 0 && { parameters: [...params, ...query] }),
    ...(doc?.body && { requestBody: { required: false, content: { 'application/json': { schema: jsonSchema(doc.body) } } } }),
    responses: {
      '200': { description: 'OK (JSON)', content: { [route.pattern === 'events' ? 'text/event-stream' : 'application/json']: {} } },
      default: {
        description: 'An error: `{ error: { message, type, code, param, fmguard } }` with the stop code in `code`',
        content: { 'application/json': {} },
      },
    },
  };
}

/** `runs/:id/kill` → `/admin/runs/{id}/kill`. */
export function openApiPath(pattern: string): string {
  return `/admin/${pattern
    .split('/')
    .map((s) => (s.startsWith(':') ? `{${s.slice(1)}}` : s))
    .join('/')}`;
}

/** The OpenAPI document of every route in `routes` (the admin router's table). */
export function openApiDocument(routes: readonly Route[], version = '0.1.0'): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.pattern);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, DOCS[`${route.method} ${route.pattern}`]) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'fmguard admin API',
      version,
      description:
        "Operators' control plane beside the gateway: runs, kill switches, breakers, alarms, budgets, minted API keys, approvals, the audit log. Every request carries `authorization: Bearer <server.adminToken>`.",
    },
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    security: [{ adminToken: [] }],
    paths,
  };
}
