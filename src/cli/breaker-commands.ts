import { CONFIG_OPTION_HELP } from './open.ts';
import { JSON_HELP } from './table.ts';
import type { Command } from 'commander';

const SCOPE = /^(model|provider|server|tool):.+$/;

function checkScope(scope: string): string {
  if (!SCOPE.test(scope)) throw new Error(`not a breaker scope: "${scope}" (expected model:<id>, provider:<id>, server:<id> or tool:<id>)`);
  return scope;
}

export function registerBreakerCommands(program: Command): void {
  const breakers = program.command('breakers').description('Circuit breakers on models, providers and tool servers');
  breakers
    .command('list')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', JSON_HELP)
    .action(async (options: { config?: string; json?: boolean }) => {
      const { openBreakers } = await import('../wiring/resilience.ts');
      const { systemClock } = await import('../core/clock.ts');
      const { withStore } = await import('./open.ts');
      await withStore(options.config, async (store, config) => {
        const views = await openBreakers(config, store, systemClock, () => {}).list();
        const { emit, formatTable } = await import('./table.ts');
        emit(options.json, views, () =>
          formatTable(
            ['scope', 'state', 'reopens'],
            views.map((view) => [
              view.scope,
              view.kind,
              view.retryAfterMs === null ? 'held open' : view.kind === 'open' ? `in ${Math.ceil(view.retryAfterMs / 1000)} s` : '',
            ]),
            'no breaker has tripped',
          ),
        );
      });
    });
  for (const verb of ['open', 'close', 'reset'] as const) {
    breakers
      .command(verb)
      .argument('<scope>', 'model:<id>, provider:<id>, server:<id> or tool:<id>')
      .option('-c, --config <file>', CONFIG_OPTION_HELP)
      .option('--json', JSON_HELP)
      .option('--cooldown <seconds>', 'open: how long (default: until closed)')
      .option('--reason <text>', 'why', `${verb} from the command line`)
      .action(async (scope: string, options: { config?: string; cooldown?: string; reason: string; json?: boolean }) => {
        const { openBreakers } = await import('../wiring/resilience.ts');
        const { systemClock } = await import('../core/clock.ts');
        const { withStore } = await import('./open.ts');
        await withStore(options.config, async (store, config) => {
          const service = openBreakers(config, store, systemClock, () => {});
          const by = `operator:${process.env.USER ?? 'cli'}`;
          if (verb === 'open') {
            const cooldownMs = options.cooldown === undefined ? null : Number(options.cooldown) * 1000;
            if (cooldownMs !== null && !(cooldownMs > 0)) throw new Error('--cooldown: expected a number of seconds > 0');
            await service.open(checkScope(scope), { cooldownMs, by, reason: options.reason });
          } else if (verb === 'close') await service.close(checkScope(scope), { by, reason: options.reason });
          else await service.reset(checkScope(scope), { by, reason: options.reason });
          const { emit } = await import('./table.ts');
          const done = verb === 'reset' ? 'reset' : verb === 'open' ? 'opened' : 'closed';
          emit(options.json, { scope, action: done, by, reason: options.reason }, () => `breaker ${scope}: ${done}`);
        });
      });
  }
}
