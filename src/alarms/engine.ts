import { systemClock, type Clock } from '../core/clock.ts';
import type { DatapointSource } from '../metrics/series.ts';
import type { AlarmSnapshot, AlarmStateStore } from '../store/alarms.ts';
import type { KillInfo } from '../store/store.ts';
import { compositeState, ruleAlarms } from './composite.ts';
import { evaluateAlarm, evaluationRange, type Datapoint } from './evaluate.ts';
import { normalizeAlarm, normalizeComposite, type Action, type CompositeAlarm, type MetricAlarm } from './normalize.ts';
import type { AlarmSpec, AlarmState, CompositeSpec } from './types.ts';
import { validateAlarms } from './validate.ts';
import { postWebhook, type WebhookResult } from './webhook.ts';

/** What breaker actions need (the Breakers service fits). */
export interface BreakerActions {
  open(scope: string, options: { cooldownMs?: number | null; halfOpenProbes?: number; by: string; reason: string }): Promise<unknown>;
  close(scope: string, options: { by: string; reason: string }): Promise<unknown>;
}

/** What kill actions need (a KillStore fits). */
export interface KillActions {
  set(scope: string, info: KillInfo): Promise<void>;
  clear(scope: string): Promise<void>;
}

export type AlarmEvent =
  | { type: 'alarm.state'; alarm: string; kind: 'metric' | 'composite'; from: AlarmState; to: AlarmState; reason: string; at: number; values?: Datapoint[] }
  | {
      type: 'alarm.action';
      alarm: string;
      action: Action['type'];
      /** Breaker/kill scope, or the webhook URL. */
      target: string;
      ok: boolean;
      error?: string;
      attempts?: number;
      at: number;
    };

export interface AlarmActionHandlers {
  breakers?: BreakerActions;
  kills?: KillActions;
  /** Called for every state transition and every action's outcome (the audit log). */
  audit?: (event: AlarmEvent) => void | Promise<void>;
  /** For webhooks; default global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Webhook defaults: 5 s per attempt, 2 retries, 500 ms first retry delay. */
  webhook?: { timeoutMs?: number; retries?: number; retryDelayMs?: number };
}

export interface AlarmEngineOptions {
  alarms?: AlarmSpec[];
  composites?: CompositeSpec[];
  metrics: DatapointSource;
  clock?: Clock;
  actions?: AlarmActionHandlers;
  /** Evaluate this long after each 10 s boundary, so other replicas' datapoints have landed. Default 0. */
  graceMs?: number;
  /** Failures reading metrics or running actions (also reported to audit where they concern an action). */
  onError?: (error: unknown) => void;
  /**
   * Where each alarm's state is kept (`store.alarms`), so it survives a restart: the engine starts
   * from the stored states and writes every transition (compare-and-set on the record's version).
   * Without one, every alarm starts in INSUFFICIENT_DATA.
   */
  store?: AlarmStateStore;
}

export interface AlarmStatus {
  name: string;
  kind: 'metric' | 'composite';
  state: AlarmState;
  since: number;
  reason: string;
  lastEvaluatedAt?: number;
  lastValues?: Datapoint[];
}

export interface AlarmEngine {
  /** Evaluate on the clock: 10/20/30 s alarms every 10 s, the others every minute. */
  start(): void;
  /** Stop the timer, wait for the running evaluation, abort webhooks in flight. */
  stop(): Promise<void>;
  /** Evaluate what is due at the 10 s boundary `at` (default: the last one), then the composites. */
  tick(at?: number): Promise<void>;
  /** Evaluate every alarm at `at` whatever its cadence. */
  evaluateAll(at?: number): Promise<void>;
  /** Like CloudWatch SetAlarmState: lasts until the next evaluation; actions fire on the change. */
  setState(name: string, state: AlarmState, reason: string): Promise<void>;
  status(): AlarmStatus[];
  status(name: string): AlarmStatus | undefined;
  /** Resolves when queued evaluations and webhooks in flight have finished. */
  idle(): Promise<void>;
}

const TICK_MS = 10_000;
const MINUTE_MS = 60_000;

interface Entry {
  alarm: MetricAlarm | CompositeAlarm;
  status: AlarmStatus;
  /** What this alarm's ALARM actions opened or killed, for closeOnOk. */
  opened: Set<string>;
  killed: Set<string>;
  /** Version of the stored record (0: none yet). */
  version: number;
}

