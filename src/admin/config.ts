import { describeConfig } from '../config/mask.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

/** The resolved config with every secret masked (keys, provider credentials, the admin token). */
async function show({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { config: describeConfig(guard.config) } };
}

export const configRoutes: Route[] = [{ method: 'GET', pattern: 'config', handler: show }];
