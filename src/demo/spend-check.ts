import type { DemoTarget } from './target.ts';

/** The models the scenarios call, and how many runs each makes (src/demo/scenarios.ts). */
export const DEMO_RUNS = { single: 6, race: 50 } as const;
export const DEMO_MODELS = ['sim-small', 'sim-large', 'sim-frontier'] as const;

export interface SpendCheck {
  /** Every model the demo calls is served by a simulated provider: nothing is spent. */
  simulated: boolean;
  /** The most the demo can spend there (USD): each run's cost limit, the race capped by its budgets; undefined when unknown. */
  projectedUsd?: number;
  /** What was found, for the person deciding. */
  lines: string[];
}

interface ConfigView {
  providers: Record<string, { kind: string }>;
  models: Record<string, { provider: string; inputPerMTok?: number; outputPerMTok?: number }>;
  agents: Record<string, { tenant: string; keys: Array<{ key?: string }>; limits: { maxCostUsd?: number }; budgets?: Array<{ maxCostUsd: number }> }>;
  tenants: Record<string, { budgets?: Array<{ maxCostUsd: number }> }>;
}

const masked = (key: string) => (key.length <= 8 ? '****' : `****${key.slice(-4)}`);

async function configView(target: DemoTarget): Promise<ConfigView | undefined> {
  if (!target.adminToken) return undefined;
  try {
    const res = await fetch(`${target.url}/admin/config/info`, { headers: { authorization: `Bearer ${target.adminToken}` } });
    if (!res.ok) return undefined;
    return ((await res.json()) as { config: ConfigView }).config;
  } catch {
    return undefined;
  }
}

/**
 * Before `fmguard demo --url` drives a gateway: are its models simulated, and if not, what could the
 * demo cost? The scenarios loop until fmguard stops them, so each run can spend up to its agent's
 * `maxCostUsd` (the limit fmguard enforces), and the 50-run race up to the smallest day budget over it.
 * Without the admin token the gateway's config cannot be read: then nothing is assumed simulated.
 */
export async function checkDemoSpend(target: DemoTarget): Promise<SpendCheck> {
  const config = await configView(target);
  if (!config) {
    return {
      simulated: false,
      lines: [
        `cannot tell whether ${target.url} serves simulated models (no admin token: pass --admin-token or set FMGUARD_ADMIN_TOKEN to read its config).`,
        `the demo makes ${DEMO_RUNS.single + DEMO_RUNS.race} runs of agents that loop until fmguard stops them; each can spend up to its agent's limits.maxCostUsd.`,
      ],
    };
  }
  const real = DEMO_MODELS.filter((m) => config.models[m] && config.providers[config.models[m].provider]?.kind !== 'simulated');
  if (real.length === 0) return { simulated: true, lines: [`every model the demo calls at ${target.url} is simulated: nothing is spent`] };
  const agentOf = (key: string) => Object.values(config.agents).find((a) => a.keys.some((k) => k.key === masked(key)));
  const agent = agentOf(target.key);
  const race = agentOf(target.raceKey ?? target.key);
  const lines = real.map((m) => {
    const model = config.models[m]!;
    return `model ${m} is served by provider ${model.provider} (${config.providers[model.provider]?.kind}): $${model.inputPerMTok ?? '?'} / $${model.outputPerMTok ?? '?'} per million input / output tokens`;
  });
  const perRun = agent?.limits.maxCostUsd;
  const racePerRun = race?.limits.maxCostUsd;
  if (perRun === undefined || racePerRun === undefined)
    return { simulated: false, lines: [...lines, 'the agent behind --key is not in the config view: the cost cannot be projected'] };
  const budgets = [...(race?.budgets ?? []), ...(config.tenants[race!.tenant]?.budgets ?? [])].map((b) => b.maxCostUsd);
  const raceCeiling = Math.min(DEMO_RUNS.race * racePerRun, ...budgets);
  const projectedUsd = DEMO_RUNS.single * perRun + raceCeiling;
  lines.push(
    `projected cost, at most: $${projectedUsd.toFixed(2)} = ${DEMO_RUNS.single} runs × $${perRun} (the agent's maxCostUsd) + the ${DEMO_RUNS.race}-run race: $${raceCeiling.toFixed(2)} (${DEMO_RUNS.race} × $${racePerRun}${budgets.length ? `, capped by a $${Math.min(...budgets)} budget` : ''})`,
  );
  return { simulated: false, projectedUsd, lines };
}
