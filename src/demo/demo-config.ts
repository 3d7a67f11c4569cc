import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseConfig } from '../config/load.ts';
import type { FmguardConfig } from '../config/resolve.ts';

export const EXAMPLE_CONFIG_FILE = fileURLToPath(new URL('../../fmguard.example.yaml', import.meta.url));

/** The race's tenant: a small day budget that 50 parallel runs of a pricey model fight over. */
export const RACE = { tenant: 'demo-race', agent: 'race-bot', key: 'sk-fmguard-race-0001', budgetUsd: 0.5, model: 'sim-frontier' } as const;

export interface DemoConfig {
  config: FmguardConfig;
  adminToken: string;
}

/**
 * The shipped example, changed only where a demo must differ: a memory store (repeated demos start
 * clean), an admin token for this process, and a tenant with a small day budget for the race.
 */
export function buildDemoConfig(file = EXAMPLE_CONFIG_FILE): DemoConfig {
  // biome-ignore lint/suspicious/noExplicitAny: the demo edits a YAML document of any shape before it is validated
  const raw = YAML.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  const adminToken = `adm-demo-${randomBytes(12).toString('hex')}`;
  raw.store = { kind: 'memory' };
  raw.audit = { sink: 'memory' };
  raw.server = { ...raw.server, adminToken };
  raw.tenants = { ...raw.tenants, [RACE.tenant]: { budgets: [{ period: 'day', maxCostUsd: RACE.budgetUsd }] } };
  raw.agents = {
    ...raw.agents,
    [RACE.agent]: {
      tenant: RACE.tenant,
      keys: [RACE.key],
      // The race is about the shared budget: each run's own limits are set well above its share.
      limits: { maxSteps: 200, maxCostUsd: 5, maxIdenticalOutputs: 1000, maxOutputTokensPerCall: 1024 },
      allow: { models: [RACE.model] },
    },
  };
  return { config: parseConfig(raw, { baseDir: dirname(file), source: `${file} (demo)` }), adminToken };
}
