import { CONFIG_OPTION_HELP } from './open.ts';
import { JSON_HELP } from './table.ts';
import type { Command } from 'commander';

function scopeOf(scope: string): string {
  if (scope === 'global' || /^(tenant|agent|run):.+$/.test(scope)) return scope;
  throw new Error(`not a kill scope: "${scope}" (expected global, tenant:<id>, agent:<id>, run:<id>)`);
}

interface ListOptions {
  config?: string;
  agent?: string;
  status?: 'running' | 'stopped' | 'completed';
  limit: string;
  json?: boolean;
}

export function registerRunCommands(program: Command): void {
  program
    .command('kill')
    .argument('<scope>', 'global, tenant:<id>, agent:<id> or run:<id>')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('-r, --reason <text>', 'why', 'killed from the command line')
    .option('--json', JSON_HELP)
    .description('Turn a kill switch on: work in flight under it is aborted in every process sharing the store')
    .action(async (scope: string, options: { config?: string; reason: string; json?: boolean }) => {
      const { withStore } = await import('./open.ts');
      const { emit } = await import('./table.ts');
      const info = { reason: options.reason, by: 'cli', at: Date.now() };
      await withStore(options.config, (store) => store.kills.set(scopeOf(scope), info));
      emit(options.json, { scope, on: true, ...info }, () => `kill switch on: ${scope}`);
    });
  program
    .command('unkill')
    .argument('<scope>', 'the scope to release')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', JSON_HELP)
    .description('Turn a kill switch off')
    .action(async (scope: string, options: { config?: string; json?: boolean }) => {
      const { withStore } = await import('./open.ts');
      const { emit } = await import('./table.ts');
      await withStore(options.config, (store) => store.kills.clear(scopeOf(scope)));
      emit(options.json, { scope, on: false }, () => `kill switch off: ${scope}`);
    });
  const runs = program.command('runs').description('Inspect runs');
  runs
    .command('list')
    .description('Recent runs, newest first, and how they ended')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--agent <name>')
    .option('--status <status>', 'running | stopped | completed')
    .option('--limit <n>', 'how many', '20')
    .option('--json', JSON_HELP)
    .action(async (options: ListOptions) => {
      const { withStore } = await import('./open.ts');
      const { emit, formatTable, iso } = await import('./table.ts');
      const list = await withStore(options.config, (store) => store.runs.list({ agent: options.agent, status: options.status, limit: Number(options.limit) }));
      emit(options.json, list, () =>
        formatTable(
          ['run', 'agent', 'tenant', 'status', 'stop code', 'started'],
          list.map((run) => [run.id, run.agent, run.tenant, run.status, run.stopCode, iso(run.startedAt)]),
          'no runs',
        ),
      );
    });
}
