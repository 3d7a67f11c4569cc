import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../core/clock.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import { createMemoryApprovalStore, createSqliteApprovalStore, type ApprovalStore } from '../approvals/index.ts';
import { createAuditLog, createJsonlAuditSink, createMemoryAuditSink, createSqliteAuditSink, type AuditLog, type AuditSink } from '../audit/index.ts';
import type { Store } from '../store/store.ts';
import { hostname } from 'node:os';
import { createPostgresAuditSink } from '../backends/postgres/audit.ts';
import { createRedisApprovalStore, type RedisStore } from '../backends/redis/index.ts';

/** The SQLite handle of a SQLite store, so approvals, breakers, metrics and the audit log share its file. */
export function sqliteHandle(store: Store): import('better-sqlite3').Database | undefined {
  return store.kind === 'sqlite' ? (store as Store & { db?: import('better-sqlite3').Database }).db : undefined;
}

/** Approvals live beside the state: in the SQLite file, or in memory with the memory store. */
export function openApprovalStore(store: Store): ApprovalStore {
  if (store.kind === 'redis') return createRedisApprovalStore(store as RedisStore);
  const db = sqliteHandle(store);
  return db ? createSqliteApprovalStore({ db }) : createMemoryApprovalStore();
}

/**
 * The audit sink the config names; by default SQLite beside the state. With the memory store (tests,
 * throwaway runs) the default is none: an in-memory log would only grow.
 */
export function openAuditSink(config: FmguardConfig, store: Store): AuditSink | undefined {
  const sink = config.audit.sink ?? (store.kind === 'sqlite' ? 'sqlite' : 'none');
  switch (sink) {
    case 'none':
      return undefined;
    case 'jsonl': {
      const path = config.audit.path ?? '.fmguard/audit.jsonl';
      mkdirSync(dirname(path), { recursive: true });
      return createJsonlAuditSink({ path });
    }
    case 'sqlite': {
      const db = config.audit.path ? undefined : sqliteHandle(store);
      if (db) return createSqliteAuditSink({ db });
      return createSqliteAuditSink({ path: config.audit.path ?? '.fmguard/audit.db' });
    }
    case 'memory':
      return createMemoryAuditSink();
    case 'postgres': {
      if (!config.audit.url) throw new Error('audit.url: the postgres audit sink needs a connection URL');
      // Each replica keeps its own hash chain in the shared table.
      return createPostgresAuditSink({ connectionString: config.audit.url, replica: config.audit.replica ?? process.env.FMGUARD_REPLICA ?? `${hostname()}-${process.pid}` });
    }
    default:
      throw new Error(`audit sink "${sink}" is not available in this build`);
  }
}

/** Every configured secret, so the audit log can mask them wherever they appear. */
export function configuredSecrets(config: FmguardConfig): string[] {
  const secrets: string[] = [...config.keyIndex.keys()];
  for (const provider of Object.values(config.providers)) if ('apiKey' in provider && provider.apiKey) secrets.push(provider.apiKey);
  if (config.server.adminToken) secrets.push(config.server.adminToken);
  return secrets;
}

export function openAuditLog(config: FmguardConfig, store: Store, clock: Clock, onError?: (error: unknown) => void): AuditLog | undefined {
  const sink = openAuditSink(config, store);
  if (!sink) return undefined;
  return createAuditLog({ sink, clock, redactFields: config.audit.redactFields ?? [], secrets: configuredSecrets(config), onError });
}
