/**
 * What resolving an API key costs per request (runtime/principal.ts): a config key (a Map lookup)
 * against a minted key, which is read from the store on every request (so a revocation holds on
 * every replica at once). Memory, SQLite (a file in tmp) and Redis (127.0.0.1:6379, own prefix).
 * `npx tsx bench/key-lookup.ts`; prints the median and p99 per lookup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../src/backends/memory/index.ts';
import { createRedisStore } from '../src/backends/redis/index.ts';
import { createSqliteStore } from '../src/backends/sqlite/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { mintApiKey } from '../src/runtime/api-keys.ts';
import { resolvePrincipal } from '../src/runtime/principal.ts';
import type { Store } from '../src/store/store.ts';

const N = Number(process.env.N ?? 5000);
const config = parseConfig({
  providers: { sim: { kind: 'simulated' } },
  models: { m: { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1 } },
  tenants: { t: {} },
  agents: { bot: { tenant: 't', keys: ['sk-bench-config-key'] } },
});

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function measure(label: string, store: Store, key: string): Promise<void> {
  for (let i = 0; i < 200; i++) await resolvePrincipal(config, store, key, Date.now());
  const times: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await resolvePrincipal(config, store, key, Date.now());
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(22)} median ${quantile(times, 0.5).toFixed(1).padStart(7)} µs   p99 ${quantile(times, 0.99).toFixed(1).padStart(7)} µs`);
}

const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-keys-'));
const prefix = `fmguard-bench-keys:${process.pid}:`;
const stores: Array<[string, Store]> = [
  ['memory', createMemoryStore()],
  ['sqlite', createSqliteStore({ path: join(dir, 'state.db') })],
  ['redis', createRedisStore({ url: process.env.FMGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', prefix })],
];
try {
  await measure('config key', stores[0]![1], 'sk-bench-config-key');
  for (const [name, store] of stores) {
    // A few hundred other keys, so the lookup is not in an empty table.
    for (let i = 0; i < 300; i++) await mintApiKey({ store, config, now: Date.now() }, { agent: 'bot', by: 'bench' });
    const { secret } = await mintApiKey({ store, config, now: Date.now() }, { agent: 'bot', by: 'bench' });
    await measure(`minted key (${name})`, store, secret);
  }
} finally {
  const redis = stores[2]![1] as ReturnType<typeof createRedisStore>;
  await redis.redis.del(`${prefix}ak`, `${prefix}akh`, `${prefix}akr`);
  for (const [, store] of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
}
