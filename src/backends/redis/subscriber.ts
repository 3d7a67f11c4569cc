import type { Redis } from 'ioredis';

export interface Channel {
  /** Called with each message published on the channel. */
  onMessage(message: string): void;
  /** Called each time the subscription is (re)established: whatever was published meanwhile is lost. */
  onSubscribed(): void;
}

/**
 * The one dedicated pub/sub connection of a store, opened on first use. It resubscribes itself after
 * every reconnect (instead of ioredis doing it behind our back), and only then tells each channel,
 * so a channel re-reads its state once messages flow again.
 */
export class Subscriber {
  private conn: Redis | undefined;
  private readonly channels = new Map<string, Channel>();
  private closed = false;

  constructor(private readonly open: () => Redis) {}

  /** Start listening on `name`; returns a function that stops. */
  listen(name: string, channel: Channel): () => void {
    if (this.closed) return () => {};
    this.channels.set(name, channel);
    const conn = this.connection();
    if (conn.status === 'ready') void this.subscribe(conn, [name]);
    return () => {
      if (this.channels.get(name) !== channel) return;
      this.channels.delete(name);
      if (this.conn?.status === 'ready') this.conn.unsubscribe(name).catch(() => {});
    };
  }

  close(): void {
    this.closed = true;
    this.channels.clear();
    this.conn?.disconnect();
    this.conn = undefined;
  }

  private connection(): Redis {
    if (this.conn) return this.conn;
    const conn = this.open();
    conn.on('message', (name: string, message: string) => this.channels.get(name)?.onMessage(message));
    conn.on('ready', () => void this.subscribe(conn, [...this.channels.keys()]));
    this.conn = conn;
    return conn;
  }

  private async subscribe(conn: Redis, names: string[]): Promise<void> {
    if (names.length === 0) return;
    try {
      await conn.subscribe(...names);
    } catch {
      // The connection dropped again; the next 'ready' subscribes anew.
      return;
    }
    for (const name of names) this.channels.get(name)?.onSubscribed();
  }
}
