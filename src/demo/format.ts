import type { DemoReport, DemoRow } from './run-demo.ts';

function usd(n: number): string {
  if (n === 0) return '$0';
  if (n >= 100) return `$${Math.round(n).toLocaleString('en-US')}`;
  if (n >= 1) return `$${n.toFixed(2)}`;
  return n >= 0.001 ? `$${n.toFixed(4)}` : `$${n.toPrecision(2)}`;
}

function cells(row: DemoRow): string[] {
  const unguarded = row.unguardedNote ? `${usd(row.unguardedUsd)}; ${row.unguardedNote}` : usd(row.unguardedUsd);
  return [row.scenario, unguarded, row.stopCode ?? '—', String(row.step), usd(row.costUsd), `${row.timeToStopMs} ms`];
}

const HEADER = ['scenario', 'unguarded (projected)', 'stop code', 'step', 'cost', 'time to stop'];

/** The demo's table, with each stop's message and the projection rule below it. */
export function formatReport(report: DemoReport): string {
  const rows = [HEADER, ...report.rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.min(Math.max(...rows.map((r) => r[i]!.length)), i === 1 ? 50 : 40));
  const line = (r: string[]) =>
    r
      .map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), ''];
  report.rows.forEach((row, i) => out.push(`${i + 1}. ${row.scenario}: ${row.detail}`));
  out.push('', `Projection rule: ${report.projectionRule}`, `Gateway ${report.gateway} (${report.mode}); total ${report.totalMs} ms.`);
  return out.join('\n');
}
