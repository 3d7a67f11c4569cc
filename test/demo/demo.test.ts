import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatReport, runDemo, type DemoReport } from '../../src/demo/index.ts';
import { buildDemoConfig } from '../../src/demo/demo-config.ts';
import { BIN } from '../cli/helpers.ts';

describe('fmguard demo', () => {
  let report: DemoReport;

  it('stops every scenario with its code, well under a minute', async () => {
    report = await runDemo();
    const codes = Object.fromEntries(report.rows.map((row) => [row.scenario, row.stopCode]));
    expect(codes).toEqual({
      'tool-call loop': 'loop.repeated_tool_call',
      'endless refinement': 'limit.cost',
      'retry storm': 'upstream.error',
      'stalled stream': 'timeout.idle',
      'forbidden tool call': 'policy.denied',
      'budget race (50 runs)': 'budget.exhausted',
      'killed run': 'kill.switch',
    });
    for (const row of report.rows) expect(row.stopCode).toBe(row.expectedCode);
    expect(report.totalMs).toBeLessThan(30_000);
  }, 60_000);

  it('keeps the race within the tenant budget and projects what unguarded agents would cost', () => {
    const race = report.rows.find((r) => r.scenario.startsWith('budget race'))!;
    expect(race.runs).toHaveLength(50);
    expect(race.costUsd).toBeGreaterThan(0);
    expect(race.costUsd).toBeLessThanOrEqual(0.5);
    expect(race.detail).toContain('budget.exhausted ×50');
    expect(race.unguardedUsd).toBeGreaterThan(race.costUsd);
    const storm = report.rows.find((r) => r.scenario === 'retry storm')!;
    // fmguard's own retries are bounded by the retry policy and budget; the client made at most 1 + 2 requests.
    expect(storm.detail).toMatch(/(\d+) upstream attempts over ([1-3]) client requests/);
    expect(Number(/(\d+) upstream attempts/.exec(storm.detail)![1])).toBeLessThanOrEqual(9);
    const killed = report.rows.find((r) => r.scenario === 'killed run')!;
    expect(killed.timeToStopMs).toBeLessThan(5_000);
    for (const row of report.rows) {
      expect(row.step).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.unguardedUsd)).toBe(true);
    }
  });

  it("the CLI's --json prints the report as JSON; the table states the projection rule", () => {
    const out = execFileSync(process.execPath, [BIN, 'demo', '--json'], { encoding: 'utf8', timeout: 90_000, maxBuffer: 16 << 20 });
    const parsed = JSON.parse(out) as DemoReport;
    expect(parsed.rows.map((r) => r.scenario)).toEqual(report.rows.map((r) => r.scenario));
    expect(parsed.rows.map((r) => r.stopCode)).toEqual(report.rows.map((r) => r.stopCode));
    for (const row of parsed.rows) expect(row.stopCode).toBe(row.expectedCode);
    expect(parsed.projectionRule).toMatch(/unguarded/);
    const table = formatReport(report);
    expect(table).toContain('stop code');
    expect(table).toContain('Projection rule:');
  }, 120_000);

  it('the demo config is the example with a memory store, an admin token and the race tenant', () => {
    const { config, adminToken } = buildDemoConfig();
    expect(config.store.kind).toBe('memory');
    expect(config.server.adminToken).toBe(adminToken);
    expect(config.tenants['demo-race']?.budgets).toEqual([{ period: 'day', maxCostUsd: 0.5 }]);
    expect(config.agents['support-bot']).toBeDefined();
  });
});
