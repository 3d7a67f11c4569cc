import { builtinToolServerSpec } from '../config/builtin-tools.ts';
import { loadConfigFile } from '../config/load.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import { openPolicyEngine } from './policy.ts';

/**
 * Everything `fmguard serve` checks before it listens, beyond the schema: the Cedar policies (parsed
 * and validated against the schema, with the built-in tool servers' input schemas, by the same
 * `openPolicyEngine` that `createGuard` uses) and the audit sink's settings. Throws the first failure
 * (a `PolicyConfigError` lists every policy problem with file:line).
 */
export function checkServeConfig(config: FmguardConfig): void {
  const builtin = Object.entries(config.toolServers)
    .filter(([, server]) => server.kind === 'builtin')
    .map(([name]) => builtinToolServerSpec(name));
  openPolicyEngine(config, builtin);
  if (config.audit.sink === 'postgres' && !config.audit.url) throw new Error('audit.url: the postgres audit sink needs a connection URL');
}

/**
 * Load a config file and run every check `fmguard serve` runs before it listens. `fmguard config
 * check` and `fmguard serve` both call this, so a file one accepts the other accepts.
 */
export function loadCheckedConfig(file: string): FmguardConfig {
  const config = loadConfigFile(file);
  checkServeConfig(config);
  return config;
}
