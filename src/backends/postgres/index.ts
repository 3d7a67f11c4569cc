/** `fmguard/postgres`: the audit log of every replica in one PostgreSQL database (needs the `pg` package). */
export {
  createPostgresAuditSink,
  type ChainReport,
  type PostgresAuditFilter,
  type PostgresAuditSink,
  type PostgresAuditSinkOptions,
  type PostgresVerifyOptions,
  type PostgresVerifyResult,
  type ReplicaEvent,
} from './audit.ts';
