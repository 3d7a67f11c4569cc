export * from '../store/audit.ts';
export type { AuditSink } from '../store/audit-sink.ts';
export { GENESIS_HASH, hashEvent, chainEvent, serializeEvent, parseStoredEvent, isStoredEvent } from './chain.ts';
export { verifyChain, type VerifyEntry, type VerifyChainOptions } from './verify.ts';
export { REDACTED, createRedactor, redact, redactString, isSecretKey, type RedactOptions, type Redactor } from './redact.ts';
export { matchesFilter, applyFilter } from './filter.ts';
export { createAuditLog, type AuditLog, type AuditLogOptions, type AuditRecord, type RecordOptions } from './audit-log.ts';
export { formatEvent, formatEvents, formatVerifyResult } from './format.ts';
