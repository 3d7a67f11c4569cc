import { hostname } from 'node:os';
import { createJsonlAuditSink } from '../backends/jsonl/audit.ts';
import { createMemoryAuditSink } from '../backends/memory/audit.ts';
import { createPostgresAuditSink } from '../backends/postgres/audit.ts';
import { createSqliteAuditSink } from '../backends/sqlite/audit.ts';
import { createSqliteAuditSpool } from '../backends/sqlite/audit-spool.ts';
import { createAuditLog, type AuditLog, type AuditSink, type AuditSpool } from '../audit/index.ts';
import type { Clock } from '../core/clock.ts';
import type { FmguardConfig } from '../config/resolve.ts';
import type { Store } from '../store/store.ts';

/**
 * The audit sink the config names. By default the one the store keeps beside its state when that is
 * durable (SQLite: tables in its file); none otherwise (an in-memory log would only grow).
 */
export function openAuditSink(config: FmguardConfig, store: Store): AuditSink | undefined {
  const beside = store.audit;
  const sink = config.audit.sink ?? (beside?.durable ? beside.kind : 'none');
  switch (sink) {
    case 'none':
      return undefined;
    case 'jsonl':
      return createJsonlAuditSink({ path: config.audit.path ?? '.fmguard/audit.jsonl' });
    case 'sqlite':
      if (!config.audit.path && beside?.kind === 'sqlite') return beside.open();
      return createSqliteAuditSink({ path: config.audit.path ?? '.fmguard/audit.db' });
    case 'memory':
      return createMemoryAuditSink();
    case 'postgres': {
      if (!config.audit.url) throw new Error('audit.url: the postgres audit sink needs a connection URL');
      // Each replica keeps its own hash chain in the shared table.
      return createPostgresAuditSink({ connectionString: config.audit.url, replica: replicaName(config) });
    }
    default:
      throw new Error(`audit sink "${sink}" is not available in this build`);
  }
}

/** The postgres sink a spool feeds, without credentials: database, search path and replica. */
function sinkIdentity(config: FmguardConfig): string {
  const url = new URL(config.audit.url ?? '');
  return `postgres://${url.hostname}${url.pathname}?${url.searchParams.get('options') ?? ''}#${replicaName(config)}`;
}

function replicaName(config: FmguardConfig): string {
  return config.audit.replica ?? process.env.FMGUARD_REPLICA ?? `${hostname()}-${process.pid}`;
}

/**
 * Where the postgres sink's spool lives by default: `.fmguard/audit-spool.db`, or with a replica
 * name (audit.replica, FMGUARD_REPLICA) one file per replica, so replicas sharing a folder each keep
 * their own and a restarted replica finds its spool again.
 */
export function defaultSpoolPath(config: FmguardConfig): string {
  const named = config.audit.replica ?? process.env.FMGUARD_REPLICA;
  return named ? `.fmguard/audit-spool-${named.replace(/[^A-Za-z0-9_.-]/g, '_')}.db` : '.fmguard/audit-spool.db';
}

/** Every configured secret, so the audit log can mask them wherever they appear. */
export function configuredSecrets(config: FmguardConfig): string[] {
  const secrets: string[] = [...config.keyIndex.keys()];
  for (const provider of Object.values(config.providers)) if ('apiKey' in provider && provider.apiKey) secrets.push(provider.apiKey);
  for (const provider of Object.values(config.providers)) if ('headers' in provider && provider.headers) secrets.push(...Object.values(provider.headers));
  for (const server of Object.values(config.toolServers)) {
    if (server.kind === 'http' && server.headers) secrets.push(...Object.values(server.headers));
    if (server.kind === 'stdio' && server.env) secrets.push(...Object.values(server.env));
  }
  if (config.server.adminToken) secrets.push(config.server.adminToken);
  if (config.server.metricsToken) secrets.push(config.server.metricsToken);
  if (config.audit.key) secrets.push(config.audit.key);
  return secrets;
}

export function openAuditLog(config: FmguardConfig, store: Store, clock: Clock, onError?: (error: unknown) => void): AuditLog | undefined {
  const sink = openAuditSink(config, store);
  if (!sink) return undefined;
  const audit = config.audit;
  // A remote sink gets a local durable spool in front: an outage costs no event, a restart resumes the drain.
  let spool: AuditSpool | undefined;
  try {
    spool = sink.kind === 'postgres' ? createSqliteAuditSpool({ path: audit.spool?.path ?? defaultSpoolPath(config), sink: sinkIdentity(config) }) : undefined;
  } catch (error) {
    void sink.close();
    throw error;
  }
  const key = audit.key;
  return createAuditLog({
    sink,
    spool,
    clock,
    flushMs: audit.flushMs,
    maxBatch: audit.maxBatch,
    maxEvents: spool ? audit.spool?.maxEvents : audit.maxPending,
    maxBytes: audit.spool?.maxBytes,
    onFull: audit.onSpoolFull,
    redactFields: audit.redactFields ?? [],
    secrets: configuredSecrets(config),
    onError,
    ...(key && audit.anchor ? { anchor: { key, path: audit.anchor.path, everyMs: audit.anchor.everyMs } } : {}),
    ...(key && audit.retention ? { retention: { key, maxAgeMs: audit.retention.maxAge, everyMs: audit.retention.everyMs } } : {}),
  });
}
