import type { BreakerState } from '../../breakers/state.ts';
import type { BreakerRecord, BreakerStore, CasResult } from '../../store/breakers.ts';
import type { RedisHandle } from './handle.ts';
import { casBreakerScript, deleteBreakerScript } from './lua/breakers.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * A breaker changed on some replica (version undefined: deleted). Scope `*` means "anything may have
 * changed": sent whenever the subscription is (re)established, since messages sent meanwhile are lost.
 */
export type BreakerChangeListener = (scope: string, version: number | undefined) => void;

export interface RedisBreakerStore extends BreakerStore {
  /**
   * Hear every change any replica makes, at once, so a cached state can be dropped (the breaker
   * service otherwise re-reads after its cache period). Returns a function that stops.
   */
  subscribe(listener: BreakerChangeListener): () => void;
}

const record = (scope: string, json: string, version: number): BreakerRecord => ({ scope, state: JSON.parse(json) as BreakerState, version });

/**
 * Breaker state in Redis: two hashes (state JSON and version per scope). compareAndSet is one Lua
 * script, so of concurrent transitions on one version exactly one wins, on whichever replica.
 */
export function createRedisBreakerStore(handle: RedisHandle & { readonly subscriber: Subscriber }): RedisBreakerStore {
  const { gate, subscriber } = handle;
  const prefix = handle.keys.prefix;
  const listeners = new Set<BreakerChangeListener>();
  let stop: (() => void) | undefined;

  const announce = (scope: string, version: number | undefined) => {
    for (const listener of listeners) {
      try {
        listener(scope, version);
      } catch {
        // A listener's failure is its own.
      }
    }
  };

  return {
    kind: 'redis',
    async get(scope) {
      const [json, version] = await gate.run('breaker get', (redis) => redis.pipeline().hget(`${prefix}br:s`, scope).hget(`${prefix}br:v`, scope).exec().then(unwrap<string | null>));
      return json === null ? undefined : record(scope, json, Number(version));
    },
    async compareAndSet(scope, expectedVersion, state): Promise<CasResult> {
      const json = JSON.stringify(state);
      const message = JSON.stringify({ s: scope, v: expectedVersion + 1 });
      const reply = (await gate.run('breaker compare-and-set', (redis) =>
        casBreakerScript.run(redis, [prefix, scope, String(expectedVersion), json, message]),
      )) as [number, number, (string | null)?];
      if (reply[0] === 1) return { ok: true, record: record(scope, json, reply[1]) };
      const current = reply[2];
      return { ok: false, current: typeof current === 'string' ? record(scope, current, reply[1]) : undefined };
    },
    async delete(scope) {
      await gate.run('breaker delete', (redis) => deleteBreakerScript.run(redis, [prefix, scope, JSON.stringify({ s: scope, v: null })]));
    },
    async list() {
      const [states, versions] = await gate.run('breaker list', (redis) =>
        redis.pipeline().hgetall(`${prefix}br:s`).hgetall(`${prefix}br:v`).exec().then(unwrap<Record<string, string>>),
      );
      return Object.keys(states)
        .sort()
        .map((scope) => record(scope, states[scope], Number(versions[scope] ?? 0)));
    },
    subscribe(listener) {
      listeners.add(listener);
      stop ??= subscriber.listen(handle.keys.breakerChannel, {
        onMessage(text) {
          try {
            const m = JSON.parse(text) as { s: string; v: number | null };
            announce(m.s, m.v ?? undefined);
          } catch {
            // Not ours.
          }
        },
        // Changes published while the connection was down are lost: tell listeners to drop everything.
        onSubscribed: () => announce('*', undefined),
      });
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          stop?.();
          stop = undefined;
        }
      };
    },
  };
}

/** Unwrap a pipeline's replies, failing on the first error. */
function unwrap<T>(replies: Array<[Error | null, unknown]> | null): T[] {
  return (replies ?? []).map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
