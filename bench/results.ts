import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** The machine a figure was measured on, as RESULTS.md records it. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length} cores, Node ${process.version}, ${process.platform}`;
}

/**
 * Replace (or add) one `## heading` section of bench/RESULTS.md, so each benchmark owns its section
 * and reruns update it in place.
 */
export function writeSection(heading: string, body: string): void {
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmark results\n\nEach section is written by its benchmark (`npm run bench:*`); rerun one to update it.\n';
  const section = `## ${heading}\n\n_Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}._\n\n${body.trim()}\n`;
  const start = text.indexOf(`## ${heading}\n`);
  let next: string;
  if (start < 0) next = `${text.trimEnd()}\n\n${section}`;
  else {
    const end = text.indexOf('\n## ', start + 1);
    next = text.slice(0, start) + section + (end < 0 ? '' : text.slice(end));
  }
  writeFileSync(FILE, next.endsWith('\n') ? next : `${next}\n`);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
