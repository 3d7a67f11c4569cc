import { DEFAULT_CONFIG } from './open.ts';
import type { Command } from 'commander';

/** What the policy engine would be built from: the config's policies and the built-in tool servers' schemas. */
async function specOf(file: string) {
  const { loadConfigFile } = await import('../config/load.ts');
  const { builtinToolServerSpec } = await import('../config/builtin-tools.ts');
  const { policySpecFromConfig } = await import('../wiring/policy.ts');
  const config = loadConfigFile(file);
  const builtin = Object.entries(config.toolServers)
    .filter(([, server]) => server.kind === 'builtin')
    .map(([name]) => builtinToolServerSpec(name));
  return policySpecFromConfig(config, builtin);
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('Cedar policies: what the shorthand compiles to, and validation');
  policy
    .command('compile')
    .argument('[file]', 'config file', DEFAULT_CONFIG)
    .option('--agent <name>', 'only this agent')
    .description('Print the Cedar that the allow / deny / approve shorthand compiles to')
    .action(async (file: string, options: { agent?: string }) => {
      const { compileShorthand } = await import('../policy/index.ts');
      const spec = await specOf(file);
      const agents = spec.agents.filter((a) => !options.agent || a.id === options.agent);
      if (options.agent && agents.length === 0) throw new Error(`no agent "${options.agent}" in ${file}`);
      for (const agent of agents)
        console.log(`${compileShorthand(agent).trim() || `// agent "${agent.id}": no shorthand (default deny unless a policy file permits)`}\n`);
    });
  policy
    .command('check')
    .argument('[file]', 'config file', DEFAULT_CONFIG)
    .description('Validate every policy (files and shorthand) against the schema; report file:line')
    .action(async (file: string) => {
      const { checkPolicies, formatProblem } = await import('../policy/index.ts');
      const problems = checkPolicies(await specOf(file));
      for (const problem of problems) console.log(formatProblem(problem));
      const errors = problems.filter((p) => p.severity === 'error').length;
      console.log(errors > 0 ? `${errors} error(s)` : `policies OK${problems.length > 0 ? ` (${problems.length} warning(s))` : ''}`);
      if (errors > 0) process.exitCode = 1;
    });
}
