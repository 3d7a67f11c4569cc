import { CONFIG_OPTION_HELP } from './open.ts';
import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Validate and inspect configuration');
  config
    .command('check')
    .argument('[file]', `a YAML or JSON config file (${CONFIG_OPTION_HELP})`)
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', 'print JSON instead of YAML')
    .description(
      'Run every check `fmguard serve` runs before it listens (the schema, references, Cedar parsing and validation); print the resolved config (defaults filled in, secrets masked), or every error with its path. Exit 0 valid, 1 invalid',
    )
    .action(async (positional: string | undefined, options: { config?: string; json?: boolean }) => {
      const { findConfigFile } = await import('./config-file.ts');
      const { loadCheckedConfig } = await import('../wiring/check-config.ts');
      const { describeConfig } = await import('../config/mask.ts');
      const { default: YAML } = await import('yaml');
      const resolved = describeConfig(loadCheckedConfig(findConfigFile(positional ?? options.config)));
      console.log(options.json ? JSON.stringify(resolved, null, 2) : YAML.stringify(resolved));
    });
}
