import { randomUUID } from 'node:crypto';
import type { AlarmEngine } from '../alarms/index.ts';
import { approve, deny, listApprovals, type ApprovalRequest, type ApprovalStore, type DecideResult, type ListApprovalsOptions } from '../approvals/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { BreakerChange, Breakers } from '../breakers/index.ts';
import { toolRetriers, type FmguardConfig, type ResolvedAgent } from '../config/resolve.ts';
import type { Clock } from '../core/clock.ts';
import { GuardError, guardError } from '../core/errors.ts';
import { usdToNano } from '../core/money.ts';
import { windowEnd, windowId } from '../core/periods.ts';
import { RetryBudget } from '../core/retry-budget.ts';
import { compileRetryPolicy, type RetryPolicy } from '../core/retry.ts';
import type { Metrics } from '../metrics/index.ts';
import type { PolicyEngine } from '../policy/index.ts';
import type { ModelProvider } from '../providers/provider.ts';
import type { KillInfo, LedgerStore, RunRecord, Store } from '../store/store.ts';
import { SplitLedger } from './local-ledger.ts';
import type { BudgetLine, ChainLink } from './charges.ts';
import type { Authorizer, GuardContext } from './context.ts';
import type { GuardEvent, GuardEventListener } from './events.ts';
import { failClosed } from './fail-closed.ts';
import { type KeyGrant, type Principal, resolvePrincipal } from './principal.ts';
import { Run } from './run.ts';
import { mintRunName, parseRunId, runName, scopeRunId } from './run-ids.ts';
import { RunHandle } from './run-handle.ts';

/** What the alarm engine may do to the guard it watches. */
export interface AlarmHooks {
  /** The guard's breakers (open/close actions). */
  breakers: Breakers;
  /** Kill actions go through the guard, so work in flight under the scope is aborted at once. */
  kills: { set(scope: string, info: KillInfo): Promise<void>; clear(scope: string): Promise<void> };
  emit: (event: GuardEvent) => void;
}

/**
 * Everything a guard runs on, already built (wiring/guard.ts builds it from the config). Parts that
 * report to the guard are factories given the guard's emitter.
 */
export interface GuardParts {
  config: FmguardConfig;
  store: Store;
  /** Close the store with the guard (it was opened for it). */
  ownsStore: boolean;
  clock: Clock;
  /** Providers by config name. */
  providers: Record<string, ModelProvider>;
  /** Closed with the guard (built for it). */
  ownedProviders: readonly ModelProvider[];
  approvals: ApprovalStore;
  audit?: AuditLog;
  metrics: Metrics;
  /** The Cedar engine, when the authorizer is built from it. */
  policy?: PolicyEngine;
  authorizer: (emit: (event: GuardEvent) => void) => Authorizer;
  breakers: (onChange: (change: BreakerChange) => void) => Breakers;
  /** The alarm engine for the configured alarms (undefined without any). */
  alarms: (hooks: AlarmHooks) => AlarmEngine | undefined;
  /** Subscribed before anything else (the audit bridge, the metrics recorder). */
  listeners: readonly GuardEventListener[];
  /** Start the alarm engine's timers. Default: when there is an alarm engine. */
  background?: boolean;
  /** Uniform [0,1) for retry jitter (tests pass a seeded one). */
  random?: () => number;
  /**
   * Load and check the config file again (`fmguard reload`, SIGHUP, `POST /admin/config/reload`);
   * wiring passes it when the guard was built from a file. Throws what `fmguard config check` throws.
   */
  reload?: () => LoadedConfig;
  /**
   * A fresh in-process ledger for the own account of a run started with `local: true` (wiring
   * passes the memory store's). Without it such runs are kept in the store like any other.
   */
  localLedger?: () => LedgerStore;
}

/** A config checked and ready to serve, with the policy layer built from it (wiring builds both). */
export interface LoadedConfig {
  config: FmguardConfig;
  policy?: PolicyEngine;
  authorizer: (emit: (event: GuardEvent) => void) => Authorizer;
}

/** What a reload changed: the top-level sections that differ, and those of them read only at start. */
export interface ReloadResult {
  at: number;
  changed: string[];
  /** Changed, but read only when the server starts (they apply after a restart). */
  restartOnly: string[];
}

