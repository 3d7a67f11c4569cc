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
}
