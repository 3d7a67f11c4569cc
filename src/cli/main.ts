import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/problems.ts';
import { GuardError } from '../core/errors.ts';
import { registerConfigCommands } from './config-commands.ts';
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

/**
 * The `fmguard` command line. Each family of subcommands registers itself from its own file; errors
 * are printed as one clear message (never a stack trace) with exit code 1, or 2 for bad usage.
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof ConfigError || GuardError.isInstance(error)) {
    console.error(error.message);
    process.exitCode = 1;
  } else {
    console.error(`fmguard: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
