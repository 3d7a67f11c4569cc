import type { Command } from 'commander';
import { CONFIG_OPTION_HELP } from './open.ts';
import { JSON_HELP } from './table.ts';

interface ExportAwsOptions {
  config?: string;
  out: string;
  json?: boolean;
  account?: string;
  region?: string;
  partition?: string;
}

/** `fmguard export aws`: the config's safeguards as AWS resources, written to a folder. */
export function registerExportAwsCommands(program: Command): void {
  const exportCommand = program.command('export').description('Export the safeguards of a config to another platform');
  exportCommand
    .command('aws')
    .description('IAM policies, an SCP, CloudWatch alarms, Step Functions agent loops and one CloudFormation template')
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .requiredOption('--out <dir>', 'output folder (created; existing files are overwritten)')
    .option('--account <id>', 'AWS account id for ARNs (default: any account, "*")')
    .option('--region <region>', "AWS Region for ARNs (default: the Bedrock provider's)")
    .option('--partition <partition>', 'AWS partition', 'aws')
    .option('--json', JSON_HELP)
    .action(async (options: ExportAwsOptions) => {
      // Loaded here: the exporter and the config loader are big, and `fmguard --help` needs neither.
      const { chmodSync, mkdirSync, writeFileSync } = await import('node:fs');
      const { dirname, isAbsolute, join, relative, resolve, sep } = await import('node:path');
      const { exportAws } = await import('../aws/export/index.ts');
      const { loadCliConfig } = await import('./open.ts');
      if (options.account !== undefined && !/^\d{12}$/.test(options.account))
        throw new Error(`--account: expected a 12-digit AWS account id, got "${options.account}"`);
      const { file: configFile, config } = await loadCliConfig(options.config);
      const configDir = dirname(resolve(configFile));
      const out = resolve(options.out);
      const result = exportAws(config, {
        account: options.account,
        region: options.region,
        partition: options.partition,
        // Local code folders, relative to the template (as `aws cloudformation package` reads them).
        codeLocation: (code) => relative(out, isAbsolute(code) ? code : resolve(configDir, code)) || '.',
      });
      for (const [path, content] of Object.entries(result.files)) {
        const file = join(out, path);
        mkdirSync(dirname(file), { recursive: true });
        // The report names policy files: relative to where the command ran, as the user typed them.
        writeFileSync(file, path === 'REPORT.md' ? content.split(`${process.cwd()}${sep}`).join('') : content);
        if (path.endsWith('.sh')) chmodSync(file, 0o755);
      }
      const machines = Object.keys(result.stateMachines).length;
      if (options.json) {
        console.log(
          JSON.stringify(
            {
              out,
              files: Object.keys(result.files),
              stateMachines: Object.keys(result.stateMachines),
              policies: Object.keys(result.policies),
              scp: Boolean(result.scp),
              report: result.report.items,
            },
            null,
            2,
          ),
        );
        return;
      }
      console.log(
        `wrote ${Object.keys(result.files).length} files to ${out}: template.json, ${machines} state machine(s), ${Object.keys(result.policies).length} IAM policy(ies)${result.scp ? ', an SCP' : ''}`,
      );
      console.log(`${result.report.items.length} rule(s) AWS does not enforce as fmguard does: see ${join(out, 'REPORT.md')}`);
      console.log(`next: aws cloudformation package --template-file ${join(out, 'template.json')} --s3-bucket <bucket> --output-template-file packaged.json`);
      console.log('      aws cloudformation deploy --template-file packaged.json --stack-name fmguard --capabilities CAPABILITY_IAM');
    });
}
