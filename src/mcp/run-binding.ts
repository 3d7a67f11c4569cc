import type { Guard } from '../runtime/guard.ts';
import type { Run } from '../runtime/run.ts';
import type { Identity } from './identity.ts';

/**
 * A session's own run, for calls that name none: started at the session's first tool call, ended
 * when the session closes. Concurrent first calls share it.
 */
export class SessionRun {
  private run: Promise<Run> | undefined;
  private closed = false;

  constructor(private readonly guard: Guard) {}

  get(identity: Identity): Promise<Run> {
    if (!this.run) {
      const started = this.guard.startRun({ principal: identity.principal, parentId: identity.parentRunId });
      this.run = started;
      // A failed start (an unknown parent run) must not stick to the session.
      started.catch(() => {
        if (this.run === started) this.run = undefined;
      });
    }
    return this.run;
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const run = await this.run?.catch(() => undefined);
    await run?.end();
  }
}

export interface BoundRun {
  run: Run;
  /** A run of its own for this one call: ended after it. */
  own: boolean;
}

/**
 * The run a tool call counts against: the one `x-fmguard-run` names (shared with model calls that
 * name it too), else the session's run, else — stateless, no header — a run of its own.
 */
export async function bindRun(guard: Guard, identity: Identity, session: SessionRun | undefined): Promise<BoundRun> {
  if (identity.runId !== undefined)
    return { run: await guard.startRun({ principal: identity.principal, id: identity.runId, parentId: identity.parentRunId }), own: false };
  if (session) return { run: await session.get(identity), own: false };
  return { run: await guard.startRun({ principal: identity.principal, parentId: identity.parentRunId, local: true }), own: true };
}
