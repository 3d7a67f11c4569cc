import { MemoryLedger } from '../backends/memory/ledger.ts';
import { EXPIRED_RETENTION_MS } from '../backends/rules.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Breakers } from '../breakers/index.ts';
import { parseConfig } from '../config/load.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { ConfigInput } from '../config/schema.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { builtinToolServerSpec } from '../config/builtin-tools.ts';
import type { Metrics } from '../metrics/index.ts';
import type { ModelProvider } from '../providers/provider.ts';
import type { Authorizer } from '../runtime/context.ts';
import { Guard } from '../runtime/guard.ts';
import type { ApprovalStore } from '../store/approvals.ts';
import type { Store } from '../store/store.ts';
import { bridgeToAudit } from './audit-bridge.ts';
import { engineAuthorizer, openPolicyEngine } from './policy.ts';
import { buildProviders } from './providers.ts';
import { openAlarmEngine, openBreakers, openMetrics, recordMetrics } from './resilience.ts';
import { openAuditLog } from './services.ts';
import { openStore } from './store.ts';
import { loadCheckedConfig } from './check-config.ts';
import type { PolicyEngine } from '../policy/index.ts';
import type { GuardEvent } from '../runtime/events.ts';

export interface CreateGuardOptions {
  /** A resolved config, or a config object to validate (the same schema as the YAML file). */
  config: FmguardConfig | ConfigInput;
  /** Default: the store the config names (SQLite at `.fmguard/state.db` when it names none). */
  store?: Store;
  clock?: Clock;
  /** Providers by config name; default: built from the config (simulated ones in process). */
  providers?: Record<string, ModelProvider>;
  /** The policy layer; default: the Cedar engine built from the config (default deny). */
  authorizer?: Authorizer;
  /** Default: breakers for every model, provider and tool server, state in the store. */
  breakers?: Breakers;
  metrics?: Metrics;
  /** Start the alarm engine's timers. Default: when the config has alarms. */
  background?: boolean;
  /** Uniform [0,1) for retry jitter (tests pass a seeded one). */
  random?: () => number;
  /** Where approval requests live; default the store's. */
  approvals?: ApprovalStore;
  /** The audit log; default from the config (SQLite beside the state). `false` turns it off. */
  audit?: AuditLog | false;
  /**
   * The file the config was loaded from: `Guard.reload` (SIGHUP, `fmguard reload`, `POST
   * /admin/config/reload`) loads it again, checked as `fmguard config check` checks it.
   */
  configFile?: string;
  /** Called when something in the background fails (an audit append); never fails a call. */
  onError?: (error: unknown) => void;
}

function isResolved(config: FmguardConfig | ConfigInput): config is FmguardConfig {
  return (config as FmguardConfig).keyIndex instanceof Map;
}

/**
 * Create the guard runtime for a config: the one place that turns a config into a store, providers,
 * the policy engine, breakers, metrics, alarms and an audit log. Synchronous: drivers (SQLite, Redis,
 * Postgres, Cedar) load here, when the config asks for them, not when fmguard is imported.
 */
export function createGuard(options: CreateGuardOptions): Guard {
  const config = isResolved(options.config) ? options.config : parseConfig(options.config);
  const clock = options.clock ?? systemClock;
  const store = options.store ?? openStore(config);
  const built = buildProviders(config, clock, new Set(Object.keys(options.providers ?? {})));
  const audit = options.audit === false ? undefined : (options.audit ?? openAuditLog(config, store, clock, options.onError));
  const metrics = options.metrics ?? openMetrics(config, store, clock, options.onError);
  const policy = options.authorizer ? undefined : openPolicyEngine(config, builtinToolsOf(config));
  const authorizerFor = (engine: PolicyEngine | undefined) => (emit: (event: GuardEvent) => void) =>
    options.authorizer ?? engineAuthorizer(engine!, emit, () => clock.now());
  const file = options.configFile;
  return new Guard({
    localLedger: () => new MemoryLedger(EXPIRED_RETENTION_MS),
    config,
    store,
    ownsStore: !options.store,
    clock,
    providers: { ...built, ...options.providers },
    ownedProviders: Object.values(built),
    approvals: options.approvals ?? store.approvals,
    audit,
    metrics,
    policy,
    authorizer: authorizerFor(policy),
    // A reload: the same checks as `config check`, then the policy engine from the new config.
    reload: file
      ? () => {
          const next = loadCheckedConfig(file);
          const engine = options.authorizer ? undefined : openPolicyEngine(next, builtinToolsOf(next));
          return { config: next, policy: engine, authorizer: authorizerFor(engine) };
        }
      : undefined,
    breakers: (onChange) => options.breakers ?? openBreakers(config, store, clock, onChange),
    alarms: (hooks) => openAlarmEngine(config, { ...hooks, metrics, clock, store: store.alarms, onError: options.onError }),
    listeners: [...(audit ? [bridgeToAudit(config, audit)] : []), recordMetrics(config, metrics)],
    background: options.background,
    random: options.random,
  });
}

/** Built-in tool servers declare their tools' input schemas, so policies can test arguments. */
function builtinToolsOf(config: FmguardConfig) {
  return Object.entries(config.toolServers)
    .filter(([, server]) => server.kind === 'builtin')
    .map(([name]) => builtinToolServerSpec(name));
}