/** Sections a running guard cannot swap: a reload that changes them is refused. */
const FIXED_SECTIONS = ['store', 'providers'] as const;
/** Sections read once when the server starts (listeners, MCP upstreams, timers, the audit log). */
const START_ONLY_SECTIONS = ['server', 'audit', 'alarms', 'breakers', 'metrics', 'retention', 'toolServers'];

function sectionsChanged(a: FmguardConfig, b: FmguardConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('keyIndex');
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  return [...keys].filter((k) => !same((a as unknown as Record<string, unknown>)[k], (b as unknown as Record<string, unknown>)[k])).sort();
}

export interface StartRunOptions {
  /** The agent, by name; or give `key` to resolve it from an API key (or `principal`, one already resolved). */
  agent?: string;
  key?: string;
  principal?: Principal;
  /** Resume this run (or create it with this id). */
  id?: string;
  /** Make this a sub-run: depth + 1, and its usage counts against the parent and every ancestor. */
  parentId?: string;
  /**
   * A run of its own for one call that nobody can name afterwards (the gateway's requests without
   * `x-fmguard-run`): kept in this process. Its own limits are counted in a local ledger, every
   * budget and ancestor on the store's; its record is written only if it is stopped (kill, loop,
   * limit). Ignored with `id`.
   */
  local?: boolean;
}

/**
 * The names `mintRunName()` makes. A run of its own is never stored when it ends normally, so one of
 * these names that the store does not know is a run that has ended (or never was): never created anew.
 */
const MINTED_RUN_NAME = /^run_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The guard runtime: where every call is decided. The SDK, the gateway and the MCP gateway all call
 * it; they translate, it decides.
 */
export class Guard {
  /** The config new requests and runs are decided under; replaced as a whole by `reload` (a request keeps the one it started with). */
  config: FmguardConfig;
  readonly store: Store;
  readonly clock: Clock;
  private readonly providers: Record<string, ModelProvider>;
  private readonly ownedProviders: readonly ModelProvider[];
  private readonly listeners = new Set<GuardEventListener>();
  private readonly handles = new Map<string, RunHandle>();
  private readonly kills = new Map<string, KillInfo>();
  private readonly reloader: (() => LoadedConfig) | undefined;
  private readonly retryBudget: RetryBudget;
  /** Tool retry policies by their config entry (a tool's own `retry`, or its server's); `[]` never retries. */
  private readonly toolPolicies = new WeakMap<object, RetryPolicy>();
  private readonly noToolRetry: RetryPolicy;
  private readonly random: (() => number) | undefined;
  private readonly unsubscribe: () => void;
  private readonly ownsStore: boolean;
  /** The kill switches already set when the guard started; read again by the next run if that read failed. */
  private ready: Promise<void>;
  /** What the call flows see; a new one per config, so a run started under a config keeps it. */
  ctx: GuardContext;
  readonly approvals: ApprovalStore;
  readonly audit: AuditLog | undefined;
  readonly breakers: Breakers;
  readonly metrics: Metrics;
  /** The Cedar policy engine built from the config (absent when an authorizer was supplied). */
  policy: PolicyEngine | undefined;
  authorizer: Authorizer;
  readonly alarms: AlarmEngine | undefined;
  private readonly background: boolean;
  private readonly localLedger: (() => LedgerStore) | undefined;
  private sweepTimer: unknown;

