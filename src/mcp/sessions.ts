import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { JsonHttpTransport } from './json-transport.ts';
import type { Identity } from './identity.ts';

/** One MCP session: its transport and server, bound to the tool server and key that opened it. */
export interface Session {
  id: string;
  server: string;
  agent: string;
  keyId: string;
  transport: JsonHttpTransport;
  mcp: Server;
  lastSeen: number;
  /** POSTs being handled; a session with work in flight is never idle. */
  active: number;
}

/** Live sessions, with idle expiry. */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly perAgent = new Map<string, number>();

  get size(): number {
    return this.sessions.size;
  }

  /** Sessions the agent holds now. */
  countFor(agent: string): number {
    return this.perAgent.get(agent) ?? 0;
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
    this.perAgent.set(session.agent, this.countFor(session.agent) + 1);
  }

  delete(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    const left = this.countFor(session.agent) - 1;
    if (left > 0) this.perAgent.set(session.agent, left);
    else this.perAgent.delete(session.agent);
  }

  /**
   * The session, if it exists for this server and this caller. Someone else's session id is
   * "not found", as an unknown one is: a session id is not a credential.
   */
  find(id: string, server: string, identity: Identity): Session | undefined {
    const session = this.sessions.get(id);
    if (!session || session.server !== server || session.agent !== identity.agent.name || session.keyId !== identity.keyId) return undefined;
    return session;
  }

  /** Close sessions idle for `idleMs` or longer; returns how many. */
  sweep(now: number, idleMs: number): number {
    let closed = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.active === 0 && now - session.lastSeen >= idleMs) {
        this.delete(session.id);
        void session.mcp.close().catch(() => {});
        closed++;
      }
    }
    return closed;
  }

  async closeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    this.perAgent.clear();
    await Promise.all(all.map((s) => s.mcp.close().catch(() => {})));
  }
}
