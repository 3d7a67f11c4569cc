import { AUDIT_KEY_ENV, MIN_AUDIT_KEY_LENGTH } from '../store/audit.ts';
import type { ConfigProblem } from './problems.ts';
import type { FmguardConfig } from './resolve.ts';

/**
 * The audit section's rules across keys (the schema checks each key alone): every store names where
 * audit goes, postgres has a URL and its spool, anchors and retention have a key. The key from the
 * environment is resolved into `audit.key` here, so everything after reads one place.
 */
export function checkAuditConfig(config: FmguardConfig, env: NodeJS.ProcessEnv, problems: ConfigProblem[]): void {
  const audit = config.audit;
  if (config.store.kind === 'redis' && audit.sink === undefined) {
    problems.push({
      path: 'audit.sink',
      message: 'the redis store keeps no audit log: name where audit goes ("postgres" for many replicas, "sqlite" or "jsonl" for one) or "none" to turn it off',
    });
  }
  if (audit.sink === 'postgres' && !audit.url) problems.push({ path: 'audit.url', message: 'the postgres audit sink needs a connection URL' });
  if (audit.spool && audit.sink !== 'postgres')
    problems.push({ path: 'audit.spool', message: 'only the postgres audit sink is spooled (the others are local files)' });
  if (audit.retention && audit.sink === 'jsonl')
    problems.push({ path: 'audit.retention', message: 'the jsonl audit sink cannot prune; use sqlite or postgres' });
  const key = audit.key ?? env[AUDIT_KEY_ENV];
  if (audit.anchor || audit.retention) {
    const path = audit.key !== undefined ? 'audit.key' : audit.anchor ? 'audit.anchor' : 'audit.retention';
    if (!key) problems.push({ path, message: `anchors and retention checkpoints are signed: set audit.key or the ${AUDIT_KEY_ENV} environment variable` });
    else if (key.length < MIN_AUDIT_KEY_LENGTH) problems.push({ path, message: `the audit key must be at least ${MIN_AUDIT_KEY_LENGTH} characters` });
  }
  if (key) config.audit = { ...audit, key };
}
