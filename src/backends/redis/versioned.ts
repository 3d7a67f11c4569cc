import type { AlarmStateStore } from '../../store/alarms.ts';
import type { BreakerChangeListener, BreakerState, BreakerStore } from '../../store/breakers.ts';
import type { CasResult, VersionedRecord, VersionedStore } from '../../store/versioned.ts';
import type { RedisHandle } from './handle.ts';
import { casVersionedScript, deleteVersionedScript } from './lua/versioned.ts';
import type { Subscriber } from './subscriber.ts';

export type { BreakerChangeListener } from '../../store/breakers.ts';

/** A breaker store whose replicas hear each other's changes at once. */
export type RedisBreakerStore = BreakerStore & Required<Pick<BreakerStore, 'subscribe'>>;

/** Where one kind of versioned record lives: a state hash and a version hash, and a change channel. */
interface Place {
  states: string;
  versions: string;
  /** '' = changes are not announced. */
  channel: string;
  /** What the records are, for error messages (`breaker`, `alarm`). */
  what: string;
}

/**
 * Versioned records in Redis: two hashes (state JSON and version per key). compareAndSet is one Lua
 * script, so of concurrent transitions on one version exactly one wins, on whichever replica.
 */
function createRedisVersionedStore<S>(handle: RedisHandle, place: Place): VersionedStore<S> {
  const { gate } = handle;
  const record = (scope: string, json: string, version: number): VersionedRecord<S> => ({ scope, state: JSON.parse(json) as S, version });
  return {
    kind: 'redis',
    async get(scope) {
      const [json, version] = await gate.run(`${place.what} get`, (redis) =>
        redis
          .pipeline()
          .hget(place.states, scope)
          .hget(place.versions, scope)
          .exec()
          .then(unwrap<string | null>),
      );
      return json === null ? undefined : record(scope, json, Number(version));
    },
    async compareAndSet(scope, expectedVersion, state): Promise<CasResult<S>> {
      const json = JSON.stringify(state);
      const message = JSON.stringify({ s: scope, v: expectedVersion + 1 });
      const args = [place.states, place.versions, place.channel, scope, String(expectedVersion), json, message];
      const reply = (await gate.run(`${place.what} compare-and-set`, (redis) => casVersionedScript.run(redis, args))) as [number, number, (string | null)?];
      if (reply[0] === 1) return { ok: true, record: record(scope, json, reply[1]) };
      const current = reply[2];
      return { ok: false, current: typeof current === 'string' ? record(scope, current, reply[1]) : undefined };
    },
    async delete(scope) {
      const args = [place.states, place.versions, place.channel, scope, JSON.stringify({ s: scope, v: null })];
      await gate.run(`${place.what} delete`, (redis) => deleteVersionedScript.run(redis, args));
    },
    async list() {
      const [states, versions] = await gate.run(`${place.what} list`, (redis) =>
        redis
          .pipeline()
          .hgetall(place.states)
          .hgetall(place.versions)
          .exec()
          .then(unwrap<Record<string, string>>),
      );
      return Object.keys(states)
        .sort()
        .map((scope) => record(scope, states[scope], Number(versions[scope] ?? 0)));
    },
  };
}

/**
 * Breaker state in Redis (`br:s`, `br:v`); every change is announced on the breaker channel, so
 * `subscribe` hears changes made on any replica at once.
 */
export function createRedisBreakerStore(handle: RedisHandle & { readonly subscriber: Subscriber }): RedisBreakerStore {
  const { subscriber } = handle;
  const prefix = handle.keys.prefix;
  const base = createRedisVersionedStore<BreakerState>(handle, {
    what: 'breaker',
    states: `${prefix}br:s`,
    versions: `${prefix}br:v`,
    channel: handle.keys.breakerChannel,
  });
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
    ...base,
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

/** Alarm state in Redis (`al:s`, `al:v`), shared by every replica. */
export function createRedisAlarmStore(handle: RedisHandle): AlarmStateStore {
  const prefix = handle.keys.prefix;
  return createRedisVersionedStore(handle, { states: `${prefix}al:s`, versions: `${prefix}al:v`, channel: '', what: 'alarm' });
}

/** Unwrap a pipeline's replies, failing on the first error. */
function unwrap<T>(replies: Array<[Error | null, unknown]> | null): T[] {
  return (replies ?? []).map(([err, value]) => {
    if (err) throw err;
    return value as T;
  });
}
