import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable naming the config file when `--config` is not given. */
export const CONFIG_ENV = 'FMGUARD_CONFIG';
/** The file looked for in the working directory when neither `--config` nor the variable is set. */
export const DEFAULT_CONFIG = 'fmguard.yaml';
export const EXAMPLE_CONFIG = 'fmguard.example.yaml';

/** No config file could be found: the message says what was looked for and how to start. */
export class ConfigNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigNotFoundError';
  }
}

/** The example in the working directory, else the one shipped with the package (next to package.json). */
function shippedExample(cwd: string): string | undefined {
  if (existsSync(join(cwd, EXAMPLE_CONFIG))) return EXAMPLE_CONFIG;
  const own = fileURLToPath(new URL(`../../${EXAMPLE_CONFIG}`, import.meta.url));
  return existsSync(own) ? own : undefined;
}

/**
 * Which config file a command uses: `--config FILE`, else `$FMGUARD_CONFIG`, else `./fmguard.yaml`.
 * None of them: a `ConfigNotFoundError` naming the three places looked at, how to start, and the example.
 */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (explicit) return explicit;
  const fromEnv = env[CONFIG_ENV];
  if (fromEnv) return fromEnv;
  if (existsSync(resolve(cwd, DEFAULT_CONFIG))) return DEFAULT_CONFIG;
  const example = shippedExample(cwd);
  throw new ConfigNotFoundError(
    [
      'fmguard: no config file. Looked for, in order:',
      '  1. --config FILE     not given',
      `  2. $${CONFIG_ENV}   not set`,
      `  3. ./${DEFAULT_CONFIG}    not found in ${cwd}`,
      'To start:',
      example
        ? `  cp ${example} ${DEFAULT_CONFIG}     (the shipped example: simulated models, SQLite store, demo keys), or pass --config ${example}`
        : `  write ${DEFAULT_CONFIG} (the README's "Configuration" section lists every key), or pass --config FILE`,
    ].join('\n'),
  );
}

/** The `-c, --config` option's help text, the same on every command. */
export const CONFIG_OPTION_HELP = `config file (default: $${CONFIG_ENV}, else ./${DEFAULT_CONFIG})`;
