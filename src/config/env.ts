import type { ConfigProblem } from './problems.ts';
import { formatPath } from './problems.ts';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expand `${NAME}` and `${NAME:-default}` in every string of a parsed config tree. A reference to an
 * unset variable without a default is a problem at that path (never silently an empty key).
 */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: ConfigProblem[], path: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (whole, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => expandEnv(item, env, problems, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = expandEnv(item, env, problems, [...path, key]);
    return out;
  }
  return value;
}
