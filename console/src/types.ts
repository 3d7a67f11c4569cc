/** Shapes of the admin API's answers, as the views use them. */

export interface RunUsage {
  steps: number;
  toolCalls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
  reservedCostUsd: number;
}

export interface RunLimits {
  maxSteps: number;
  maxToolCalls: number;
  maxTotalTokens: number;
  maxCostUsd: number;
  maxDurationMs: number;
}

export interface RunRow {
  id: string;
  agent: string;
  tenant: string;
  parentId?: string;
  ancestors: string[];
  depth: number;
  status: 'running' | 'stopped' | 'completed';
  stopCode?: string;
  stopReason?: string;
  startedAt: number;
  endedAt?: number;
  deadline: number;
  model?: string;
  usage: RunUsage;
  limits?: RunLimits;
}

export interface RunsPage {
  runs: RunRow[];
  total: number;
  page: number;
  pages: number;
  limit: number;
  counts: Record<'running' | 'stopped' | 'completed', number>;
  now: number;
  facets: { tenants: string[]; agents: string[]; codes: string[] };
}

export interface AuditEntry {
  seq: number;
  time: number;
  type: string;
  run?: string;
  agent?: string;
  tenant?: string;
  code?: string;
  action?: string;
  resource?: string;
  usage?: { inputTokens?: number; outputTokens?: number; cachedTokens?: number; totalTokens?: number };
  costUsd?: number;
  details?: Record<string, unknown>;
}

export interface RunNode {
  id: string;
  agent: string;
  status: RunRow['status'];
  stopCode?: string;
  startedAt: number;
  endedAt?: number;
  children: RunNode[];
}

export interface Timeline {
  run: RunRow;
  usage: RunUsage;
  limits?: RunLimits;
  killSwitch?: { scope: string; reason: string; by: string; at: number };
  audit: boolean;
  events: AuditEntry[];
  truncated: boolean;
  tree: RunNode | null;
  now: number;
}

export interface Impact {
  scope: string;
  on: boolean;
  running: number;
  runs: Array<{ id: string; agent: string; tenant: string }>;
}
