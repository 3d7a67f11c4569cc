import { invalid } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';
import { KILL_SCOPE, killBody, parseBody, unkillBody } from './schemas.ts';

export { KILL_SCOPE };

export function killScope(value: unknown): string {
  if (typeof value !== 'string' || !KILL_SCOPE.test(value)) {
    throw invalid(
      `scope: expected global, tenant:<id>, agent:<id>, run:<id>, provider:<id>, model:<id> or tool:<id>, got ${JSON.stringify(value ?? null)}`,
      'scope',
    );
  }
  return value;
}

async function list({ guard }: AdminRequest): Promise<AdminReply> {
  const all = await guard.store.kills.list();
  return { body: { switches: [...all].map(([scope, info]) => ({ scope, ...info })) } };
}

async function set({ guard, req }: AdminRequest): Promise<AdminReply> {
  const body = await parseBody(req, killBody);
  const scope = body.scope;
  const reason = body.reason ?? 'killed through the admin API';
  const by = body.by ?? 'admin';
  await guard.kill(scope, reason, by);
  return { body: { scope, on: true, reason, by } };
}

async function clear(guard: AdminRequest['guard'], scope: string): Promise<AdminReply> {
  const was = (await guard.store.kills.list()).has(scope);
  await guard.unkill(scope);
  return { body: { scope, on: false, cleared: was } };
}

export const killRoutes: Route[] = [
  { method: 'GET', pattern: 'kill', handler: list },
  { method: 'POST', pattern: 'kill', handler: set },
  { method: 'DELETE', pattern: 'kill/:scope', handler: ({ guard, params }) => clear(guard, killScope(params.scope)) },
  { method: 'POST', pattern: 'unkill', handler: async ({ guard, req }) => clear(guard, (await parseBody(req, unkillBody)).scope) },
];
