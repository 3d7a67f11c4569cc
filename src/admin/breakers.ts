import { invalid } from './request.ts';
import { breakerActionBody, parseBody } from './schemas.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const BREAKER_SCOPE = /^(model|provider|server|tool):.+$/;

function breakerScope(value: string | undefined): string {
  if (value === undefined || !BREAKER_SCOPE.test(value)) {
    throw invalid(`not a breaker scope: ${JSON.stringify(value ?? null)} (expected model:<id>, provider:<id>, server:<id> or tool:<id>)`, 'scope');
  }
  return value;
}

async function list({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { breakers: await guard.breakers.list() } };
}

async function show({ guard, params }: AdminRequest): Promise<AdminReply> {
  return { body: { breaker: await guard.breakers.get(breakerScope(params.scope)), policy: guard.breakers.policy(params.scope!) } };
}

function act(verb: 'open' | 'close' | 'reset') {
  return async ({ guard, params, req }: AdminRequest): Promise<AdminReply> => {
    const scope = breakerScope(params.scope);
    const body = await parseBody(req, breakerActionBody);
    const by = `operator:${body.by ?? 'admin'}`;
    const reason = body.reason ?? `${verb} through the admin API`;
    if (verb === 'open') {
      const cooldownMs = body.cooldownMs;
      await guard.breakers.open(scope, { ...(cooldownMs !== undefined && { cooldownMs }), by, reason });
    } else if (verb === 'close') await guard.breakers.close(scope, { by, reason });
    else await guard.breakers.reset(scope, { by, reason });
    return { body: { breaker: await guard.breakers.get(scope) } };
  };
}

export const breakerRoutes: Route[] = [
  { method: 'GET', pattern: 'breakers', handler: list },
  { method: 'GET', pattern: 'breakers/:scope', handler: show },
  { method: 'POST', pattern: 'breakers/:scope/open', handler: act('open') },
  { method: 'POST', pattern: 'breakers/:scope/close', handler: act('close') },
  { method: 'POST', pattern: 'breakers/:scope/reset', handler: act('reset') },
];
