import type { Guard } from '../runtime/guard.ts';
import { bandsOf, transitionsByResource } from './history.ts';
import { rangeMsOf } from './range.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const DAY_MS = 86_400_000;

/** Every scope a breaker guards by config (models, providers, tool servers), plus any with stored state. */
async function scopesOf(guard: Guard): Promise<string[]> {
  const scopes = new Set<string>();
  for (const name of Object.keys(guard.config.models)) scopes.add(`model:${name}`);
  for (const name of Object.keys(guard.config.providers)) scopes.add(`provider:${name}`);
  for (const name of Object.keys(guard.config.toolServers)) scopes.add(`server:${name}`);
  for (const view of await guard.breakers.list()) scopes.add(view.scope);
  return [...scopes];
}

/**
 * Every breaker with its state now, its policy and its history over the range (from the
 * `breaker.changed` events in the audit log), for the Alarms and breakers view.
 */
async function board({ guard, query }: AdminRequest): Promise<AdminReply> {
  const now = guard.clock.now();
  const from = now - rangeMsOf(query, 3_600_000, DAY_MS);
  const [scopes, history] = await Promise.all([scopesOf(guard), transitionsByResource(guard, 'breaker.changed', from, now + 1)]);
  const breakers = await Promise.all(
    scopes.map(async (scope) => {
      const view = await guard.breakers.get(scope);
      const transitions = history.get(scope) ?? [];
      return { ...view, policy: guard.breakers.policy(scope), transitions, bands: bandsOf(transitions, from, now, view.kind) };
    }),
  );
  return { body: { breakers, from, now } };
}

export const breakerBoardRoutes: Route[] = [{ method: 'GET', pattern: 'live/breakers', handler: board }];
