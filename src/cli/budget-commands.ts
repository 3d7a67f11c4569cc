import type { Command } from 'commander';
import { CONFIG_OPTION_HELP } from './open.ts';

function period(value: string): 'day' | 'month' {
  if (value !== 'day' && value !== 'month') throw new Error(`--period: expected "day" or "month", got "${value}"`);
  return value;
}

function usd(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`not an amount in USD: "${value}"`);
  return n;
}

async function run(
  file: string | undefined,
  change: { scope: string; period?: 'day' | 'month'; reset?: boolean; deltaUsd?: number; reason?: string },
  json?: boolean,
) {
  const { withStore } = await import('./open.ts');
  const { openAuditLog } = await import('../wiring/services.ts');
  const { adjustBudget } = await import('../runtime/budget-adjust.ts');
  const { systemClock } = await import('../core/clock.ts');
  const rows = await withStore(file, async (store, config) => {
    const audit = openAuditLog(config, store, systemClock);
    try {
      return await adjustBudget({ store, config, audit, now: Date.now() }, { ...change, by: 'cli' });
    } finally {
      await audit?.close();
    }
  });
  if (json) console.log(JSON.stringify({ budgets: rows }, null, 2));
  else for (const r of rows) console.log(`${r.scope} ${r.period} ${r.window}: spent $${r.beforeUsd} -> $${r.afterUsd}`);
}

export function registerBudgetCommands(program: Command): void {
  const budgets = program.command('budgets').description('Correct the spend of a periodic budget (audited)');
  budgets
    .command('reset')
    .argument('<scope>', 'tenant:<name>, agent:<name> or key:<key id>')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--period <period>', 'day | month (default: every period the scope has a budget for)', period)
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--json', 'print JSON')
    .description("Set the current window's spend of the scope's budget to 0")
    .action((scope: string, o: { config?: string; period?: 'day' | 'month'; reason?: string; json?: boolean }) =>
      run(o.config, { scope, period: o.period, reset: true, reason: o.reason }, o.json),
    );
  budgets
    .command('adjust')
    .argument('<scope>', 'tenant:<name>, agent:<name> or key:<key id>')
    .argument('<deltaUsd>', 'USD to add to the spend; negative gives it back (e.g. -- -2.5)', usd)
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--period <period>', 'day | month (default: every period the scope has a budget for)', period)
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--json', 'print JSON')
    .description("Add to (or, negative, take from) the current window's spend; never below 0")
    .action((scope: string, deltaUsd: number, o: { config?: string; period?: 'day' | 'month'; reason?: string; json?: boolean }) =>
      run(o.config, { scope, period: o.period, deltaUsd, reason: o.reason }, o.json),
    );
}
