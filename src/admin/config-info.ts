import type { FmguardConfig } from '../config/resolve.ts';
import { describeConfig } from '../config/mask.ts';
import type { AdminReply, AdminRequest, Route } from './router.ts';

/** When each config object was put to use, as first noted by a server mounting it. */
const loaded = new WeakMap<FmguardConfig, number>();

/**
 * Note that `config` went into service at `at` (the first note wins). The gateway notes it when it
 * mounts the console, which happens as it starts with the config.
 */
export function noteConfigLoaded(config: FmguardConfig, at: number): void {
  if (!loaded.has(config)) loaded.set(config, at);
}

/** The running config with every secret masked, and when it was loaded (null when nobody noted it). */
async function info({ guard }: AdminRequest): Promise<AdminReply> {
  return { body: { config: describeConfig(guard.config), loadedAt: loaded.get(guard.config) ?? null, now: guard.clock.now() } };
}

export const configInfoRoutes: Route[] = [{ method: 'GET', pattern: 'config/info', handler: info }];
