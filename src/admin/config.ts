import { describeConfig } from '../config/mask.ts';
import { GuardError } from '../core/errors.ts';
import { httpFailure } from '../http/error-response.ts';
import { noteConfigLoaded } from './config-info.ts';
import { parseBody, reloadBody } from './schemas.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

/** The resolved config with every secret masked (keys, provider credentials, the admin token). */
async function show({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { config: describeConfig(guard.config) } };
}

/**
 * `POST /admin/config/reload` `{ by? }`: load the config file again and swap it in (Guard.reload). A
 * file `fmguard config check` refuses is refused with the same message (400) and the running config
 * stays; so is one that changes the store or the providers. Audited (`admin.action`, `config.reload`).
 */
async function reload({ guard, req }: AdminRequest): Promise<AdminReply> {
  const body = await parseBody(req, reloadBody);
  try {
    const result = guard.reload(body.by ?? 'admin');
    noteConfigLoaded(guard.config, result.at);
    return { body: { reloaded: true, ...result } };
  } catch (error) {
    if (GuardError.isInstance(error)) throw error;
    // The config check's own errors (schema, references, Cedar with file:line): the same text as `fmguard config check`.
    throw httpFailure(400, 'request.invalid', error instanceof Error ? error.message : String(error));
  }
}

export const configRoutes: Route[] = [
  { method: 'GET', pattern: 'config', handler: show },
  { method: 'POST', pattern: 'config/reload', handler: reload },
];
