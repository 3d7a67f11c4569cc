import { DEFAULT_CONFIG } from './open.ts';
import type { Command } from 'commander';

function scopeOf(scope: string): string {
  if (scope === 'global' || /^(tenant|agent|run):.+$/.test(scope)) return scope;
  throw new Error(`not a kill scope: "${scope}" (expected global, tenant:<id>, agent:<id>, run:<id>)`);
}

export function registerRunCommands(program: Command): void {
  program
    .command('kill')
    .argument('<scope>', 'global, tenant:<id>, agent:<id> or run:<id>')
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .option('-r, --reason <text>', 'why', 'killed from the command line')
    .description('Turn a kill switch on: work in flight under it is aborted in every process sharing the store')
    .action(async (scope: string, options: { config: string; reason: string }) => {
      const { withStore } = await import('./open.ts');
      await withStore(options.config, (store) => store.kills.set(scopeOf(scope), { reason: options.reason, by: 'cli', at: Date.now() }));
      console.log(`kill switch on: ${scope}`);
    });
  program
    .command('unkill')
    .argument('<scope>', 'the scope to release')
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .description('Turn a kill switch off')
    .action(async (scope: string, options: { config: string }) => {
      const { withStore } = await import('./open.ts');
      await withStore(options.config, (store) => store.kills.clear(scopeOf(scope)));
      console.log(`kill switch off: ${scope}`);
    });
  const runs = program.command('runs').description('Inspect runs');
  runs
    .command('list')
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .option('--agent <name>')
    .option('--status <status>', 'running | stopped | completed')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: { config: string; agent?: string; status?: 'running' | 'stopped' | 'completed'; limit: string }) => {
      const { withStore } = await import('./open.ts');
      const list = await withStore(options.config, (store) => store.runs.list({ agent: options.agent, status: options.status, limit: Number(options.limit) }));
      for (const run of list) {
        console.log(`${run.id}\t${run.agent}\t${run.status}${run.stopCode ? `\t${run.stopCode}` : ''}\t${new Date(run.startedAt).toISOString()}`);
      }
      if (list.length === 0) console.log('no runs');
    });
  runs
    .command('totals')
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .option('--agent <name>')
    .option('--tenant <name>')
    .description('Usage of every root run ever recorded (pruned runs included, from their period totals), as JSON')
    .action(async (options: { config: string; agent?: string; tenant?: string }) => {
      const { withStore } = await import('./open.ts');
      const { TOTAL_DIMS } = await import('../runtime/retention.ts');
      const totals = await withStore(options.config, (store) => store.runs.totals(TOTAL_DIMS, { agent: options.agent, tenant: options.tenant }));
      console.log(JSON.stringify(totals));
    });
  program
    .command('prune')
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .option('--runs-older-than <duration>', 'delete runs ended longer ago (default: retention.runs.maxAge)')
    .option('--ledger-older-than <duration>', 'roll and drop the ledger detail of runs ended longer ago (default: retention.ledger.maxAge)')
    .description('Retention of runs and ledger detail now: ended runs only, every total kept exact (audit events: `fmguard audit prune`)')
    .action(async (options: { config: string; runsOlderThan?: string; ledgerOlderThan?: string }) => {
      const { loadConfigFile } = await import('../config/load.ts');
      const { parseDuration } = await import('../config/duration.ts');
      const { openStore } = await import('../wiring/store.ts');
      const { createRunPruner } = await import('../runtime/retention.ts');
      const { systemClock } = await import('../core/clock.ts');
      const config = loadConfigFile(options.config);
      const age = (text: string | undefined, fallback: number | undefined, flag: string) => {
        const ms = text !== undefined ? parseDuration(text) : fallback;
        if (ms !== undefined && !(ms >= 0)) throw new Error(`${flag}: give a duration such as 7d`);
        return ms;
      };
      const runsMaxAgeMs = age(options.runsOlderThan, config.retention.runs?.maxAge, '--runs-older-than');
      const ledgerMaxAgeMs = age(options.ledgerOlderThan, config.retention.ledger?.maxAge, '--ledger-older-than');
      if (runsMaxAgeMs === undefined && ledgerMaxAgeMs === undefined)
        throw new Error('nothing to prune: give --runs-older-than or --ledger-older-than (or set retention.runs / retention.ledger)');
      const store = openStore(config);
      try {
        const result = await createRunPruner({ store, clock: systemClock, runsMaxAgeMs, ledgerMaxAgeMs }).pruneNow();
        console.log(
          `pruned: ${result.rolled} runs' ledger detail rolled into period totals, ${result.deleted} runs deleted, ${result.killsCleared} run kill switches cleared`,
        );
      } finally {
        await store.close();
      }
    });
}
