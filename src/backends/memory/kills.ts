import type { KillInfo, KillListener, KillScope, KillStore } from '../../store/store.ts';
import { copyKill, notifyKill } from '../rules.ts';

/**
 * Kill switches in a Map. Listeners are called synchronously, after the change is visible: on every
 * `set`, and on a `clear` that removed something.
 */
export class MemoryKills implements KillStore {
  private readonly kills = new Map<KillScope, KillInfo>();
  private readonly listeners = new Set<KillListener>();

  async set(scope: KillScope, info: KillInfo): Promise<void> {
    this.kills.set(scope, copyKill(info));
    notifyKill(this.listeners, scope, info);
  }

  async clear(scope: KillScope): Promise<void> {
    if (this.kills.delete(scope)) notifyKill(this.listeners, scope, null);
  }

  async list(): Promise<Map<KillScope, KillInfo>> {
    const out = new Map<KillScope, KillInfo>();
    for (const [scope, info] of this.kills) out.set(scope, copyKill(info));
    return out;
  }

  subscribe(listener: KillListener): () => void {
    // A wrapper makes each subscription distinct, so subscribing one function twice is two subscriptions.
    const entry: KillListener = (scope, info) => listener(scope, info);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  close(): void {
    this.listeners.clear();
  }
}
