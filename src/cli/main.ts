import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/problems.ts';
import { GuardError } from '../core/errors.ts';
import { registerConfigCommands } from './config-commands.ts';
import { ConfigNotFoundError } from './config-file.ts';
import { registerRunCommands } from './run-commands.ts';
import { registerApprovalCommands } from './approval-commands.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerPolicyCommands } from './policy-commands.ts';
import { registerBreakerCommands } from './breaker-commands.ts';
import { registerServeCommands } from './serve-commands.ts';
import { registerMcpCommands } from './mcp-commands.ts';
import { registerDemoCommands } from './demo-commands.ts';
import { registerExportAwsCommands } from './export-aws-commands.ts';
import { registerModelCommands } from './model-commands.ts';
import { registerBudgetCommands } from './budget-commands.ts';
import { registerReloadCommands } from './reload-commands.ts';
import { registerKeyCommands } from './key-commands.ts';

/**
 * The `fmguard` command line. Each family of subcommands registers itself from its own file and
 * imports what it needs inside its action, so `fmguard --help` loads commander and these files only.
 * Errors are printed as one clear message (never a stack trace). Exit codes (README "Command line"):
 * 0 done, 1 failed (an error, an invalid config, a check that found problems), 2 bad usage (and
 * `audit verify`: intact but events were dropped), 3 `demo --url` needs `--yes` (real money).
 */
const program = new Command('fmguard').description('Hard boundaries for foundation-model agents').version('0.1.0').showHelpAfterError().exitOverride();

registerConfigCommands(program);
registerRunCommands(program);
registerApprovalCommands(program);
registerAuditCommands(program);
registerPolicyCommands(program);
registerBreakerCommands(program);
registerServeCommands(program);
registerMcpCommands(program);
registerDemoCommands(program);
registerExportAwsCommands(program);
registerModelCommands(program);
registerBudgetCommands(program);
registerReloadCommands(program);
registerKeyCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ConfigError || error instanceof ConfigNotFoundError || GuardError.isInstance(error)) {
    console.error(error.message);
    process.exitCode = 1;
  } else {
    console.error(`fmguard: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
