import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { guardError } from '../../core/errors.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { isServerAnswer, upstreamFailure } from './failures.ts';
import type { Upstream, UpstreamKind, UpstreamState, UpstreamStatus } from './upstream.ts';

/** A connected, initialized MCP client and what ends it. */
export interface Connection {
  client: Client;
  /** The server's process id, for stdio servers. */
  pid?: number;
  close(): Promise<void>;
}

export interface ClientUpstreamOptions {
  name: string;
  kind: UpstreamKind;
  /** Open a connection (spawn the process, run the MCP handshake). */
  connect(): Promise<Connection>;
  /**
   * Reconnect on a timer as soon as the backoff allows after a loss (a supervised process that
   * should be up), rather than at the next use.
   */
  eager?: boolean;
  backoff?: BackoffOptions;
  /** The last stderr output, for status(). */
  stderrTail?: () => string | undefined;
  now?: () => number;
}

// The guard's tool timeout (an abort signal) bounds every call; the SDK's own 60 s default must not.
const NO_SDK_TIMEOUT = 2_147_483_647;

/**
 * One upstream tool server behind an MCP client, with its connection supervised: a lost
 * connection (a crashed process, a closed socket, an upstream that forgot our session) fails the
 * calls in flight with `upstream.error` and is re-established with exponential backoff. While it
 * is down, calls fail fast rather than queue.
 */
export class ClientUpstream implements Upstream {
  readonly name: string;
  readonly kind: UpstreamKind;
  private readonly options: ClientUpstreamOptions;
  private readonly backoff: Required<BackoffOptions>;
  private readonly now: () => number;
  private conn: Connection | undefined;
  private connectedAt = 0;
  private connecting: Promise<Connection> | undefined;
  private state: UpstreamState = 'idle';
  private failures = 0;
  private restarts = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private toolList: Map<string, Tool> | undefined;
  private toolsFresh = false;
  private listing: Promise<Map<string, Tool>> | undefined;

  constructor(options: ClientUpstreamOptions) {
    this.options = options;
    this.name = options.name;
    this.kind = options.kind;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.now = options.now ?? Date.now;
  }

  /** The live connection, connecting first if allowed; throws `upstream.error` while backing off. */
  private connection(): Promise<Connection> {
    if (this.conn) return Promise.resolve(this.conn);
    if (this.connecting) return this.connecting;
    if (this.state === 'closed') return Promise.reject(guardError('upstream.error', `tool server "${this.name}" is shut down`, { server: this.name }));
    const wait = this.retryAt - this.now();
    if (wait > 0) {
      return Promise.reject(
        guardError('upstream.error', `tool server "${this.name}" is unavailable (${this.lastError ?? 'restarting'}); next attempt in ${wait} ms`, {
          server: this.name,
          retryAfterMs: wait,
        }),
      );
    }
    return this.start();
  }

  private start(): Promise<Connection> {
    this.state = 'connecting';
    const attempt = this.options.connect().then(
      (conn) => {
        if (this.state === 'closed') {
          void conn.close().catch(() => {});
          throw guardError('upstream.error', `tool server "${this.name}" is shut down`, { server: this.name });
        }
        this.conn = conn;
        this.connectedAt = this.now();
        this.state = 'ready';
        this.toolsFresh = false;
        conn.client.onclose = () => this.lost(conn, 'the connection closed');
        conn.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
          this.toolsFresh = false;
        });
        return conn;
      },
      (error: unknown) => {
        this.failed(error instanceof Error ? error.message : String(error));
        throw upstreamFailure(this.name, error);
      },
    );
    this.connecting = attempt;
    const clear = () => {
      if (this.connecting === attempt) this.connecting = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  }

  /** The connection ended without us asking (a crash, a closed socket). */
  private lost(conn: Connection, why: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.restarts++;
    // A connection that stayed up a while proves the last start worked: back off from scratch.
    if (this.now() - this.connectedAt >= this.backoff.stableMs) this.failures = 0;
    this.failed(why);
    void conn.close().catch(() => {});
  }

  private failed(why: string): void {
    if (this.state === 'closed') return;
    this.lastError = why;
    this.failures++;
    const delay = backoffDelay(this.failures, this.backoff);
    this.retryAt = this.now() + delay;
    this.state = 'backoff';
    if (!this.options.eager) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'backoff' && !this.connecting) this.start().catch(() => {});
    }, delay);
    // A restart timer alone must not keep the process alive.
    this.timer.unref();
  }

  async tools(): Promise<ReadonlyMap<string, Tool>> {
    if (this.toolsFresh && this.toolList) return this.toolList;
    this.listing ??= this.listTools().finally(() => {
      this.listing = undefined;
    });
    try {
      return await this.listing;
    } catch (error) {
      // A server that is down still has the tools it had: callers can tell a typo from an outage.
      if (this.toolList) return this.toolList;
      throw error;
    }
  }

  private async listTools(): Promise<Map<string, Tool>> {
    const conn = await this.connection();
    const tools = new Map<string, Tool>();
    let cursor: string | undefined;
    try {
      do {
        const page = await conn.client.listTools(cursor === undefined ? undefined : { cursor }, { timeout: NO_SDK_TIMEOUT });
        for (const tool of page.tools) tools.set(tool.name, tool);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    } catch (error) {
      if (!isServerAnswer(error)) this.lost(conn, error instanceof Error ? error.message : String(error));
      throw upstreamFailure(this.name, error);
    }
    if (this.conn === conn) {
      this.toolList = tools;
      this.toolsFresh = true;
    }
    return tools;
  }

  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const conn = await this.connection();
    try {
      const result = await conn.client.callTool({ name, arguments: args }, undefined, { signal, timeout: NO_SDK_TIMEOUT });
      // Servers on the 2024-10-07 protocol answer `{ toolResult }`.
      if ('toolResult' in result && !('content' in result)) return { content: [{ type: 'text', text: JSON.stringify(result.toolResult) }] };
      return result as CallToolResult;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (!isServerAnswer(error)) this.lost(conn, error instanceof Error ? error.message : String(error));
      throw upstreamFailure(this.name, error);
    }
  }

  status(): UpstreamStatus {
    const status: UpstreamStatus = {
      name: this.name,
      kind: this.kind,
      state: this.state,
      restarts: this.restarts,
      consecutiveFailures: this.failures,
    };
    if (this.conn?.pid !== undefined) status.pid = this.conn.pid;
    if (this.state === 'backoff') status.retryAt = this.retryAt;
    if (this.lastError !== undefined) status.lastError = this.lastError;
    const tail = this.options.stderrTail?.();
    if (tail) status.stderrTail = tail;
    return status;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.timer);
    const conn = this.conn ?? (await this.connecting?.catch(() => undefined));
    this.conn = undefined;
    await conn?.close().catch(() => {});
  }
}
