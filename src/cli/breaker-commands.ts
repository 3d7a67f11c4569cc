import { DEFAULT_CONFIG } from './open.ts';
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
    .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
    .action(async (options: { config: string }) => {
      const { openBreakers } = await import('../wiring/resilience.ts');
      const { systemClock } = await import('../core/clock.ts');
      const { withStore } = await import('./open.ts');
      await withStore(options.config, async (store, config) => {
        const views = await openBreakers(config, store, systemClock, () => {}).list();
        if (views.length === 0) return console.log('no breaker has tripped');
        for (const view of views) {
          const wait = view.retryAfterMs === null ? 'held open' : view.kind === 'open' ? `${Math.ceil(view.retryAfterMs / 1000)} s left` : '';
          console.log(`${view.scope}\t${view.kind}\t${wait}`);
        }
      });
    });
  for (const verb of ['open', 'close', 'reset'] as const) {
    breakers
      .command(verb)
      .argument('<scope>', 'model:<id>, provider:<id>, server:<id> or tool:<id>')
      .option('-c, --config <file>', 'config file naming the store', DEFAULT_CONFIG)
      .option('--cooldown <seconds>', 'open: how long (default: until closed)')
      .option('--reason <text>', 'why', `${verb} from the command line`)
      .action(async (scope: string, options: { config: string; cooldown?: string; reason: string }) => {
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
          console.log(`breaker ${scope}: ${verb === 'reset' ? 'reset' : verb === 'open' ? 'opened' : 'closed'}`);
        });
      });
  }
}
