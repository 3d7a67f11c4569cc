import { agentLoop, deleteFileTool, searchTool, streamAnswer, type Stop } from './agent.ts';
import { RACE } from './demo-config.ts';
import { adminCall, agentClient, type DemoTarget, type RequestCounter } from './target.ts';

export interface ScenarioContext {
  target: DemoTarget;
  /** A run id unique to this demo. */
  runId(name: string): string;
  /** Upstream attempts a run made (in-process only: read from the guard's events). */
  upstreamAttempts?: (runId: string) => number;
}

export interface ScenarioOutcome {
  stop: Stop;
  runIds: string[];
  /** Each run's own stop, by index of `runIds` (when there are several). */
  stops?: Stop[];
  elapsedMs: number;
  /** Would an unguarded agent keep spending? (loops and long outputs do; stalls and failures do not) */
  keepsSpending: boolean;
  /** What an unguarded agent does instead, when it would not keep spending. */
  unguardedNote?: string;
  /** One line on what fmguard did. */
  detail?: string;
}

export interface Scenario {
  name: string;
  /** The code fmguard should stop it with (with the demo config). */
  expect: string;
  play(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

async function timed(fn: () => Promise<Omit<ScenarioOutcome, 'elapsedMs'>>): Promise<ScenarioOutcome> {
  const started = performance.now();
  const out = await fn();
  return { ...out, elapsedMs: performance.now() - started };
}

function loop(name: string, expect: string, model: string, prompt: string, tools = [searchTool]): Scenario {
  return {
    name,
    expect,
    play: (ctx) =>
      timed(async () => {
        const id = ctx.runId(name);
        const stop = await agentLoop(agentClient(ctx.target, id), model, prompt, tools);
        return { stop, runIds: [id], keepsSpending: true };
      }),
  };
}

const retryStorm: Scenario = {
  name: 'retry storm',
  expect: 'upstream.error',
  play: (ctx) =>
    timed(async () => {
      const id = ctx.runId('retry-storm');
      const counter: RequestCounter = { requests: 0 };
      const stop = await agentLoop(agentClient(ctx.target, id, { counter }), 'sim-small', '[sim:fail 1 503] Hello?');
      const attempts = ctx.upstreamAttempts?.(id);
      const upstream = attempts === undefined ? '' : `${attempts} upstream attempts over `;
      return {
        stop,
        runIds: [id],
        keepsSpending: false,
        detail: `fmguard retried within its retry budget: ${upstream}${counter.requests} client requests (the client's retries obey x-should-retry)`,
        unguardedNote: 'SDK × agent retries hammer the provider',
      };
    }),
};

const stalledStream: Scenario = {
  name: 'stalled stream',
  expect: 'timeout.idle',
  play: (ctx) =>
    timed(async () => {
      const id = ctx.runId('stall');
      const stop = await streamAnswer(agentClient(ctx.target, id), 'sim-small', '[sim:stall 3] Tell me a story.');
      return { stop, runIds: [id], keepsSpending: false, unguardedNote: 'agent hangs up to 10 min (SDK timeout)' };
    }),
};

const forbiddenTool: Scenario = {
  name: 'forbidden tool call',
  expect: 'policy.denied',
  play: (ctx) =>
    timed(async () => {
      const id = ctx.runId('forbidden');
      const stop = await agentLoop(agentClient(ctx.target, id), 'sim-small', '[sim:forbidden_tool demo__delete_file] Tidy up the workspace.', [
        searchTool,
        deleteFileTool,
      ]);
      return {
        stop,
        runIds: [id],
        keepsSpending: false,
        unguardedNote: 'delete_file runs',
        detail: 'the response proposing delete_file was refused before it reached the agent',
      };
    }),
};

const RACE_RUNS = 50;

const budgetRace: Scenario = {
  name: `budget race (${RACE_RUNS} runs)`,
  expect: 'budget.exhausted',
  play: (ctx) =>
    timed(async () => {
      const ids = Array.from({ length: RACE_RUNS }, (_, i) => ctx.runId(`race-${i}`));
      const key = ctx.target.raceKey ?? ctx.target.key;
      const stops = await Promise.all(
        ids.map((id) => agentLoop(agentClient(ctx.target, id, { key }), RACE.model, '[sim:refine] Write the launch announcement.')),
      );
      const byCode = new Map<string, number>();
      for (const s of stops) byCode.set(s.code ?? 'none', (byCode.get(s.code ?? 'none') ?? 0) + 1);
      const [top] = [...byCode].sort((a, b) => b[1] - a[1]);
      const mix = [...byCode].map(([code, n]) => `${code} ×${n}`).join(', ');
      const budget = await adminCall<{ budgets: Array<{ scope: string; period: string; usedUsd: number; limitUsd: number }> }>(
        ctx.target,
        'GET',
        '/admin/budgets',
      );
      const line = budget?.budgets.find((b) => b.scope === `tenant:${RACE.tenant}` && b.period === 'day');
      const spent = line ? `; tenant spend $${line.usedUsd.toFixed(4)} of its $${line.limitUsd.toFixed(2)} day budget` : '';
      const stop = stops.find((s) => s.code === top![0]) ?? stops[0]!;
      return {
        stop: { ...stop, code: top![0] === 'none' ? null : top![0] },
        runIds: ids,
        stops,
        keepsSpending: true,
        detail: `${RACE_RUNS} parallel runs stopped: ${mix}${spent}`,
      };
    }),
};

const killedRun: Scenario = {
  name: 'killed run',
  expect: 'kill.switch',
  play: (ctx) =>
    timed(async () => {
      const id = ctx.runId('killed');
      if (!ctx.target.adminToken) {
        return {
          stop: { code: null, message: 'skipped: needs --admin-token' },
          runIds: [],
          keepsSpending: false,
          detail: 'skipped: the kill goes through the admin API (--admin-token)',
        };
      }
      let kill: Promise<unknown> | undefined;
      const stop = await streamAnswer(agentClient(ctx.target, id), 'sim-large', '[sim:long 100000] Write everything you know.', (n) => {
        // An operator presses stop as soon as the stream is flowing.
        if (n === 1) kill = adminCall(ctx.target, 'POST', `/admin/runs/${encodeURIComponent(id)}/kill`, { reason: 'an operator pressed stop', by: 'demo' });
      });
      await kill;
      return { stop, runIds: [id], keepsSpending: true, detail: 'killed through POST /admin/runs/{id}/kill while streaming' };
    }),
};

/** The scenarios, in the order they are shown. */
export const SCENARIOS: readonly Scenario[] = [
  loop('tool-call loop', 'loop.repeated_tool_call', 'sim-small', '[sim:tool_loop] Where is my order #1234?'),
  loop('endless refinement', 'limit.cost', 'sim-frontier', '[sim:refine] Draft a reply to this angry customer.'),
  retryStorm,
  stalledStream,
  forbiddenTool,
  budgetRace,
  killedRun,
];
