import type { Gateway } from '../gateway/index.ts';
import { runName } from '../runtime/run-ids.ts';
import { createGateway } from '../wiring/gateway.ts';
import type { Guard } from '../runtime/guard.ts';
import { createGuard } from '../wiring/guard.ts';
import { buildDemoConfig, RACE } from './demo-config.ts';
import { PROJECTION_RULE, projectUnguarded } from './projection.ts';
import { SCENARIOS, type Scenario, type ScenarioContext } from './scenarios.ts';
import { runUsage, type DemoTarget } from './target.ts';

export interface DemoRow {
  scenario: string;
  /** fmguard's stop code; null when the scenario was not stopped (or skipped). */
  stopCode: string | null;
  /** The code the demo config should produce. */
  expectedCode: string;
  /** Steps (model calls) counted on the run(s) when they stopped. */
  step: number;
  costUsd: number;
  timeToStopMs: number;
  /** Projected spend had nothing stopped it (see `projectionRule`). */
  unguardedUsd: number;
  unguardedNote?: string;
  /** fmguard's message, or what it did. */
  detail: string;
  runs: string[];
}

export interface DemoReport {
  gateway: string;
  mode: 'in-process' | 'external';
  rows: DemoRow[];
  projectionRule: string;
  totalMs: number;
}

export interface DemoOptions {
  /** Drive an already running gateway; default: start one in process (example config, memory store). */
  target?: DemoTarget;
  /** Only these scenarios (by name prefix). */
  only?: string[];
  /** Called after each scenario (the CLI prints progress). */
  onRow?: (row: DemoRow) => void;
}

interface Local {
  guard: Guard;
  gateway: Gateway;
  target: DemoTarget;
  attempts: Map<string, number>;
}

async function startLocal(): Promise<Local> {
  const { config, adminToken } = buildDemoConfig();
  const guard = createGuard({ config });
  const attempts = new Map<string, number>();
  // Upstream attempts per run, to show how many retries fmguard itself made.
  guard.on((event) => {
    if (event.type === 'call.failed' || event.type === 'call.allowed') {
      const n = (event as { attempts?: number }).attempts;
      if (typeof n === 'number' && event.runId) attempts.set(runName(event.runId), (attempts.get(runName(event.runId)) ?? 0) + n);
    }
  });
  const gateway = createGateway({ guard });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const key = config.agents['support-bot']?.keys[0]?.secret ?? [...config.keyIndex.keys()][0]!;
  return { guard, gateway, attempts, target: { url, key, raceKey: RACE.key, adminToken } };
}

function pick(only: string[] | undefined): readonly Scenario[] {
  if (!only?.length) return SCENARIOS;
  return SCENARIOS.filter((s) => only.some((o) => s.name.toLowerCase().startsWith(o.toLowerCase())));
}

/**
 * Drive real agent loops (the official `openai` client) through runaway scenarios against a gateway,
 * and report how fmguard stopped each one.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const started = performance.now();
  const local = options.target ? undefined : await startLocal();
  const target = options.target ?? local!.target;
  const stamp = Date.now().toString(36);
  const ctx: ScenarioContext = {
    target,
    runId: (name) => `demo-${stamp}-${name.replace(/[^A-Za-z0-9._-]+/g, '-')}`,
    ...(local && { upstreamAttempts: (id: string) => local.attempts.get(id) ?? 0 }),
  };
  const rows: DemoRow[] = [];
  try {
    for (const scenario of pick(options.only)) {
      const out = await scenario.play(ctx);
      let step = 0;
      let cost = 0;
      let outputTokens = 0;
      for (const [i, id] of out.runIds.entries()) {
        // The admin API's ledger view when there is a token, else the counters the last response carried.
        const usage = await runUsage(target, id);
        const own = out.stops?.[i] ?? out.stop;
        step += usage?.steps ?? own.steps ?? 0;
        cost += usage?.costUsd ?? own.costUsd ?? 0;
        outputTokens += usage?.outputTokens ?? 0;
      }
      const row: DemoRow = {
        scenario: scenario.name,
        stopCode: out.stop.code,
        expectedCode: scenario.expect,
        step,
        costUsd: cost,
        timeToStopMs: Math.round(out.elapsedMs),
        unguardedUsd: out.keepsSpending ? projectUnguarded(cost, outputTokens, Math.max(out.runIds.length, 1)) : cost,
        ...(out.unguardedNote && { unguardedNote: out.unguardedNote }),
        detail: out.detail ? `${out.detail}. ${out.stop.message}` : out.stop.message,
        runs: out.runIds,
      };
      rows.push(row);
      options.onRow?.(row);
    }
  } finally {
    if (local) {
      await local.gateway.close(100);
      await local.guard.close();
    }
  }
  return {
    gateway: target.url,
    mode: local ? 'in-process' : 'external',
    rows,
    projectionRule: PROJECTION_RULE,
    totalMs: Math.round(performance.now() - started),
  };
}
