import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CRASH_DIR } from './crash-dir.ts';

/** Start each run with no notes left from an earlier one. */
export function setup(): void {
  rmSync(CRASH_DIR, { recursive: true, force: true });
  mkdirSync(CRASH_DIR, { recursive: true });
}

/**
 * After the run: name every test file whose process died while running it (test/setup/crash-watch.ts),
 * with the event and stack of any fatal-error report Node wrote (`--report-on-fatalerror`, vitest.config.ts).
 * Only the report's event and stacks are printed: its environment section would show secrets.
 */
export function teardown(): void {
  if (!existsSync(CRASH_DIR)) return;
  for (const name of readdirSync(CRASH_DIR)) {
    const path = join(CRASH_DIR, name);
    if (name.startsWith('running-')) {
      console.error(`[crash-watch] test process ${name.slice('running-'.length)} ended while running ${readFileSync(path, 'utf8')}`);
    } else if (name.endsWith('.json')) {
      try {
        const report = JSON.parse(readFileSync(path, 'utf8'));
        const js = report.javascriptStack ?? {};
        const native = (report.nativeStack ?? []).slice(0, 12).map((f: { symbol?: string }) => f.symbol);
        console.error(
          `[crash-watch] process ${report.header?.processId} fatal error: ${report.header?.event} (${report.header?.trigger})\n` +
            `  ${js.message ?? ''}\n  ${(js.stack ?? []).slice(0, 12).join('\n  ')}\n  native: ${native.join(' < ')}`,
        );
      } catch (error) {
        console.error(`[crash-watch] unreadable report ${name}: ${String(error)}`);
      }
    }
  }
}
