import type { AuditLog, AuditState } from './audit-log.ts';

/** What `/readyz` says about the audit log (no error text: the probe is not authenticated). */
export interface AuditReadiness {
  state: AuditState['state'];
  /** Events recorded but not yet in the sink. */
  waiting: number;
  /** Age of the oldest of them, ms. */
  oldestMs?: number;
  dropped: number;
  /** Since when the sink has been failing (epoch ms). */
  failingSince?: number;
}

/**
 * The audit part of readiness. `refusing` means calls are refused (fail-closed, the spool at its
 * bound): the gateway is not ready. `degraded` means the sink fails and events wait in the spool:
 * ready (calls are served and kept), and said so in the body and the metrics.
 */
export function auditReadiness(log: AuditLog | undefined, now: number): AuditReadiness | undefined {
  if (!log) return undefined;
  const s = log.state();
  return {
    state: s.state,
    waiting: s.waiting,
    ...(s.oldest !== undefined ? { oldestMs: Math.max(0, now - s.oldest) } : {}),
    dropped: s.dropped,
    ...(s.failingSince !== undefined ? { failingSince: s.failingSince } : {}),
  };
}

/** Prometheus lines for the audit log's state, appended to `/metrics`. */
export function auditMetricsText(log: AuditLog | undefined): string {
  if (!log) return '';
  const s = log.state();
  const lines = [
    '# HELP fmguard_audit_state The audit log: 1 for the state it is in (ok, degraded: the sink fails and events are spooled, refusing: calls refused).',
    '# TYPE fmguard_audit_state gauge',
    ...(['ok', 'degraded', 'refusing'] as const).map((state) => `fmguard_audit_state{state="${state}"} ${s.state === state ? 1 : 0}`),
    '# HELP fmguard_audit_waiting_events Audit events recorded but not yet in the sink (spool and memory).',
    '# TYPE fmguard_audit_waiting_events gauge',
    `fmguard_audit_waiting_events ${s.waiting}`,
    '# HELP fmguard_audit_spool_bytes Bytes of event text in the audit spool.',
    '# TYPE fmguard_audit_spool_bytes gauge',
    `fmguard_audit_spool_bytes ${s.spoolBytes}`,
    '# HELP fmguard_audit_dropped_events_total Audit events dropped at the bound (each declared by an audit.gap event).',
    '# TYPE fmguard_audit_dropped_events_total counter',
    `fmguard_audit_dropped_events_total ${s.dropped}`,
  ];
  return `${lines.join('\n')}\n`;
}
