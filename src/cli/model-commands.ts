import type { Command } from 'commander';
import { CONFIG_OPTION_HELP } from './open.ts';

export function registerModelCommands(program: Command): void {
  program
    .command('models')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', 'print JSON')
    .description('List the configured models with their price (USD per million tokens) and where it came from: config, catalogue or both')
    .action(async (options: { config?: string; json?: boolean }) => {
      const { loadCliConfig } = await import('./open.ts');
      const { config } = await loadCliConfig(options.config);
      const rows = Object.values(config.models).map((m) => ({
        model: m.name,
        provider: m.provider,
        inputPerMTok: m.inputPerMTok,
        outputPerMTok: m.outputPerMTok,
        cachedInputPerMTok: m.cachedInputPerMTok ?? m.inputPerMTok,
        source: m.priceSource,
      }));
      if (options.json) {
        console.log(JSON.stringify({ models: rows }, null, 2));
        return;
      }
      const table = [
        ['MODEL', 'PROVIDER', 'INPUT $/MTok', 'OUTPUT $/MTok', 'CACHED $/MTok', 'PRICE SOURCE'],
        ...rows.map((r) => [r.model, r.provider, String(r.inputPerMTok), String(r.outputPerMTok), String(r.cachedInputPerMTok), r.source]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table)
        console.log(
          row
            .map((cell, i) => cell.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
        );
    });
}
