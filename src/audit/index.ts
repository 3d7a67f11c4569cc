export * from '../store/audit.ts';
export type { AuditSink, AuditSpool, SpooledEvent, PruneRequest, PruneResult } from '../store/audit-sink.ts';
export { GENESIS_HASH, hashEvent, chainEvent, serializeEvent, parseStoredEvent, isStoredEvent } from './chain.ts';
export { verifyChain, type VerifyEntry, type VerifyChainOptions } from './verify.ts';
export { REDACTED, createRedactor, redact, redactString, isSecretKey, type RedactOptions, type Redactor } from './redact.ts';
export { matchesFilter, applyFilter } from './filter.ts';
export {
  createAuditLog,
  type AuditLog,
  type AuditLogOptions,
  type AuditRecord,
  type RecordOptions,
  type AuditState,
  type AuditHealth,
  type SpoolFullPolicy,
} from './audit-log.ts';
export {
  sign,
  checkSig,
  checkCheckpoint,
  signHead,
  appendAnchor,
  readAnchors,
  summarizeAnchors,
  AnchorFileError,
  type Anchor,
  type HeadAnchor,
  type CheckpointAnchor,
  type AnchorSummary,
} from './anchor.ts';
export { createAnchorer, type Anchorer, type AnchorerOptions } from './anchorer.ts';
export { createAuditPruner, type AuditPruner, type AuditPrunerOptions } from './retention.ts';
export { findGaps, declaredRanges } from './gaps.ts';
export { formatEvent, formatEvents, formatVerifyResult } from './format.ts';
export { auditReadiness, auditMetricsText, type AuditReadiness } from './readiness.ts';
export { verifyAnchored, type AnchoredResult } from './verify-anchored.ts';
