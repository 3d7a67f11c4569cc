import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.ts';
import { guardError, type GuardError } from '../core/errors.ts';
import { checkPolicy, DEFAULT_BREAKER_POLICY, policyFor, type BreakerPolicy } from './policy.ts';
import {
  admitCall,
  effectiveKind,
  forceClose,
  forceOpen,
  initialBreakerState,
  recordResult,
  releaseProbe,
  type Admission,
  type BreakerKind,
  type BreakerState,
  type BreakerToken,
} from './state.ts';
import type { BreakerRecord, BreakerStore } from '../store/breakers.ts';

/** A breaker changed phase (or an operator/alarm acted on it): for the audit log and metrics. */
export interface BreakerChange {
  scope: string;
  from: BreakerKind;
  to: BreakerKind;
  state: BreakerState;
  at: number;
  /** `auto`, `alarm:<name>`, `operator:<who>`. */
  by: string;
  reason: string;
}

export interface BreakerView {
  scope: string;
  state: BreakerState;
  /** What a caller sees now: an open breaker past its cooldown is half-open. */
  kind: BreakerKind;
  /** For an open breaker: ms until it half-opens; null while held open by an operator. */
  retryAfterMs: number | null;
}

export interface BreakersOptions {
  /** Where breaker state lives (`store.breakers` of the guard's store). */
  store: BreakerStore;
  clock?: Clock;
  /** Policy for every scope (defaults: 5 failures → open 30 s, 3 probes, ×2 up to 5 min). */
  defaults?: Partial<BreakerPolicy>;
  /** Per scope (`provider:openai`) or per kind (`tool:*`); `{ failureThreshold: 0 }` disables the automatic breaker. */
  overrides?: Record<string, Partial<BreakerPolicy>>;
  /** Called after each phase change this process makes. Must not throw (errors are dropped). */
  onChange?: (change: BreakerChange) => void;
  /**
   * How long a cached state is trusted before the store is read again. Default 1 s. When the store
   * announces changes (`BreakerStore.subscribe`: Redis pub/sub, SQLite's data_version poll, the memory
   * store in process), a change another replica makes drops the cached state at once, so it is honoured
   * within the announcement's delay; the cache period only bounds a lost announcement.
   */
  cacheMs?: number;
}

export interface Breakers {
  /**
   * May a call on `scope` go ahead? Closed: yes (answered from memory). Open: no, with the
   * cooldown left. Half-open: yes as a probe while probe slots are free. Rejects with a
   * `store.unavailable` GuardError when the state cannot be read.
   */
  admit(scope: string): Promise<Admission>;
  /** Report how an admitted call ended (the token from `admit`). */
  record(scope: string, token: BreakerToken, success: boolean): Promise<void>;
  /** An admitted call did not happen after all: free its probe slot, if it had one. */
  release(scope: string, token: BreakerToken): Promise<void>;
  /** Open now. `cooldownMs: null` holds it open until `close`. Defaults come from the scope's policy. */
  open(scope: string, options: { cooldownMs?: number | null; halfOpenProbes?: number; by: string; reason: string }): Promise<BreakerState>;
  close(scope: string, options: { by: string; reason: string }): Promise<BreakerState>;
  /** Forget the scope's state entirely (closed, no failure count, no backoff). */
  reset(scope: string, options: { by: string; reason: string }): Promise<void>;
  get(scope: string): Promise<BreakerView>;
  /** Scopes with stored state (a never-tripped breaker has none). */
  list(): Promise<BreakerView[]>;
  policy(scope: string): BreakerPolicy;
  /** Stop hearing other replicas' changes (the store subscription). */
  stop(): void;
}

/** The GuardError for a refused admission, for callers that throw. */
export function breakerOpenError(scope: string, admission: Extract<Admission, { ok: false }>): GuardError {
  const wait = admission.retryAfterMs === null ? 'until an operator closes it' : `retry in ${admission.retryAfterMs} ms`;
  return guardError('breaker.open', `breaker for ${scope} is open; ${wait}`, {
    scope,
    ...(admission.retryAfterMs === null ? {} : { retryAfterMs: admission.retryAfterMs }),
  });
}

interface CacheEntry {
  record: BreakerRecord | undefined;
  at: number;
  /** Shared admission for the closed fast path (no allocation per call). */
  pass?: Admission;
}

const MAX_CAS_ATTEMPTS = 16;

