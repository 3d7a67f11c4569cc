import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

export type UpstreamKind = 'builtin' | 'http' | 'stdio';

export type UpstreamState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'closed';

export interface UpstreamStatus {
  name: string;
  kind: UpstreamKind;
  state: UpstreamState;
  /** The tool server's process (stdio), while it runs. */
  pid?: number;
  /** Times the connection was lost and re-established (a stdio crash counts once). */
  restarts: number;
  /** Connection attempts that failed or ended early, in a row; drives the backoff. */
  consecutiveFailures: number;
  /** When the next connection attempt may run (epoch ms), while in backoff. */
  retryAt?: number;
  lastError?: string;
  /** The end of the process's stderr (stdio), for operators; never shown to agents. */
  stderrTail?: string;
}

/** A tool server behind the MCP gateway, as the gateway uses it. */
export interface Upstream {
  readonly name: string;
  readonly kind: UpstreamKind;
  /**
   * The server's tools by name. Listed once and cached; refreshed after a reconnect or a
   * `tools/list_changed`. While the server is down the last list is returned; with none, it throws.
   */
  tools(): Promise<ReadonlyMap<string, Tool>>;
  /** Call a tool; `signal` cancels it upstream (`notifications/cancelled`). Throws a GuardError. */
  call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
  status(): UpstreamStatus;
  close(): Promise<void>;
}
