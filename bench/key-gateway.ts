/**
 * A chat completion through the gateway with a config key and with a minted key (looked up in the
 * store on every request), sequentially, on a SQLite file and on Redis (127.0.0.1:6379, own prefix):
 * the median and p90 latency of each. `npx tsx bench/key-gateway.ts` (N=300 per case).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintApiKey } from '../src/runtime/api-keys.ts';
import { createGateway } from '../src/wiring/gateway.ts';
import { createGuard } from '../src/wiring/guard.ts';

const N = Number(process.env.N ?? 300);
const CONFIG_KEY = 'sk-bench-config-key';
const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-keygw-'));
const prefix = `fmguard-bench-keygw:${process.pid}:`;

async function time(url: string, key: string): Promise<number[]> {
  const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const out: number[] = [];
  for (let i = 0; i < N + 30; i++) {
    const t = performance.now();
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    if (i >= 30) out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2);

for (const store of [{ kind: 'sqlite', path: join(dir, 'state.db') }, { kind: 'redis', url: process.env.FMGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', prefix }]) {
  const guard = createGuard({
    config: {
      store,
      providers: { sim: { kind: 'simulated' } },
      models: { m: { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1 } },
      tenants: { t: {} },
      agents: { bot: { tenant: 't', keys: [CONFIG_KEY], allow: { models: ['*'] } } },
      audit: { sink: 'none' },
      defaults: { retry: [] },
    } as never,
    background: false,
  });
  const gateway = createGateway({ guard });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const { secret } = await mintApiKey({ store: guard.store, config: guard.config, now: Date.now() }, { agent: 'bot', by: 'bench' });
  for (const [label, key] of [
    ['config key', CONFIG_KEY],
    ['minted key', secret],
    ['config key', CONFIG_KEY],
    ['minted key', secret],
  ] as const) {
    const s = await time(url, key);
    console.log(`${store.kind.padEnd(6)} ${label}: median ${q(s, 0.5)} ms  p90 ${q(s, 0.9)} ms`);
  }
  if (store.kind === 'redis') {
    // Everything this run wrote under its own prefix (keys, metrics), never anything else.
    const redis = (guard.store as unknown as { redis: import('ioredis').Redis }).redis;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.unlink(...keys);
  }
  await gateway.close(100);
  await guard.close();
}
rmSync(dir, { recursive: true, force: true });
