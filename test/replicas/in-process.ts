/**
 * Gateway replicas in this process: each a real `createGateway` server on its own loopback port with
 * its own guard and its own Redis connections (as a separate process would have), sharing state only
 * through Redis. Faster to start than `node bin/fmguard.js serve` processes on a loaded machine, and
 * the test can watch each replica's guard (its breakers, its alarm engine).
 */
import { createRedisStore, type RedisStore } from '../../src/backends/redis/index.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createGateway, type Gateway } from '../../src/wiring/gateway.ts';
import { createGuard, type CreateGuardOptions } from '../../src/wiring/guard.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { REDIS_URL } from '../redis/helpers.ts';

export interface InProcessReplica {
  name: string;
  url: string;
  guard: Guard;
  gateway: Gateway;
  store: RedisStore;
  /** As if the process died: connections cut, the store gone, nothing settled afterwards. */
  crash(): Promise<void>;
  close(): Promise<void>;
}

export async function startInProcessReplicas(
  count: number,
  config: ConfigInput,
  prefix: string,
  options: (i: number) => Partial<CreateGuardOptions> = () => ({}),
): Promise<InProcessReplica[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const store = createRedisStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 });
      await store.ready();
      const guard = createGuard({ config, store, ...options(i) });
      const gateway = createGateway({ guard });
      const { url } = await gateway.listen(0, '127.0.0.1');
      let closed = false;
      const replica: InProcessReplica = {
        name: `gw-${i + 1}`,
        url,
        guard,
        gateway,
        store,
        async crash() {
          closed = true;
          gateway.server.closeAllConnections();
          await store.close();
          gateway.server.close();
        },
        async close() {
          if (closed) return;
          closed = true;
          await gateway.close(100);
          await guard.close();
          await store.close();
        },
      };
      return replica;
    }),
  );
}
