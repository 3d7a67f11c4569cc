/** The one contract every backend implements; see store.ts for the whole of it. */
export type * from './store.ts';
export { accounts, runDay } from './store.ts';
export type * from './approvals.ts';
export type * from './breakers.ts';
export type * from './metrics.ts';
export type * from './alarms.ts';
export type * from './api-keys.ts';
export { keyInfo } from './api-keys.ts';
export type * from './audit-sink.ts';
export type * from './versioned.ts';
export {
  AUDIT_EVENT_TYPES,
  type AuditEvent,
  type AuditEventType,
  type AuditFilter,
  type AuditUsage,
  type ChainHead,
  type StoredEvent,
  type TamperProblem,
  type VerifyOptions,
  type VerifyResult,
} from './audit.ts';
