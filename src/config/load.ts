import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { expandEnv } from './env.ts';
import { ConfigError, formatPath, type ConfigProblem } from './problems.ts';
import { checkAuditConfig } from './audit.ts';
import { resolveConfig, type FmguardConfig } from './resolve.ts';
import { configSchema, type ConfigInput } from './schema.ts';

function problemsFromZod(error: z.ZodError): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...issue.path, key]), message: 'unknown key' });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message.replace(/^Invalid input: /, '') });
    }
  }
  return problems;
}

export interface ParseOptions {
  env?: NodeJS.ProcessEnv;
  /** Relative file paths in the config (store, policies, audit) resolve against this folder. */
  baseDir?: string;
  /** Named in error messages. */
  source?: string;
}

/**
 * Validate and resolve a config object (the SDK's entry point). Throws `ConfigError` listing every
 * problem with its path; nothing is half-applied.
 */
export function parseConfig(input: unknown, { env = process.env, baseDir, source }: ParseOptions = {}): FmguardConfig {
  const problems: ConfigProblem[] = [];
  const expanded = expandEnv(input ?? {}, env, problems);
  const parsed = configSchema.safeParse(expanded);
  if (!parsed.success) throw new ConfigError([...problems, ...problemsFromZod(parsed.error)], source);
  const config = resolveConfig(parsed.data, problems);
  checkAuditConfig(config, env, problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
  if (baseDir) rebasePaths(config, baseDir);
  return config;
}

function rebase(baseDir: string, path: string): string {
  return isAbsolute(path) || path === ':memory:' ? path : resolvePath(baseDir, path);
}

function rebasePaths(config: FmguardConfig, baseDir: string): void {
  if (config.store.kind === 'sqlite') config.store = { ...config.store, path: rebase(baseDir, config.store.path) };
  config.globalPolicyFiles = config.globalPolicyFiles.map((p) => rebase(baseDir, p));
  for (const agent of Object.values(config.agents)) agent.policyFiles = agent.policyFiles.map((p) => rebase(baseDir, p));
  if (config.audit.path) config.audit = { ...config.audit, path: rebase(baseDir, config.audit.path) };
  if (config.audit.spool?.path) config.audit = { ...config.audit, spool: { ...config.audit.spool, path: rebase(baseDir, config.audit.spool.path) } };
  if (config.audit.anchor) config.audit = { ...config.audit, anchor: { ...config.audit.anchor, path: rebase(baseDir, config.audit.anchor.path) } };
  if (config.metrics.emf && config.metrics.emf.path !== '-')
    config.metrics = { ...config.metrics, emf: { ...config.metrics.emf, path: rebase(baseDir, config.metrics.emf.path) } };
}

/** Parse YAML or JSON text; a syntax error names the line. */
export function parseConfigText(text: string, options: ParseOptions = {}): FmguardConfig {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new ConfigError([{ path: '', message: `not valid YAML or JSON: ${message}` }], options.source);
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError([{ path: '', message: 'expected a mapping at the top level' }], options.source);
  }
  return parseConfig(raw, options);
}

/** Read a YAML or JSON config file; relative paths inside it resolve against its folder. */
export function loadConfigFile(file: string, options: Omit<ParseOptions, 'source' | 'baseDir'> = {}): FmguardConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(error)})` }], file);
  }
  return parseConfigText(text, { ...options, source: file, baseDir: dirname(resolvePath(file)) });
}

export type { ConfigInput, FmguardConfig };
