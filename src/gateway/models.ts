import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Guard } from '../runtime/guard.ts';
import { bearerToken } from '../http/auth.ts';
import type { GatewayContext } from './context.ts';
import { httpFailure } from '../http/error-response.ts';
import { sendJson } from '../http/send-json.ts';

/**
 * The models an agent may use. The policy layer will give the guard `modelsFor(agent)`; it is
 * feature-detected so the listing follows policy the day it lands. Until then: every configured model.
 */
export async function modelsFor(guard: Guard, agent: string): Promise<string[]> {
  const fn = (guard as unknown as { modelsFor?: unknown }).modelsFor;
  if (typeof fn === 'function') return [...((await fn.call(guard, agent)) as Iterable<string>)];
  return Object.keys(guard.config.models);
}

function modelObject(guard: Guard, id: string) {
  return { id, object: 'model', created: 0, owned_by: guard.config.models[id]?.provider ?? 'fmguard' };
}

/** `GET /v1/models` and `GET /v1/models/{id}` (an id the key may not use is a 404, like an unknown one). */
export async function handleModels(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, id?: string): Promise<void> {
  const { agent } = await ctx.guard.principal(bearerToken(req.headers.authorization));
  const names = await modelsFor(ctx.guard, agent.name);
  if (id === undefined) {
    sendJson(res, 200, { object: 'list', data: names.map((name) => modelObject(ctx.guard, name)) });
    return;
  }
  if (!names.includes(id)) throw httpFailure(404, 'request.invalid', `unknown model "${id}"`);
  sendJson(res, 200, modelObject(ctx.guard, id));
}
