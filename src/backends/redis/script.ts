import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * In a Redis Cluster a script must be sent to the node that owns its keys. Every script of a store
 * touches only keys under the store's hash-tagged prefix (one slot), so it declares one key of that
 * slot (`KEYS[1]`, which no script reads) and the cluster client routes it there. A single Redis
 * needs no route: its connections are not registered and scripts declare no key.
 */
const routes = new WeakMap<object, string>();

/** Route every script run on `client` to the slot of `key` (cluster mode). */
export function routeScripts(client: object, key: string): void {
  routes.set(client, key);
}

/**
 * A Lua script run by EVALSHA: one round trip, and the script body is sent only when Redis does not
 * know it yet (first use, or after a restart emptied its script cache).
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, args: ReadonlyArray<string | number>): Promise<unknown> {
    const route = routes.get(redis);
    const keys: string[] = route === undefined ? [] : [route];
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
