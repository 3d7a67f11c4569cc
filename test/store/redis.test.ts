import { createRedisStore } from '../../src/backends/redis/index.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { flushWithStoreCalls, tracked } from '../redis/network-fake-clock.ts';
import { runStoreContract } from './contract.ts';

/*
 * Against the shared Redis on 6379, every test under its own prefix (deleted afterwards); the twin is
 * a second store on the same prefix (another replica). The approval waits run on a fake clock whose
 * advance() also waits for the store calls in flight, since a network round trip takes longer than
 * the setImmediate rounds an in-process store needs; the assertions are the same as for every backend.
 */
runStoreContract({
  name: 'redis',
  shared: true,
  audit: 'none',
  clock: () => new FakeClock(undefined, { settle: flushWithStoreCalls }),
  approvals: tracked,
  open: async () => {
    const prefix = uniquePrefix('contract');
    const open = () => createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
    const store = open();
    await store.ready();
    return {
      store,
      twin: async () => {
        const twin = open();
        await twin.ready();
        return twin;
      },
      cleanup: async () => {
        await deleteKeys(prefix);
      },
    };
  },
});
