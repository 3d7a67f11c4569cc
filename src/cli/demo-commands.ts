import type { Command } from 'commander';
import type { DemoTarget } from '../demo/index.ts';

interface DemoCliOptions {
  url?: string;
  key?: string;
  raceKey?: string;
  adminToken?: string;
  only?: string;
  json?: boolean;
  yes?: boolean;
}

function target(options: DemoCliOptions): DemoTarget | undefined {
  if (options.url === undefined && options.key === undefined) return undefined;
  if (!options.url || !options.key) throw new Error('--url and --key go together (a running gateway and an agent key it knows)');
  return {
    url: options.url.replace(/\/+$/, '').replace(/\/v1$/, ''),
    key: options.key,
    raceKey: options.raceKey,
    adminToken: options.adminToken ?? process.env.FMGUARD_ADMIN_TOKEN,
  };
}

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('Runaway agents (written with the official openai client) stopped by the gateway: loops, retry storms, stalls, a budget race, a kill')
    .option('--url <url>', 'drive an already running `fmguard serve` (default: start one in process on the example config, memory store)')
    .option('--key <key>', 'agent key for --url')
    .option('--race-key <key>', 'agent key for the budget race (default: --key)')
    .option('--admin-token <token>', 'admin token for --url (default: $FMGUARD_ADMIN_TOKEN); needed for the killed run and run usage')
    .option('--only <names>', 'comma-separated scenario name prefixes')
    .option('--json', 'print the report as JSON')
    .option('--yes', 'with --url: go ahead even when the gateway serves real (paid) models')
    .action(async (options: DemoCliOptions) => {
      const { checkDemoSpend, formatReport, runDemo } = await import('../demo/index.ts');
      const json = options.json === true;
      const external = target(options);
      if (external) {
        // Against a real gateway the loops spend real money until fmguard stops them: say how much, and ask.
        const spend = await checkDemoSpend(external);
        if (!spend.simulated) {
          for (const line of spend.lines) console.error(`fmguard demo: ${line}`);
          if (!options.yes) {
            console.error('fmguard demo: these models are not simulated; the demo would spend real money. Run again with --yes to go ahead.');
            if (json) console.log(JSON.stringify({ needsConfirmation: true, projectedUsd: spend.projectedUsd ?? null, lines: spend.lines }, null, 2));
            process.exitCode = 3;
            return;
          }
        }
      }
      const report = await runDemo({
        target: external,
        only: options.only
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        onRow: json ? undefined : (row) => console.error(`  ${row.scenario}: ${row.stopCode ?? 'not stopped'} after ${row.timeToStopMs} ms`),
      });
      console.log(json ? JSON.stringify(report, null, 2) : `\n${formatReport(report)}`);
      if (report.rows.some((row) => row.stopCode === null && row.runs.length > 0)) process.exitCode = 1;
    });
}