  constructor(parts: GuardParts) {
    this.localLedger = parts.localLedger;
    this.config = parts.config;
    this.clock = parts.clock;
    this.ownsStore = parts.ownsStore;
    this.store = parts.store;
    this.ownedProviders = parts.ownedProviders;
    this.providers = parts.providers;
    this.approvals = parts.approvals;
    this.audit = parts.audit;
    for (const listener of parts.listeners) this.listeners.add(listener);
    this.breakers = parts.breakers((change) =>
      this.emit({ type: 'breaker.changed', at: change.at, scope: change.scope, from: change.from, to: change.to, reason: `${change.by}: ${change.reason}` }),
    );
    this.metrics = parts.metrics;
    this.alarms = parts.alarms({
      breakers: this.breakers,
      kills: { set: (scope, info) => this.kill(scope, info.reason, info.by), clear: (scope) => this.unkill(scope) },
      emit: (event) => this.emit(event),
    });
    // Metrics always flush (otherwise finished periods would pile up in memory); the flush timer does
    // not keep the process alive. The alarm engine runs when there are alarms (or when asked).
    this.metrics.start();
    this.background = parts.background ?? this.alarms !== undefined;
    if (this.background) this.alarms?.start();
    this.random = parts.random;
    this.noToolRetry = compileRetryPolicy([]);
    this.reloader = parts.reload;
    this.retryBudget = new RetryBudget(this.config.defaults.retryBudget);
    this.unsubscribe = this.store.kills.subscribe((scope, info) => this.onKillChange(scope, info));
    this.ready = this.loadKills();
    this.policy = parts.policy;
    this.authorizer = parts.authorizer((event) => this.emit(event));
    this.ctx = this.context();
    this.armIdleSweep();
  }

