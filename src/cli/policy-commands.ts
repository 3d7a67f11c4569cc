import { CONFIG_OPTION_HELP } from './open.ts';
import { JSON_HELP } from './table.ts';
import type { Command } from 'commander';

/** What the policy engine would be built from: the config's policies and the built-in tool servers' schemas. */
async function specOf(explicit: string | undefined) {
  const { loadCliConfig } = await import('./open.ts');
  const { builtinToolServerSpec } = await import('../config/builtin-tools.ts');
  const { policySpecFromConfig } = await import('../wiring/policy.ts');
  const { file, config } = await loadCliConfig(explicit);
  const builtin = Object.entries(config.toolServers)
    .filter(([, server]) => server.kind === 'builtin')
    .map(([name]) => builtinToolServerSpec(name));
  return { file, spec: policySpecFromConfig(config, builtin) };
}

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('Cedar policies: what the shorthand compiles to, and validation');
  policy
    .command('compile')
    .argument('[file]', CONFIG_OPTION_HELP)
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--agent <name>', 'only this agent')
    .option('--json', JSON_HELP)
    .description('Print the Cedar that the allow / deny / approve shorthand compiles to')
    .action(async (positional: string | undefined, options: { config?: string; agent?: string; json?: boolean }) => {
      const { compileShorthand } = await import('../policy/index.ts');
      const { emit } = await import('./table.ts');
      const { file, spec } = await specOf(positional ?? options.config);
      const agents = spec.agents.filter((a) => !options.agent || a.id === options.agent);
      if (options.agent && agents.length === 0) throw new Error(`no agent "${options.agent}" in ${file}`);
      const compiled = agents.map((agent) => ({ agent: agent.id, cedar: compileShorthand(agent).trim() }));
      emit(options.json, compiled, () =>
        compiled.map(({ agent, cedar }) => `${cedar || `// agent "${agent}": no shorthand (default deny unless a policy file permits)`}\n`).join('\n'),
      );
    });
  policy
    .command('check')
    .argument('[file]', CONFIG_OPTION_HELP)
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('--json', JSON_HELP)
    .description('Validate every policy (files and shorthand) against the schema; report file:line')
    .action(async (positional: string | undefined, options: { config?: string; json?: boolean }) => {
      const { checkPolicies, formatProblem } = await import('../policy/index.ts');
      const { emit } = await import('./table.ts');
      const problems = checkPolicies((await specOf(positional ?? options.config)).spec);
      const errors = problems.filter((p) => p.severity === 'error').length;
      emit(options.json, { ok: errors === 0, problems }, () =>
        [
          ...problems.map(formatProblem),
          errors > 0 ? `${errors} error(s)` : `policies OK${problems.length > 0 ? ` (${problems.length} warning(s))` : ''}`,
        ].join('\n'),
      );
      if (errors > 0) process.exitCode = 1;
    });
}
