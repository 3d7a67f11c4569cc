export * from '../store/approvals.ts';
export { effective, isDue, planCheck, planDecide } from './transitions.ts';
export {
  approve,
  checkApproval,
  deny,
  listApprovals,
  newApprovalId,
  requireApproval,
  waitForDecision,
  type ApprovalCheck,
  type AuditRecorder,
  type CheckApprovalOptions,
  type DecideOptions,
  type ListApprovalsOptions,
  type RequireApprovalOptions,
  type WaitForDecisionOptions,
  type WaitResult,
} from './gate.ts';
