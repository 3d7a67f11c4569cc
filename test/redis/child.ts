/**
 * A separate OS process sharing one Redis (another replica): `node --import tsx child.ts <url> <prefix> <mode> ...`.
 * - `reserve <n> <amount> <limit> <parties>`: once `parties` processes have arrived (so they
 *   overlap however slowly each starts), n reserves in waves of 10 on `budget:shared` (limit) and
 *   a run of its own; every other one is settled at its full amount. Prints how many were granted
 *   and how many of those settled.
 * - `hold <amount> <ttlMs>`: reserve once with that deadline, print `held`, then wait to be killed.
 */
import { createRedisStore } from '../../src/backends/redis/index.ts';

const [url, prefix, mode, ...rest] = process.argv.slice(2);
const store = createRedisStore({ url, prefix, commandTimeoutMs: 5000 });
await store.ready();

if (mode === 'reserve') {
  const [n, amount, limit, parties] = rest.map(Number);
  // A barrier in Redis (keys under the test's prefix, deleted with it): the last to arrive picks a
  // start time shortly ahead, and everyone starts then.
  if ((await store.redis.incr(`${prefix}test:barrier`)) === parties) await store.redis.set(`${prefix}test:start`, String(Date.now() + 100));
  let startAt: string | null = null;
  while ((startAt = await store.redis.get(`${prefix}test:start`)) === null) await new Promise((r) => setTimeout(r, 2));
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const now = Date.now();
  const one = async (i: number) => {
    const id = `${process.pid}-${i}`;
    const r = await store.ledger.reserve({
      id,
      charges: [
        { key: 'budget:shared', dim: 'cost', amount, limit, code: 'budget.exhausted' },
        { key: `run:${process.pid}`, dim: 'steps', amount: 1, code: 'limit.steps' },
      ],
      expiresAt: now + 60_000,
      now,
    });
    if (r.ok && i % 2 === 0) return (await store.ledger.settle({ id, actual: [amount, 1], now })).ok ? 'settled' : 'lost';
    return r.ok ? 'held' : 'refused';
  };
  // Waves of 10 concurrent calls, so the two processes contend for longer than one burst.
  const results: string[] = [];
  for (let i = 0; i < n; i += 10) results.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => one(i + j)))));
  const count = (what: string) => results.filter((r) => r === what).length;
  process.stdout.write(`${count('held') + count('settled')} ${count('settled')}`);
  await store.close();
} else if (mode === 'hold') {
  const [amount, ttlMs] = rest.map(Number);
  const now = Date.now();
  const r = await store.ledger.reserve({
    id: `dead-${process.pid}`,
    charges: [{ key: 'budget:shared', dim: 'cost', amount, limit: amount, code: 'budget.exhausted' }],
    expiresAt: now + ttlMs,
    now,
  });
  process.stdout.write(r.ok ? 'held\n' : 'refused\n');
  // Keep the connection open, as a replica in the middle of a stream would, until SIGKILL.
  setInterval(() => {}, 1 << 30);
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
