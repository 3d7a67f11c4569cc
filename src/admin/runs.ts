import { readRunUsage } from '../runtime/run.ts';
import type { RunStatus } from '../store/store.ts';
import type { Guard } from '../runtime/guard.ts';
import { invalid, limitOf, notFound, oneOf, optionalString, readJsonObject, textOf } from './request.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

const STATUSES: readonly RunStatus[] = ['running', 'stopped', 'completed'];

/** A run's usage straight from the ledger (what `run.usage()` reports), without attaching to the run. */
export function runUsage(guard: Guard, id: string) {
  return readRunUsage(guard.store, id, guard.clock.now());
}

async function list({ guard, query }: AdminRequest): Promise<AdminReply> {
  const runs = await guard.store.runs.list({
    agent: textOf(query, 'agent'),
    tenant: textOf(query, 'tenant'),
    status: oneOf(query, 'status', STATUSES),
    limit: limitOf(query, 100, 1000),
  });
  return { body: { runs } };
}

/**
 * A run by its id (`name@agent`), or by the bare name a client used when exactly one agent has a run
 * of that name (run ids are scoped per agent: runtime/run-ids.ts).
 */
export async function existing(guard: Guard, id: string) {
  const run = await guard.store.runs.get(id);
  if (run) return run;
  if (!id.includes('@')) {
    const named = (await Promise.all(Object.keys(guard.config.agents).map((agent) => guard.store.runs.get(`${id}@${agent}`)))).filter((r) => r !== undefined);
    if (named.length === 1) return named[0]!;
    if (named.length > 1) throw invalid(`several agents have a run named "${id}": name one as ${id}@<agent>`);
  }
  throw notFound(`no run "${id}"`);
}

async function show({ guard, params }: AdminRequest): Promise<AdminReply> {
  const run = await existing(guard, params.id!);
  const kills = await guard.store.kills.list();
  const kill = kills.get(`run:${run.id}`);
  return { body: { run, usage: await runUsage(guard, run.id), ...(kill && { killSwitch: { scope: `run:${run.id}`, ...kill } }) } };
}

async function kill({ guard, params, req }: AdminRequest): Promise<AdminReply> {
  const body = await readJsonObject(req);
  const reason = optionalString(body, 'reason') ?? 'killed through the admin API';
  const by = optionalString(body, 'by', 200) ?? 'admin';
  const run = await existing(guard, params.id!);
  if (!/^[A-Za-z0-9._:-]{1,128}(@.+)?$/.test(run.id)) throw invalid(`run id "${run.id}" cannot be a kill scope`);
  const scope = `run:${run.id}`;
  await guard.kill(scope, reason, by);
  return { body: { scope, reason, by, run: await guard.store.runs.get(run.id) } };
}

export const runRoutes: Route[] = [
  { method: 'GET', pattern: 'runs', handler: list },
  { method: 'GET', pattern: 'runs/:id', handler: show },
  { method: 'POST', pattern: 'runs/:id/kill', handler: kill },
];