export function createBreakers({ store, clock = systemClock, defaults = {}, overrides = {}, onChange, cacheMs = 1_000 }: BreakersOptions): Breakers {
  const base = checkPolicy({ ...DEFAULT_BREAKER_POLICY, ...defaults }, 'defaults');
  for (const [key, value] of Object.entries(overrides)) checkPolicy({ ...base, ...value }, `overrides[${key}]`);
  const policies = new Map<string, BreakerPolicy>();
  const policy = (scope: string) => {
    let p = policies.get(scope);
    if (!p) policies.set(scope, (p = policyFor(scope, base, overrides)));
    return p;
  };
  const cache = new Map<string, CacheEntry>();

  const remember = (scope: string, record: BreakerRecord | undefined, now: number) => {
    const entry: CacheEntry = { record, at: now };
    const state = record?.state;
    if (!state || state.kind === 'closed') entry.pass = Object.freeze({ ok: true, probe: false, token: Object.freeze({ epoch: state?.epoch ?? 0 }) });
    cache.set(scope, entry);
  };

  // Another replica changed a breaker: forget what is cached of it, so the next call reads the store.
  // Our own writes come back too; a cached record as new as the announced version is kept.
  const onStoreChange = (scope: string, version: number | undefined): void => {
    if (scope === '*') {
      cache.clear();
      return;
    }
    const entry = cache.get(scope);
    if (!entry) return;
    if (version === undefined || (entry.record?.version ?? 0) < version) cache.delete(scope);
  };
  const unsubscribe = store.subscribe ? store.subscribe(onStoreChange) : undefined;
  const stopListening = (): void => unsubscribe?.();

  const unavailable = (scope: string, cause: unknown) => guardError('store.unavailable', `breaker state for ${scope} could not be read`, { scope }, cause);

  const emit = (scope: string, from: BreakerState, to: BreakerState, at: number, by: string, reason: string) => {
    if (!onChange) return;
    try {
      onChange({ scope, from: from.kind, to: to.kind, state: to, at, by, reason });
    } catch {
      // A failing listener must not fail the call it observes.
    }
  };

  /** Read-modify-write with compare-and-set; `step` returns the next state (same object = no write). */
  const transact = async <T>(
    scope: string,
    step: (state: BreakerState, now: number) => { state: BreakerState; result: T; by?: string; reason?: string },
  ): Promise<T> => {
    let record: BreakerRecord | undefined;
    try {
      record = await store.get(scope);
    } catch (error) {
      throw unavailable(scope, error);
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const now = clock.now();
      const state = record?.state ?? initialBreakerState(now);
      const out = step(state, now);
      if (out.state === state) {
        remember(scope, record, now);
        return out.result;
      }
      // biome-ignore lint/suspicious/noImplicitAnyLet: typed by control flow from its one assignment below
      let cas;
      try {
        cas = await store.compareAndSet(scope, record?.version ?? 0, out.state);
      } catch (error) {
        throw unavailable(scope, error);
      }
      if (cas.ok) {
        remember(scope, cas.record, now);
        if (out.state.epoch !== state.epoch) {
          const next = out.state;
          const by = out.by ?? (next.kind === 'closed' ? 'auto' : next.by);
          const reason = out.reason ?? (next.kind === 'closed' ? 'probes succeeded' : next.kind === 'halfOpen' ? 'cooldown over' : next.reason);
          emit(scope, state, next, now, by, reason);
        }
        return out.result;
      }
      record = cas.current;
    }
    throw unavailable(scope, new Error(`compare-and-set kept conflicting (${MAX_CAS_ATTEMPTS} attempts)`));
  };

  const view = (scope: string, state: BreakerState, now: number): BreakerView => {
    const kind = effectiveKind(state, now);
    const retryAfterMs = state.kind === 'open' && kind === 'open' ? (state.until === null ? null : state.until - now) : 0;
    return { scope, state, kind, retryAfterMs };
  };

  return {
    async admit(scope) {
      const now = clock.now();
      const entry = cache.get(scope);
      if (entry && now - entry.at < cacheMs) {
        if (entry.pass) return entry.pass;
        const state = entry.record!.state;
        if (state.kind === 'open') {
          if (state.until === null) return { ok: false, retryAfterMs: null };
          if (now < state.until) return { ok: false, retryAfterMs: state.until - now };
        }
      }
      return transact(scope, (state, at) => {
        const out = admitCall(state, at, policy(scope), randomUUID());
        return { state: out.state, result: out.admission };
      });
    },

    async record(scope, token, success) {
      const entry = cache.get(scope);
      if (success && entry?.pass && clock.now() - entry.at < cacheMs) {
        const state = entry.record?.state;
        if (!state || (state.kind === 'closed' && state.failures === 0)) return;
      }
      await transact(scope, (state, at) => ({ state: recordResult(state, token, success, at, policy(scope)), result: undefined }));
    },

    async release(scope, token) {
      if (token.probe === undefined) return;
      await transact(scope, (state) => ({ state: releaseProbe(state, token), result: undefined }));
    },

    async open(scope, { cooldownMs, halfOpenProbes, by, reason }) {
      const p = policy(scope);
      return transact(scope, (state, now) => {
        const next = forceOpen(state, now, {
          cooldownMs: cooldownMs === undefined ? p.cooldownMs : cooldownMs,
          probes: halfOpenProbes ?? p.halfOpenProbes,
          by,
          reason,
        });
        return { state: next, result: next, by, reason };
      });
    },

    async close(scope, { by, reason }) {
      return transact(scope, (state, now) => {
        if (state.kind === 'closed') return { state, result: state }; // nothing to do, nothing to report
        const next = forceClose(state, now);
        return { state: next, result: next, by, reason };
      });
    },

    async reset(scope, { by, reason }) {
      let before: BreakerRecord | undefined;
      try {
        before = await store.get(scope);
        await store.delete(scope);
      } catch (error) {
        throw unavailable(scope, error);
      }
      const now = clock.now();
      remember(scope, undefined, now);
      if (before) emit(scope, before.state, initialBreakerState(now), now, by, reason);
    },

    async get(scope) {
      let record: BreakerRecord | undefined;
      try {
        record = await store.get(scope);
      } catch (error) {
        throw unavailable(scope, error);
      }
      const now = clock.now();
      remember(scope, record, now);
      return view(scope, record?.state ?? initialBreakerState(now), now);
    },

    async list() {
      let records: BreakerRecord[];
      try {
        records = await store.list();
      } catch (error) {
        throw unavailable('*', error);
      }
      const now = clock.now();
      return records.map((r) => view(r.scope, r.state, now));
    },

    policy,
    stop: stopListening,
  };
}
