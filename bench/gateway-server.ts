/**
 * The gateway under test, in its own child process (bench/gateway.ts starts it): the memory store,
 * every safeguard the runtime has on — budgets at tenant, agent and key level, rate limits at each,
 * run limits, loop and no-progress detection, breakers, metrics, the Cedar policy engine — and
 * the OpenAI-compatible provider pointing at the mock upstream. Reports its URL over IPC.
 * An optional third argument `redis://…` (and fourth, a key prefix) puts the state in Redis instead
 * (bench/gateway-redis.ts); the prefix's keys are deleted on the way out.
 */
import { createGateway } from '../src/wiring/gateway.ts';
import { createGuard } from '../src/wiring/guard.ts';
import { createMemoryStore } from '../src/backends/memory/index.ts';
import { createRedisStore } from '../src/backends/redis/index.ts';

const [upstream, key, redisUrl, redisPrefix = `fmguard-bench:${process.pid}:`] = process.argv.slice(2);
if (!upstream || !key) throw new Error('usage: gateway-server.ts <upstream url> <agent key> [<redis url> [<key prefix>]]');
const redis = redisUrl ? createRedisStore({ url: redisUrl, prefix: redisPrefix }) : undefined;
await redis?.ready();

const big = { budgets: [{ period: 'day' as const, maxCostUsd: 1_000_000 }], rateLimits: { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 } };
const guard = createGuard({
  config: {
    store: redis ? { kind: 'redis', url: redisUrl!, prefix: redisPrefix } : { kind: 'memory' },
    providers: { mock: { kind: 'openai', baseUrl: `${upstream}/v1` } },
    models: { 'mock-small': { provider: 'mock', inputPerMTok: 0.15, outputPerMTok: 0.6, maxOutputTokens: 4096, rateLimits: big.rateLimits } },
    tenants: { acme: big },
    agents: {
      bench: {
        tenant: 'acme',
        keys: [{ key, ...big }],
        ...big,
        // Compiled to Cedar by the runtime's policy engine (default deny otherwise).
        allow: { models: ['mock-*'] },
        limits: { maxSteps: 1_000_000_000, maxCostUsd: 1_000_000, maxTotalTokens: 1_000_000_000_000, maxIdenticalOutputs: 1_000_000_000 },
      },
    },
  },
  // The guard builds the OpenAI-compatible provider (undici pool) from the config.
  store: redis ?? createMemoryStore(),
});
const gateway = createGateway({ guard, onError: (error) => process.send?.({ error: String(error) }) });
const { url } = await gateway.listen(0, '127.0.0.1');
process.send?.({ url });
process.on('disconnect', () => {
  void (async () => {
    await gateway.close(100);
    await guard.close();
    if (redis) await deleteKeys(redisUrl!, redisPrefix).catch(() => {});
    process.exit(0);
  })();
});

/** Remove the bench's own keys (SCAN + UNLINK under its prefix; never a FLUSH). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