  /** The idle sweeper (`defaults.runIdleTtlMs`): runs nobody sends to any more are ended with `run.idle`. */
  private armIdleSweep(): void {
    const { runIdleTtlMs, runIdleSweepMs } = this.config.defaults;
    if (!(runIdleTtlMs > 0)) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweepIdle()
        .catch(() => {})
        .finally(() => {
          if (this.sweepTimer !== undefined) this.armIdleSweep();
        });
    }, runIdleSweepMs);
    (this.sweepTimer as { unref?: () => void } | undefined)?.unref?.();
  }

  /**
   * End idle runs: one held here with no call in flight and none started or finished for the idle
   * TTL; and one in the store that no process holds any more (still `running` a sweep interval past
   * its deadline, when its owner would have stopped it). Returns how many were ended.
   */
  async sweepIdle(): Promise<number> {
    const ttl = this.config.defaults.runIdleTtlMs;
    if (!(ttl > 0)) return 0;
    const now = this.clock.now();
    let ended = 0;
    for (const handle of [...this.handles.values()]) {
      const idle = now - handle.lastActiveAt;
      if (handle.active > 0 || idle < ttl) continue;
      await this.stopRun(
        handle,
        guardError('run.idle', `run ${handle.id} was idle for ${idle} ms (the idle TTL is ${ttl} ms)`, { limit: ttl, runId: handle.id }),
      );
      ended++;
    }
    for (const record of await this.store.runs.list({ status: 'running', limit: 1000 })) {
      if (this.handles.has(record.id) || now < record.deadline + this.config.defaults.runIdleSweepMs) continue;
      const reason = `run ${record.id} was left running by a process that is gone (its deadline passed at ${new Date(record.deadline).toISOString()})`;
      const done = await this.store.runs.end(record.id, 'stopped', now, 'run.idle', reason);
      if (done?.stopCode !== 'run.idle' || done.endedAt !== now) continue;
      ended++;
      this.emit({ type: 'run.stopped', at: now, runId: record.id, agent: record.agent, tenant: record.tenant, code: 'run.idle', reason });
    }
    return ended;
  }

  /** What the call flows see of the guard (runtime/context.ts). */
  private context(): GuardContext {
    const guard = this;
    const policies = new Map<string, RetryPolicy>();
    for (const agent of Object.values(this.config.agents)) {
      policies.set(agent.name, compileRetryPolicy(agent.retry, { random: this.random, maxRetryAfterMs: this.config.defaults.maxRetryAfterMs }));
    }
    return {
      config: this.config,
      store: this.store,
      clock: this.clock,
      retryBudget: this.retryBudget,
      authorizer: this.authorizer,
      breakers: this.breakers,
      approvals: this.approvals,
      audit: this.audit,
      provider: (name) => {
        const provider = guard.providers[name];
        if (!provider) throw guardError('upstream.error', `provider "${name}" is not available in this build`, { provider: name });
        return provider;
      },
      retryPolicy: (agent) => policies.get(agent)!,
      toolRetryPolicy: (tool) => guard.toolRetryPolicy(tool),
      budgetsFor: (handle, now) => guard.budgetsFor(handle, now),
      killedBy: (handle) => guard.killedBy(handle),
      stopRun: (handle, error) => guard.stopRun(handle, error),
      emit: (event) => guard.emit(event),
      get listening() {
        return guard.listeners.size > 0;
      },
      newId: (prefix) => `${prefix}_${randomUUID()}`,
      startRun: async (opts) => (await guard.startRun(opts)).handle,
      endRun: (handle) => guard.endHandle(handle),
    };
  }

  /** How a tool is retried: never, unless the config gives it a `retry` and marks it `idempotent`. */
  private toolRetryPolicy(tool: string): RetryPolicy {
    const retriers = toolRetriers(this.config, tool);
    if (retriers.length === 0) return this.noToolRetry;
    let policy = this.toolPolicies.get(retriers);
    if (!policy) {
      policy = compileRetryPolicy(retriers, { random: this.random, maxRetryAfterMs: this.config.defaults.maxRetryAfterMs });
      this.toolPolicies.set(retriers, policy);
    }
    return policy;
  }

  /** The kill switch that stops this run right now, if any. */
  private killedBy(handle: RunHandle): { scope: string; reason: string } | undefined {
    if (this.kills.size === 0) return undefined;
    for (const scope of handle.killScopes) {
      const info = this.kills.get(scope);
      if (info) return { scope, reason: info.reason };
    }
    return undefined;
  }

  /** Subscribe to every decision; returns the unsubscribe function. */
  on(listener: GuardEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: GuardEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must never change a decision.
      }
    }
  }

  agentByName(name: string): ResolvedAgent | undefined {
    return Object.hasOwn(this.config.agents, name) ? this.config.agents[name] : undefined;
  }

  /**
   * Resolve an API key (one of the config, or one minted at run time and read from the store on
   * every call: runtime/principal.ts) to its agent, or throw `auth.invalid`.
   */
  principal(key: string | undefined): Promise<Principal> {
    return resolvePrincipal(this.config, this.store, key, this.clock.now());
  }

  /** Start a run, or resume one by id. Refuses with `auth.invalid` if the run belongs to another agent. */
  async startRun(options: StartRunOptions): Promise<Run> {
    try {
      return await this.openRun(options);
    } catch (error) {
      // The run's state could not be read or written: fail closed.
      throw failClosed(error, 'run state');
    }
  }

  /**
   * Read the kill switches set before this guard started. A failed read (the store away, or a reply
   * late because the constructor blocked the event loop) must not be an unhandled rejection that
   * ends the process: it is kept, and the next run reads again (fail closed until one succeeds).
   */
  private loadKills(): Promise<void> {
    const loading = this.store.kills.list().then((all) => {
      for (const [scope, info] of all) if (!this.kills.has(scope)) this.kills.set(scope, info);
    });
    loading.catch(() => {});
    return loading;
  }

  private async openRun(options: StartRunOptions): Promise<Run> {
    await this.ready.catch(() => (this.ready = this.loadKills()));
    // The config this run is decided under, captured now: a reload during the request does not change it.
    const ctx = this.ctx;
    let agent: ResolvedAgent;
    let key: KeyGrant | undefined;
    const principal = options.principal ?? (options.key !== undefined ? await this.principal(options.key) : undefined);
    if (principal) ({ agent, key } = principal);
    else {
      const found = options.agent ? this.agentByName(options.agent) : undefined;
      if (!found) throw guardError('auth.invalid', options.agent ? `unknown agent "${options.agent}"` : 'startRun needs an agent or a key');
      agent = found;
    }
    try {
      return await this.openAgentRun(ctx, options, agent, key);
    } catch (error) {
      // Every refusal of a known agent's run (a foreign run or parent, a bad id, depth) is reported and audited.
      if (GuardError.isInstance(error)) this.reportRunRefused(options, agent, key?.id, error);
      throw error;
    }
  }

  private async openAgentRun(ctx: GuardContext, options: StartRunOptions, agent: ResolvedAgent, key: KeyGrant | undefined): Promise<Run> {
    const id = this.scopedRunId(options.id, agent);
    const parentId = options.parentId === undefined ? undefined : this.scopedParentId(options.parentId, agent);
    const foreign = () => guardError('auth.invalid', `run ${id} belongs to another agent`, { runId: id });
    const cached = this.handles.get(id);
    if (cached) {
      if (cached.agent.name !== agent.name) throw foreign();
      cached.lastActiveAt = this.clock.now();
      return new Run(ctx, cached);
    }

    if (options.id === undefined && options.local && this.localLedger) {
      const record = await this.newRunRecord(id, agent, parentId);
      this.emit({ type: 'run.started', at: record.startedAt, run: record });
      return new Run(ctx, await this.attach(record, agent, key, true));
    }
    const existing = options.id !== undefined ? await this.store.runs.get(id) : undefined;
    if (!existing && options.id !== undefined && MINTED_RUN_NAME.test(runName(id))) {
      throw guardError('request.invalid', 'the run has ended', { runId: id });
    }
    let record: RunRecord;
    if (existing) {
      if (existing.agent !== agent.name) throw foreign();
      record = existing;
    } else {
      record = await this.newRunRecord(id, agent, parentId);
      const created = await this.store.runs.create(record);
      if (!created.created && created.run.agent !== agent.name) throw foreign();
      record = created.run;
      if (created.created) this.emit({ type: 'run.started', at: record.startedAt, run: record });
    }
    return new Run(ctx, await this.attach(record, agent, key));
  }

  /** The stored id of the run a client names (`runtime/run-ids.ts`): scoped to its agent; minted from the CSPRNG when absent. */
  private scopedRunId(given: string | undefined, agent: ResolvedAgent): string {
    if (given === undefined) return scopeRunId(mintRunName(), agent.name);
    const parsed = parseRunId(given);
    if (!parsed) {
      throw guardError('request.invalid', 'a run id is 1–128 characters of letters, digits, ".", "_", ":" or "-" (optionally followed by "@<its agent>")', {
        param: 'run',
      });
    }
    if (parsed.agent !== undefined && parsed.agent !== agent.name) throw guardError('auth.invalid', `run ${given} belongs to another agent`, { runId: given });
    return scopeRunId(parsed.name, agent.name);
  }

  /**
   * The stored id of a parent run: a bare name is one of the agent's own runs; `name@owner` is
   * accepted only when the owner is the agent itself or lists it in `delegatesTo` (checked before the
   * store is read, so a refusal says nothing about whether the run exists).
   */
  private scopedParentId(given: string, agent: ResolvedAgent): string {
    const parsed = parseRunId(given);
    if (!parsed) {
      throw guardError(
        'request.invalid',
        'a parent run id is 1–128 characters of letters, digits, ".", "_", ":" or "-" (optionally followed by "@<its agent>")',
        {
          param: 'parent',
        },
      );
    }
    const owner = parsed.agent ?? agent.name;
    const id = scopeRunId(parsed.name, owner);
    if (owner !== agent.name && !this.agentByName(owner)?.delegatesTo.includes(agent.name)) {
      throw guardError('auth.invalid', `parent run ${id} belongs to another agent, which does not delegate to "${agent.name}" (agents.<owner>.delegatesTo)`, {
        runId: id,
        param: 'parent',
      });
    }
    return id;
  }

  private reportRunRefused(options: StartRunOptions, agent: ResolvedAgent, keyId: string | undefined, error: GuardError): void {
    if (this.listeners.size === 0) return;
    const clip = (text: unknown) => (typeof text === 'string' ? text.slice(0, 300) : undefined);
    this.emit({
      type: 'run.refused',
      at: this.clock.now(),
      runId: clip(options.id),
      parentId: clip(options.parentId),
      agent: agent.name,
      tenant: agent.tenant,
      keyId,
      code: error.code,
      message: error.message,
    });
  }

  private async newRunRecord(id: string, agent: ResolvedAgent, parentId: string | undefined): Promise<RunRecord> {
    const now = this.clock.now();
    let deadline = now + agent.limits.maxDurationMs;
    let ancestors: string[] = [];
    let depth = 0;
    if (parentId !== undefined) {
      const parent = await this.store.runs.get(parentId);
      if (!parent) throw guardError('request.invalid', `unknown parent run "${parentId}"`, { param: 'parent' });
      if (parent.tenant !== agent.tenant) throw guardError('auth.invalid', `parent run ${parentId} belongs to another tenant`, { runId: parentId });
      if (parent.status !== 'running') throw guardError(parent.stopCode ?? 'request.invalid', `parent run ${parentId} has ended`, { runId: parentId });
      depth = parent.depth + 1;
      ancestors = [parent.id, ...parent.ancestors];
      // A sub-run never outlives its parent.
      deadline = Math.min(deadline, parent.deadline);
      const own = agent.limits.maxDepth;
      if (depth > own) throw guardError('limit.depth', `sub-run depth ${depth} exceeds the limit of ${own}`, { limit: own, used: depth, runId: parentId });
      for (const [i, ancestorId] of ancestors.entries()) {
        const ancestor = i === 0 ? parent : await this.store.runs.get(ancestorId);
        const limit = ancestor ? this.agentByName(ancestor.agent)?.limits.maxDepth : undefined;
        if (ancestor && limit !== undefined && depth - ancestor.depth > limit) {
          throw guardError('limit.depth', `sub-run depth ${depth - ancestor.depth} below run ${ancestorId} exceeds its limit of ${limit}`, {
            limit,
            used: depth - ancestor.depth,
            runId: ancestorId,
          });
        }
      }
    }
    return { id, agent: agent.name, tenant: agent.tenant, parentId, ancestors, depth, startedAt: now, deadline, status: 'running' };
  }

  private async attach(record: RunRecord, agent: ResolvedAgent, key: KeyGrant | undefined, local = false): Promise<RunHandle> {
    const chain: ChainLink[] = [{ runId: record.id, limits: agent.limits }];
    for (const ancestorId of record.ancestors) {
      const ancestor = this.handles.get(ancestorId)?.record ?? (await this.store.runs.get(ancestorId));
      const ancestorAgent = ancestor ? this.agentByName(ancestor.agent) : undefined;
      if (ancestorAgent) chain.push({ runId: ancestorId, limits: ancestorAgent.limits });
    }
    const raced = this.handles.get(record.id);
    if (raced) return raced;
    const ledger = local ? new SplitLedger(this.store, this.localLedger!(), record.id) : this.store.ledger;
    const handle = new RunHandle(record, agent, key, chain, ledger, local);
    handle.clock = this.clock;
    handle.lastActiveAt = this.clock.now();
    if (!handle.stopped) {
      this.handles.set(record.id, handle);
      handle.armDeadline(this.clock, () => {
        void this.stopRun(
          handle,
          guardError('limit.duration', `run ${record.id} reached its wall-time limit of ${agent.limits.maxDurationMs} ms`, {
            limit: agent.limits.maxDurationMs,
            runId: record.id,
          }),
        );
      });
    }
    return handle;
  }

  /** The periodic budgets a run's calls count against, for the window `now` falls in (cached per window). */
  private budgetsFor(handle: RunHandle, now: number): BudgetLine[] {
    const cached = handle.budgetCache;
    if (cached && now >= cached.from && now < cached.to) return cached.lines;
    const agent = handle.agent;
    const out: BudgetLine[] = [];
    let to = Infinity;
    const add = (scope: string, budgets: readonly ResolvedAgent['budgets'][number][] | undefined) => {
      for (const b of budgets ?? []) {
        const window = windowId(b.period, now);
        to = Math.min(to, windowEnd(b.period, now));
        out.push({
          scope,
          period: b.period,
          window,
          account: `budget:${scope}:${b.period}:${window}`,
          limitNano: usdToNano(b.maxCostUsd),
          alertAt: b.alertAt ?? [0.5, 0.8, 1],
        });
      }
    };
    add(`tenant:${handle.record.tenant}`, this.config.tenants[handle.record.tenant]?.budgets);
    // Budgets are shared accounts, not a run's own limits: a held run counts against the ones in service now.
    add(`agent:${agent.name}`, (this.agentByName(agent.name) ?? agent).budgets);
    if (handle.key) add(`key:${handle.key.id}`, handle.key.budgets);
    // Day windows start at UTC midnight; a cached set is valid until the first window ends.
    handle.budgetCache = { from: now, to, lines: out };
    return out;
  }

  private async stopRun(handle: RunHandle, error: GuardError): Promise<void> {
    if (!handle.markStopped(error)) return;
    handle.disarm(this.clock);
    this.handles.delete(handle.id);
    const now = this.clock.now();
    if (handle.local) {
      // Something must outlive the request now: the stop, for the admin API and the console.
      await this.store.runs.create({ ...handle.record, status: 'stopped', stopCode: error.code, stopReason: error.message, endedAt: now });
    } else await this.store.runs.end(handle.id, 'stopped', now, error.code, error.message);
    this.emit({
      type: 'run.stopped',
      at: now,
      runId: handle.id,
      agent: handle.agent.name,
      tenant: handle.record.tenant,
      code: error.code,
      reason: error.message,
    });
  }

  /** End a run normally; later calls on it are refused. */
  async endRun(run: Run): Promise<void> {
    await this.endHandle(run.handle);
  }

  private async endHandle(handle: RunHandle): Promise<void> {
    if (handle.stopped && !handle.interrupted) return;
    if (handle.interrupted && handle.ended) return;
    handle.ended = true;
    // One shared reason: ending a run is the common case and must not build an error each time.
    handle.markStopped(RUN_ENDED);
    handle.disarm(this.clock);
    this.handles.delete(handle.id);
    const now = this.clock.now();
    if (!handle.local) await this.store.runs.end(handle.id, 'completed', now);
    if (this.listeners.size > 0) this.emit({ type: 'run.ended', at: now, runId: handle.id, agent: handle.agent.name, tenant: handle.record.tenant });
  }

  /**
   * Turn on a kill switch: `global`, `tenant:<id>`, `agent:<id>` or `run:<id>`. Work in flight under
   * it is aborted at once, in this process and (through the store) in every process sharing it.
   */
  async kill(scope: string, reason = 'killed by an operator', by = 'operator'): Promise<void> {
    // Providers, models and tools are stopped by their breakers (`breakers.open`), not kill switches.
    if (!/^(global|(tenant|agent|run):.+)$/.test(scope)) {
      throw guardError('request.invalid', `not a kill scope: "${scope}" (expected global, tenant:<id>, agent:<id> or run:<id>)`, { param: 'scope' });
    }
    const info = { reason, by, at: this.clock.now() };
    this.onKillChange(scope, info);
    await this.store.kills.set(scope, info);
  }

  async unkill(scope: string): Promise<void> {
    this.onKillChange(scope, null);
    await this.store.kills.clear(scope);
  }

  private onKillChange(scope: string, info: KillInfo | null): void {
    const had = this.kills.get(scope);
    if (info) this.kills.set(scope, info);
    else this.kills.delete(scope);
    if (!info) {
      if (had) this.emit({ type: 'kill', at: this.clock.now(), scope, on: false });
      return;
    }
    if (had && had.at === info.at) return;
    this.emit({ type: 'kill', at: this.clock.now(), scope, on: true, reason: info.reason, by: info.by });
    for (const handle of [...this.handles.values()]) {
      if (handle.killScopes.includes(scope)) {
        void this.stopRun(handle, guardError('kill.switch', `stopped by the kill switch on ${scope}: ${info.reason}`, { scope, runId: handle.id }));
      }
    }
  }

  /** The models an agent may use (what `GET /v1/models` lists for its key). */
  modelsFor(agentName: string): string[] {
    const agent = this.agentByName(agentName);
    if (!agent) return [];
    const authorizer = this.ctx.authorizer;
    const models = Object.keys(this.config.models);
    if (!authorizer) return models;
    const context = { maxTokens: 1, stream: false, runSteps: 0, runCostNanoUsd: 0, runDepth: 0, hourUtc: new Date(this.clock.now()).getUTCHours() };
    return models.filter(
      (model) => authorizer.authorize({ agent: agent.name, tenant: agent.tenant, action: 'invokeModel', resource: model, context }).effect !== 'deny',
    );
  }

  /**
   * Load the config file again and swap it in (`fmguard reload`, SIGHUP, `POST /admin/config/reload`).
   * The file is checked as `fmguard config check` checks it; a bad file, or one that changes the store
   * or the providers, is refused with that error and the running config stays. Audited (`admin.action`).
   */
  reload(by = 'operator'): ReloadResult {
    const now = this.clock.now();
    try {
      if (!this.reloader) throw guardError('request.invalid', 'this guard was not started from a config file: there is nothing to reload');
      return this.swapConfig(this.reloader(), by);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.audit?.record({
        type: 'admin.action',
        time: now,
        action: 'config.reload',
        resource: 'config',
        details: { by, ok: false, error: message.slice(0, 2000) },
      });
      throw error;
    }
  }

  /**
   * Put a checked config in service, the config and its policy engine together: new requests and
   * runs are decided under it, a request in flight finishes under the one it started with (its run
   * holds the old context and its agent's limits); periodic budgets apply from a held run's next
   * call. The store and the providers cannot change while running.
   */
  swapConfig(next: LoadedConfig, by = 'operator'): ReloadResult {
    const at = this.clock.now();
    const changed = sectionsChanged(this.config, next.config);
    for (const section of FIXED_SECTIONS) {
      if (changed.includes(section)) {
        throw guardError(
          'request.invalid',
          `${section}: the ${section === 'store' ? 'store (its kind and location)' : 'providers'} cannot change while fmguard runs; restart it to use the new ${section}`,
          { param: section },
        );
      }
    }
    const authorizer = next.authorizer((event) => this.emit(event));
    this.config = next.config;
    this.policy = next.policy;
    this.authorizer = authorizer;
    this.ctx = this.context();
    // The budget lines cached by held runs came from the old config (Guard.budgetsFor).
    for (const handle of this.handles.values()) handle.budgetCache = undefined;
    const restartOnly = changed.filter((s) => START_ONLY_SECTIONS.includes(s));
    this.audit?.record({ type: 'admin.action', time: at, action: 'config.reload', resource: 'config', details: { by, ok: true, changed, restartOnly } });
    return { at, changed, restartOnly };
  }

  /** Approve a pending approval request; the identical call then passes once. */
  approve(id: string, by = 'operator', reason?: string): Promise<DecideResult> {
    return approve({ store: this.approvals, id, by, reason, clock: this.clock, audit: this.audit });
  }

  /** Deny a pending approval request; the identical call stays refused for the run. */
  deny(id: string, by = 'operator', reason?: string): Promise<DecideResult> {
    return deny({ store: this.approvals, id, by, reason, clock: this.clock, audit: this.audit });
  }

  listApprovals(filter: Omit<ListApprovalsOptions, 'store' | 'clock'> = {}): Promise<ApprovalRequest[]> {
    return listApprovals({ ...filter, store: this.approvals, clock: this.clock });
  }

  /**
   * Abort every call in flight in this process with `error` (a server shutting down past its grace):
   * each fails with that code, releases its reservation and is audited like any failed call. The
   * runs are not stopped in the store: another replica, or this one restarted, resumes them; a run
   * of its own still ends normally. Returns how many runs had calls in flight.
   */
  interruptCalls(error: GuardError): number {
    let interrupted = 0;
    for (const handle of [...this.handles.values()]) {
      if (handle.active === 0) continue;
      handle.interrupted = true;
      handle.markStopped(error);
      handle.disarm(this.clock);
      this.handles.delete(handle.id);
      interrupted++;
    }
    return interrupted;
  }

  /** Runs this process is currently guarding. */
  get activeRuns(): number {
    return this.handles.size;
  }

  /** Stop background work, abort calls still in flight, and release what the guard opened. */
  async close(): Promise<void> {
    this.unsubscribe();
    if (this.sweepTimer !== undefined) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    const shutdown = guardError('kill.switch', 'the guard is shutting down');
    for (const handle of this.handles.values()) if (handle.active > 0) handle.markStopped(shutdown);
    await this.alarms?.stop();
    this.breakers.stop?.();
    await this.metrics.stop().catch(() => {});
    await this.audit?.close();
    // Network providers hold connection pools; close the ones this guard built.
    for (const provider of this.ownedProviders) await (provider as { close?: () => Promise<void> }).close?.();
    for (const handle of this.handles.values()) handle.disarm(this.clock);
    this.handles.clear();
    if (this.ownsStore) await this.store.close();
  }
}

/** Why a call on an ended run is refused (shared; see endHandle). */
const RUN_ENDED = guardError('request.invalid', 'the run has ended');

export { GuardError };
