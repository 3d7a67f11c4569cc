import type { FmguardConfig } from '../config/resolve.ts';
import type { Store } from '../store/store.ts';

export const DEFAULT_CONFIG = 'fmguard.yaml';

/** Open the store a config file names, run `fn`, close it. */
export async function withStore<T>(file: string, fn: (store: Store, config: FmguardConfig) => Promise<T>): Promise<T> {
  // Loaded here, not at the top: `fmguard --help` must not load the store and its drivers.
  const { loadConfigFile } = await import('../config/load.ts');
  const { openStore } = await import('../wiring/store.ts');
  const config = loadConfigFile(file);
  const store = openStore(config);
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