/** Throws a TypeError listing every problem, so a bad config fails at startup. */
function check(options: AlarmEngineOptions): void {
  const problems = validateAlarms({ alarms: options.alarms ?? [], composites: options.composites ?? [] }, '', options.metrics.resolutionMs);
  const all = [...(options.alarms ?? []), ...(options.composites ?? [])];
  const uses = (type: string) => all.some((a) => [a.actions, a.okActions, a.insufficientDataActions].some((list) => list?.some((x) => type in x)));
  if ((uses('openBreaker') || uses('closeBreaker')) && !options.actions?.breakers)
    problems.push({ path: 'actions.breakers', message: 'alarms open or close breakers but no breakers were given' });
  if ((uses('kill') || uses('clearKill')) && !options.actions?.kills)
    problems.push({ path: 'actions.kills', message: 'alarms kill scopes but no kill store was given' });
  if (problems.length > 0) throw new TypeError(`invalid alarms: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** Composites ordered so that each comes after the composites it refers to. */
function orderComposites(composites: CompositeAlarm[]): CompositeAlarm[] {
  const byName = new Map(composites.map((c) => [c.name, c]));
  const out: CompositeAlarm[] = [];
  const seen = new Set<string>();
  const visit = (c: CompositeAlarm) => {
    if (seen.has(c.name)) return;
    seen.add(c.name);
    for (const ref of ruleAlarms(c.rule)) {
      const dep = byName.get(ref);
      if (dep) visit(dep);
    }
    out.push(c);
  };
  composites.forEach(visit);
  return out;
}

export function createAlarmEngine(options: AlarmEngineOptions): AlarmEngine {
  check(options);
  const { metrics, clock = systemClock, actions = {}, graceMs = 0, onError = () => {}, store } = options;
  const metricAlarms = (options.alarms ?? []).map(normalizeAlarm);
  const composites = orderComposites((options.composites ?? []).map(normalizeComposite));
  const started = clock.now();
  const entries = new Map<string, Entry>();
  for (const alarm of [...metricAlarms, ...composites]) {
    entries.set(alarm.name, {
      alarm,
      status: { name: alarm.name, kind: alarm.kind, state: 'INSUFFICIENT_DATA', since: started, reason: 'Unchecked: initial alarm creation' },
      opened: new Set(),
      killed: new Set(),
      version: 0,
    });
  }
  const stateOf = (name: string) => entries.get(name)?.status.state;

  /** Start from the stored states (a restart keeps ALARM, and what closeOnOk must undo). */
  const restore = async () => {
    if (!store) return;
    for (const record of await store.list()) {
      const entry = entries.get(record.scope);
      if (!entry) continue;
      const { state, since, reason, opened, killed } = record.state;
      entry.status = { ...entry.status, state, since, reason };
      entry.opened = new Set(opened);
      entry.killed = new Set(killed);
      entry.version = record.version;
    }
  };

  /** Write what a transition's actions actually opened and killed, on the version its claim stored. */
  const persist = async (entry: Entry) => {
    if (!store) return;
    const { state, since, reason } = entry.status;
    const snapshot: AlarmSnapshot = { state, since, reason, opened: [...entry.opened], killed: [...entry.killed] };
    try {
      // Only on the version this replica claimed: a newer transition (another replica's) is never overwritten;
      // the claim already stored what the actions were planned to open and kill.
      const result = await store.compareAndSet(entry.alarm.name, entry.version, snapshot);
      if (result.ok) entry.version = result.record.version;
    } catch (error) {
      onError(error);
    }
  };

  let chain: Promise<void> = Promise.resolve();
  let timer: unknown;
  const webhooks = new Set<Promise<void>>();
  let stopper = new AbortController();

  const audit = async (event: AlarmEvent) => {
    try {
      await actions.audit?.(event);
    } catch (error) {
      onError(error);
    }
  };

  /** Post a webhook action, with retries, and audit its outcome. */
  const deliverWebhook = (
    entry: Entry,
    action: Extract<Action, { type: 'webhook' }>,
    context: { to: AlarmState; from: AlarmState; reason: string; at: number },
  ) => {
    const { name, kind, scope } = entry.alarm;
    const body = { alarm: name, kind, scope, from: context.from, to: context.to, reason: context.reason, at: new Date(context.at).toISOString() };
    return postWebhook({
      url: action.url,
      body,
      headers: action.headers,
      timeoutMs: action.timeoutMs ?? actions.webhook?.timeoutMs,
      retries: action.retries ?? actions.webhook?.retries,
      retryDelayMs: actions.webhook?.retryDelayMs,
      clock,
      fetch: actions.fetch,
      signal: stopper.signal,
    }).then((result: WebhookResult) =>
      audit({
        type: 'alarm.action',
        alarm: name,
        action: 'webhook',
        target: action.url,
        ok: result.ok,
        attempts: result.attempts,
        at: clock.now(),
        ...(result.ok ? {} : { error: result.error }),
      }),
    );
  };

  const runAction = async (entry: Entry, action: Action, context: { to: AlarmState; from: AlarmState; reason: string; at: number }) => {
    const name = entry.alarm.name;
    const by = `alarm:${name}`;
    const reason = `alarm ${name} is ${context.to}: ${context.reason}`;
    if (action.type === 'webhook') {
      // Fire and forget: evaluation never waits for a webhook.
      const delivery = deliverWebhook(entry, action, context);
      webhooks.add(delivery);
      void delivery.finally(() => webhooks.delete(delivery));
      return;
    }
    try {
      switch (action.type) {
        case 'openBreaker':
          await actions.breakers!.open(action.scope, { cooldownMs: action.cooldownMs, halfOpenProbes: action.halfOpenProbes, by, reason });
          entry.opened.add(action.scope);
          break;
        case 'closeBreaker':
          await actions.breakers!.close(action.scope, { by, reason });
          entry.opened.delete(action.scope);
          break;
        case 'kill':
          await actions.kills!.set(action.scope, { reason: action.reason ?? reason, by, at: context.at });
          entry.killed.add(action.scope);
          break;
        case 'clearKill':
          await actions.kills!.clear(action.scope);
          entry.killed.delete(action.scope);
          break;
      }
      await audit({ type: 'alarm.action', alarm: name, action: action.type, target: action.scope, ok: true, at: clock.now() });
    } catch (error) {
      onError(error);
      await audit({
        type: 'alarm.action',
        alarm: name,
        action: action.type,
        target: action.scope,
        ok: false,
        error: String((error as Error)?.message ?? error),
        at: clock.now(),
      });
    }
  };

  /**
   * Claim a transition for the whole fleet: compare-and-set the stored state from the version this
   * replica knows to `to`. Of replicas making the same transition one wins and runs its actions; the
   * others find the stored state already `to` and adopt it (no actions, no second audit). A stored
   * state that moved elsewhere is adopted and the transition claimed from there. Without a store
   * (or when it cannot be reached) the transition is this replica's own, as before.
   */
  const claim = async (entry: Entry, to: AlarmState, reason: string, at: number): Promise<boolean> => {
    if (!store) return true;
    const plan = planned(entry, to);
    try {
      for (let attempt = 0; attempt < 8; attempt++) {
        const snapshot: AlarmSnapshot = { state: to, since: at, reason, opened: [...plan.opened], killed: [...plan.killed] };
        const result = await store.compareAndSet(entry.alarm.name, entry.version, snapshot);
        if (result.ok) {
          entry.version = result.record.version;
          return true;
        }
        const current = result.current;
        if (!current) {
          entry.version = 0;
          continue;
        }
        adopt(entry, current.state, current.version);
        if (current.state.state === to) return false; // another replica made this transition
        Object.assign(plan, planned(entry, to));
      }
    } catch (error) {
      onError(error);
      return true;
    }
    return false;
  };

  /** Take the stored record as this replica's state. */
  const adopt = (entry: Entry, snapshot: AlarmSnapshot, version: number) => {
    entry.status = { ...entry.status, state: snapshot.state, since: snapshot.since, reason: snapshot.reason };
    entry.opened = new Set(snapshot.opened);
    entry.killed = new Set(snapshot.killed);
    entry.version = version;
  };

  /** What the alarm's breaker and kill scopes will be after the actions of a transition to `to`. */
  const planned = (entry: Entry, to: AlarmState) => {
    const opened = new Set(entry.opened);
    const killed = new Set(entry.killed);
    if (to === 'ALARM') {
      for (const a of entry.alarm.actions) {
        if (a.type === 'openBreaker') opened.add(a.scope);
        if (a.type === 'kill') killed.add(a.scope);
      }
    } else if (to === 'OK' && entry.alarm.closeOnOk) {
      opened.clear();
      killed.clear();
    }
    return { opened, killed };
  };

  const transition = async (entry: Entry, to: AlarmState, reason: string, at: number, values?: Datapoint[]) => {
    if (!(await claim(entry, to, reason, at))) {
      if (values) entry.status = { ...entry.status, lastValues: values };
      return;
    }
    const from = entry.status.state;
    entry.status = { ...entry.status, state: to, since: at, reason, ...(values && { lastValues: values }) };
    await audit({ type: 'alarm.state', alarm: entry.alarm.name, kind: entry.alarm.kind, from, to, reason, at, ...(values && { values }) });
    const context = { from, to, reason, at };
    let list: Action[];
    if (to === 'ALARM') list = entry.alarm.actions;
    else if (to === 'OK') {
      list = [...entry.alarm.okActions];
      if (entry.alarm.closeOnOk) {
        // Undo what this alarm's ALARM actions did, unless an OK action already does.
        for (const scope of entry.opened) if (!list.some((a) => a.type === 'closeBreaker' && a.scope === scope)) list.unshift({ type: 'closeBreaker', scope });
        for (const scope of entry.killed) if (!list.some((a) => a.type === 'clearKill' && a.scope === scope)) list.unshift({ type: 'clearKill', scope });
      }
    } else list = entry.alarm.insufficientDataActions;
    const plan = store ? planned(entry, to) : undefined;
    for (const action of list) await runAction(entry, action, context);
    // The claim stored the planned scopes; write again only when an action did not do what was planned.
    if (!plan || !sameSet(plan.opened, entry.opened) || !sameSet(plan.killed, entry.killed)) await persist(entry);
  };

  const evaluateMetric = async (entry: Entry, alarm: MetricAlarm, at: number) => {
    const end = at - (at % alarm.periodMs);
    let values: Datapoint[];
    try {
      values = await metrics.series({
        scope: alarm.scope,
        metric: alarm.metric,
        statistic: alarm.statistic,
        periodMs: alarm.periodMs,
        end,
        count: evaluationRange(alarm.evaluationPeriods),
      });
    } catch (error) {
      onError(error);
      return; // keep the state: no data read is not evidence either way
    }
    const result = evaluateAlarm(values, alarm, entry.status.state);
    entry.status = { ...entry.status, lastEvaluatedAt: at, lastValues: values };
    if (result.state !== entry.status.state) await transition(entry, result.state, result.reason, at, values);
    else entry.status = { ...entry.status, reason: result.reason };
  };

  const evaluateComposites = async (at: number) => {
    for (const alarm of composites) {
      const entry = entries.get(alarm.name)!;
      const state = compositeState(alarm.rule, stateOf);
      entry.status = { ...entry.status, lastEvaluatedAt: at };
      if (state !== entry.status.state) await transition(entry, state, `rule ${alarm.ruleText} is ${state === 'ALARM' ? 'TRUE' : 'FALSE'}`, at);
    }
  };

  const run = async (at: number, all: boolean) => {
    for (const alarm of metricAlarms) {
      const due = all || alarm.periodMs < MINUTE_MS || at % MINUTE_MS === 0;
      if (due) await evaluateMetric(entries.get(alarm.name)!, alarm, at);
    }
    await evaluateComposites(at);
  };

  const enqueue = (work: () => Promise<void>) => {
    const next = chain.then(work);
    chain = next.catch(onError);
    return next;
  };

  // Reported through onError by the chain; evaluations queue behind it.
  enqueue(restore).catch(() => {});

  const lastBoundary = () => {
    const now = clock.now() - graceMs;
    return now - (now % TICK_MS);
  };

  const schedule = (boundary: number) => {
    timer = clock.setTimeout(
      () => {
        schedule(boundary + TICK_MS);
        void enqueue(() => run(boundary, false));
      },
      boundary + graceMs - clock.now(),
    );
  };

  function status(): AlarmStatus[];
  function status(name: string): AlarmStatus | undefined;
  function status(name?: string): AlarmStatus[] | AlarmStatus | undefined {
    if (name !== undefined) {
      const s = entries.get(name)?.status;
      return s && { ...s };
    }
    return [...entries.values()].map((e) => ({ ...e.status }));
  }

  return {
    start() {
      if (stopper.signal.aborted) stopper = new AbortController();
      if (timer === undefined) schedule(lastBoundary() + TICK_MS);
    },
    async stop() {
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await chain;
      stopper.abort();
      await Promise.allSettled([...webhooks]);
    },
    tick(at = lastBoundary()) {
      return enqueue(() => run(at, false));
    },
    evaluateAll(at = clock.now()) {
      return enqueue(() => run(at, true));
    },
    setState(name, state, reason) {
      const entry = entries.get(name);
      if (!entry) return Promise.reject(new TypeError(`unknown alarm ${JSON.stringify(name)}`));
      return enqueue(async () => {
        if (entry.status.state !== state) await transition(entry, state, `set by operator: ${reason}`, clock.now());
        await evaluateComposites(clock.now());
      });
    },
    status,
    async idle() {
      await chain;
      while (webhooks.size > 0) await Promise.allSettled([...webhooks]);
    },
  };
}
