import { randomUUID } from 'node:crypto';
import { copyKill, notifyKill, sameKill } from '../rules.ts';
import type { KillInfo, KillListener, KillScope, KillStore } from '../../store/store.ts';
import type { Gate } from './connection.ts';
import type { FailPolicy } from './fail-open.ts';
import type { Keys } from './keys.ts';
import { clearKillScript, readKillsScript, setKillScript } from './lua/kills.ts';
import type { Subscriber } from './subscriber.ts';

/** What is published on the kill channel: origin (store instance), scope, version, info (null = cleared). */
interface KillMessage {
  o: string;
  s: KillScope;
  v: number;
  i: unknown;
}

/** A scope as a listener last heard of it, and the version of that state. */
interface Known {
  info: KillInfo | null;
  v: number;
}

function toInfo(value: unknown): KillInfo | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  return { reason: String(v.reason), by: String(v.by), at: Number(v.at) };
}

function parseInfo(json: string): KillInfo | null {
  try {
    return toInfo(JSON.parse(json));
  } catch {
    return null;
  }
}

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/**
 * Kill switches in one Redis hash. Every change is published by the script that makes it, so every
 * replica hears it at once over its subscriber connection; this store's own changes reach its
 * listeners directly once written. After the subscriber connection (re)connects, and every
 * `resyncMs` while listening, the switches are read again and what changed is announced, so a
 * change made while the connection was away is not lost. Each change carries a version, and
 * nothing older than what a listener already heard of a scope is applied, so a slow read can never
 * announce a kill as cleared when it is not.
 */
export class RedisKills implements KillStore {
  private readonly origin = randomUUID();
  private readonly listeners = new Set<KillListener>();
  /** Per scope, what listeners heard last; exists while anyone listens. */
  private known: Map<KillScope, Known> | undefined;
  private stopListening: (() => void) | undefined;
  private resyncing: Promise<void> = Promise.resolve();
  /** Bumped whenever listening starts or stops, so reads from an earlier round are dropped. */
  private generation = 0;
  private subscribedOnce: Promise<void> | undefined;
  private resolveSubscribed: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly gate: Gate,
    private readonly keys: Keys,
    private readonly subscriber: Subscriber,
    private readonly policy: FailPolicy,
    /** Re-read the switches this often while listening (0: only after reconnects). */
    private readonly resyncMs: number,
  ) {}

  async set(scope: KillScope, info: KillInfo): Promise<void> {
    const copy = copyKill(info);
    const args = [this.keys.prefix, this.origin, scope, JSON.stringify(copy)];
    const v = Number(await this.gate.run('kill set', (redis) => setKillScript.run(redis, args)));
    this.apply(scope, copy, v, true);
  }

  async clear(scope: KillScope): Promise<void> {
    const args = [this.keys.prefix, this.origin, scope];
    const v = await this.gate.run('kill clear', (redis) => clearKillScript.run(redis, args));
    if (v === null) return;
    this.apply(scope, null, Number(v), true);
  }

  async list(): Promise<Map<KillScope, KillInfo>> {
    return this.policy.guard(
      'kills',
      () => this.readKills(),
      () => new Map(),
    );
  }

  subscribe(listener: KillListener): () => void {
    const entry: KillListener = (scope, info) => listener(scope, info);
    this.listeners.add(entry);
    if (this.stopListening === undefined) this.startListening();
    return () => {
      this.listeners.delete(entry);
      if (this.listeners.size === 0) this.stopListeningNow();
    };
  }

  /** Resolves once the subscriber connection listens and the switches were read after it (tests, startup). */
  subscribed(): Promise<void> {
    return this.subscribedOnce ?? Promise.resolve();
  }

  close(): void {
    this.listeners.clear();
    this.stopListeningNow();
  }

  private async readKills(): Promise<Map<KillScope, KillInfo>> {
    const all = await this.gate.run('kill list', (redis) => redis.hgetall(this.keys.kills));
    const out = new Map<KillScope, KillInfo>();
    for (const [scope, json] of Object.entries(all)) {
      const info = parseInfo(json);
      if (info) out.set(scope, info);
    }
    return out;
  }

  /**
   * Record a change of `scope` at version `v` and tell listeners, unless something as new was heard
   * already. `always`: this store's own write, which its listeners hear even if it changes nothing.
   */
  private apply(scope: KillScope, info: KillInfo | null, v: number, always = false): void {
    const known = this.known;
    const before = known?.get(scope);
    if (before !== undefined && before.v >= v) return;
    known?.set(scope, { info, v });
    const changed = before === undefined ? info !== null : before.info === null || info === null ? before.info !== info : !sameKill(before.info, info);
    if (always || changed || known === undefined) notifyKill(this.listeners, scope, info);
  }

  private startListening(): void {
    const generation = ++this.generation;
    this.known = new Map();
    this.subscribedOnce = new Promise((resolve) => (this.resolveSubscribed = resolve));
    // The state as of now (told to no one), so a change made before the subscription is live is announced.
    this.resync(generation, 'baseline');
    this.stopListening = this.subscriber.listen(this.keys.killChannel, {
      onMessage: (text) => this.onMessage(text),
      onSubscribed: () => this.resync(generation, 'subscribed'),
    });
    // A subscriber connection that died silently (no FIN, no RST) looks connected and hears nothing;
    // reading now and then bounds how long a change can go unheard.
    if (this.resyncMs > 0) {
      this.timer = setInterval(() => this.resync(generation, 'periodic'), this.resyncMs);
      this.timer.unref();
    }
  }

  private stopListeningNow(): void {
    this.generation++;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopListening?.();
    this.stopListening = undefined;
    this.known = undefined;
    this.resolveSubscribed?.();
  }

  private onMessage(text: string): void {
    let message: KillMessage;
    try {
      message = JSON.parse(text) as KillMessage;
    } catch {
      return;
    }
    if (typeof message.s !== 'string' || typeof message.v !== 'number') return;
    const info = toInfo(message.i);
    // Our own echo only moves the version on: its listeners were told when the write returned.
    if (message.o === this.origin) {
      const before = this.known?.get(message.s);
      if (before !== undefined && before.v < message.v) before.v = message.v;
      return;
    }
    this.apply(message.s, info, message.v);
  }

  /** Read switches and versions at one moment; apply what is newer than what was heard, in order. */
  private resync(generation: number, why: 'baseline' | 'subscribed' | 'periodic'): void {
    this.resyncing = this.resyncing.then(async () => {
      if (generation !== this.generation) return;
      let kills: string[];
      let versions: string[];
      try {
        [kills, versions] = (await this.gate.run('kill resync', (redis) => readKillsScript.run(redis, [this.keys.prefix]))) as [string[], string[]];
      } catch {
        // Redis went away again; the next subscription (or tick) reads again.
        return;
      }
      const known = this.known;
      if (generation !== this.generation || known === undefined) return;
      const infos = new Map(pairs(kills));
      const stamps = new Map(pairs(versions));
      // A switch written without a version (by hand) counts as older than any versioned change.
      for (const scope of new Set([...infos.keys(), ...stamps.keys()])) {
        const json = infos.get(scope);
        const info = json === undefined ? null : parseInfo(json);
        const v = Number(stamps.get(scope) ?? 0);
        if (why === 'baseline') {
          const before = known.get(scope);
          if (before === undefined || before.v < v) known.set(scope, { info, v });
        } else {
          this.apply(scope, info, v);
        }
      }
      if (why === 'subscribed') this.resolveSubscribed?.();
    });
  }
}
