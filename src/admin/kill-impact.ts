import type { RunRecord } from '../store/store.ts';
import { killScope } from './kills.ts';
import { invalid } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

/** Run ids named in the answer; the count covers all of them. */
const SAMPLE = 20;

/**
 * What a kill switch on `scope` would stop (or lifting it would let go on): the runs in flight under
 * it, counted in the store, so every replica's runs are included. For the console's confirmation.
 */
async function impact({ guard, query }: AdminRequest): Promise<AdminReply> {
  const scope = killScope(query.get('scope') ?? undefined);
  const colon = scope.indexOf(':');
  const kind = colon < 0 ? scope : scope.slice(0, colon);
  const id = colon < 0 ? '' : scope.slice(colon + 1);
  let running: RunRecord[];
  if (kind === 'global') running = await guard.store.runs.list({ status: 'running' });
  else if (kind === 'tenant') running = await guard.store.runs.list({ status: 'running', tenant: id });
  else if (kind === 'agent') running = await guard.store.runs.list({ status: 'running', agent: id });
  else if (kind === 'run') {
    const run = await guard.store.runs.get(id);
    // A kill on a run also stops its sub-runs (their kill scopes include every ancestor).
    const family = run ? await guard.store.runs.list({ status: 'running', tenant: run.tenant }) : [];
    running = family.filter((r) => r.id === id || r.ancestors.includes(id));
  } else throw invalid(`scope: kill switches apply to global, tenant:<id>, agent:<id> or run:<id>; ${kind} scopes are stopped by their breakers`, 'scope');
  const on = (await guard.store.kills.list()).get(scope);
  return {
    body: {
      scope,
      on: on !== undefined,
      ...(on && { switch: on }),
      running: running.length,
      runs: running.slice(0, SAMPLE).map((r) => ({ id: r.id, agent: r.agent, tenant: r.tenant })),
    },
  };
}

export const killImpactRoutes: Route[] = [{ method: 'GET', pattern: 'kill/impact', handler: impact }];
