import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Validate and inspect configuration');
  config
    .command('check')
    .argument('<file>', 'a YAML or JSON config file')
    .option('--json', 'print JSON instead of YAML')
    .description('Print the resolved config (defaults filled in, secrets masked), or every error with its path')
    .action(async (file: string, options: { json?: boolean }) => {
      const { loadConfigFile } = await import('../config/load.ts');
      const { describeConfig } = await import('../config/mask.ts');
      const { default: YAML } = await import('yaml');
      const resolved = describeConfig(loadConfigFile(file));
      console.log(options.json ? JSON.stringify(resolved, null, 2) : YAML.stringify(resolved));
    });
}
