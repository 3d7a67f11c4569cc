import { createAlarmEngine, splitAlarmConfig, type AlarmEngine, type AlarmEvent } from '../alarms/index.ts';
import { createBreakers, type BreakerChange, type Breakers } from '../breakers/index.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { Clock } from '../core/clock.ts';
import { countsAgainstUpstream } from '../core/fault.ts';
import { createMetrics, type CallEvent, type Metrics } from '../metrics/index.ts';
import type { GuardEvent, GuardEventListener } from '../runtime/events.ts';
import type { AlarmHooks } from '../runtime/guard.ts';
import type { AlarmStateStore } from '../store/alarms.ts';
import type { Store } from '../store/store.ts';
import { createEmfWriter, withEmf } from '../metrics/emf/index.ts';

/** Breakers for every model, provider and tool server, their state beside the rest. */
export function openBreakers(config: FmguardConfig, store: Store, clock: Clock, onChange: (change: BreakerChange) => void): Breakers {
  return createBreakers({
    store: store.breakers,
    clock,
    defaults: config.breakers.defaults,
    overrides: config.breakers.overrides,
    onChange,
  });
}

/** Per-scope metrics, with datapoints in the store (so replicas aggregate) and a Prometheus view. */
export function openMetrics(config: FmguardConfig, store: Store, clock: Clock, onError?: (error: unknown) => void): Metrics {
  const metrics = createMetrics({
    clock,
    store: store.metrics,
    resolutionMs: config.metrics.resolutionMs,
    retentionMs: config.metrics.retentionMs,
    onError,
  });
  // CloudWatch Embedded Metric Format lines beside the store, when configured.
  const emf = config.metrics.emf;
  return emf ? withEmf(metrics, createEmfWriter({ path: emf.path, namespace: emf.namespace, clock, onError })) : metrics;
}

export interface AlarmWiring extends AlarmHooks {
  metrics: Metrics;
  clock: Clock;
  /** Where alarm states persist across restarts. */
  store?: AlarmStateStore;
  onError?: (error: unknown) => void;
}

/** The alarm engine for the configured alarms, or undefined when there are none. */
export function openAlarmEngine(config: FmguardConfig, wiring: AlarmWiring): AlarmEngine | undefined {
  if (config.alarms.length === 0) return undefined;
  const { alarms, composites } = splitAlarmConfig(config.alarms);
  return createAlarmEngine({
    alarms,
    composites,
    metrics: wiring.metrics,
    clock: wiring.clock,
    store: wiring.store,
    onError: wiring.onError,
    actions: {
      breakers: wiring.breakers,
      kills: wiring.kills,
      audit: (event: AlarmEvent) => {
        if (event.type === 'alarm.state')
          wiring.emit({ type: 'alarm.changed', at: event.at, alarm: event.alarm, from: event.from, to: event.to, reason: event.reason });
      },
    },
  });
}

/** The metrics view of a guard event (one call, or one refusal). */
export function toCallEvent(config: FmguardConfig, event: GuardEvent): CallEvent | undefined {
  if (event.type !== 'call.allowed' && event.type !== 'call.refused' && event.type !== 'call.failed') return undefined;
  const base: CallEvent = { tenant: event.tenant, agent: event.agent, outcome: 'success' };
  if (event.action === 'invokeModel') {
    const name = event.type === 'call.allowed' ? (event.servedBy ?? event.resource) : event.resource;
    const model = Object.hasOwn(config.models, name) ? config.models[name] : undefined;
    if (model) {
      base.model = model.name;
      base.provider = model.provider;
    }
  } else {
    base.tool = event.resource;
    const dot = event.resource.indexOf('.');
    if (dot > 0) base.server = event.resource.slice(0, dot);
  }
  switch (event.type) {
    case 'call.allowed':
      return {
        ...base,
        outcome: 'success',
        latencyMs: event.latencyMs,
        inputTokens: event.usage.inputTokens,
        outputTokens: event.usage.outputTokens,
        costUsd: event.costUsd,
      };
    case 'call.failed':
      // Only the upstream's own failures are errors (core/fault.ts); the rest count as refusals by code.
      if (!countsAgainstUpstream(event)) return { ...base, outcome: 'refused', code: event.code };
      return {
        ...base,
        outcome: event.code.startsWith('timeout.') ? 'timeout' : 'error',
        code: event.code,
        latencyMs: event.latencyMs,
        inputTokens: event.usage?.inputTokens,
        outputTokens: event.usage?.outputTokens,
        costUsd: event.costUsd,
      };
    case 'call.refused':
      return { ...base, outcome: 'refused', code: event.code };
  }
}

/** Record every call, refusal and failure in the metrics (the guard subscribes this). */
export function recordMetrics(config: FmguardConfig, metrics: Metrics): GuardEventListener {
  return (event) => {
    const call = toCallEvent(config, event);
    if (call) metrics.record(call);
  };
}
