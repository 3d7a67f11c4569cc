import type { FmguardConfig } from '../config/resolve.ts';
import type { Store } from '../store/store.ts';

export { CONFIG_OPTION_HELP } from './config-file.ts';

/** Load the config a command names (`--config`, else `$FMGUARD_CONFIG`, else `./fmguard.yaml`). */
export async function loadCliConfig(explicit: string | undefined): Promise<{ file: string; config: FmguardConfig }> {
  // Loaded here, not at the top: `fmguard --help` must not load zod, yaml or the store and its drivers.
  // The cache (src/config/cache.ts) spares an unchanged config's validation, and zod and yaml with it.
  const { findConfigFile } = await import('./config-file.ts');
  const { loadConfigFileCached } = await import('../config/cache.ts');
  const file = findConfigFile(explicit);
  return { file, config: (await loadConfigFileCached(file)).config };
}

/** Open the store the command's config file names, run `fn`, close it. */
export async function withStore<T>(explicit: string | undefined, fn: (store: Store, config: FmguardConfig) => Promise<T>): Promise<T> {
  const { config } = await loadCliConfig(explicit);
  const { openStoreLazily } = await import('../wiring/store-lazy.ts');
  const store = await openStoreLazily(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** `2026-11-26T10:00:00Z`, `1h` (ago), or epoch ms → epoch ms. */
export function parseTime(text: string | undefined, now = Date.now()): number | undefined {
  if (text === undefined) return undefined;
  const ago = /^(\d+)(s|m|h|d)$/.exec(text);
  if (ago) return now - Number(ago[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`not a time: "${text}" (ISO date, epoch ms, or 30m / 2h / 1d ago)`);
  return ms;
}
