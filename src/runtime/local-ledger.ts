import type { Balance, Charge, LedgerStore, ReserveRequest, ReserveResult, SettledLine, SettleRequest, SettleResult } from '../store/store.ts';

const LOCAL = 'local' as const;

/**
 * The ledger of a run of its own (one gateway request or one stateless MCP call, no `x-fmguard-run`):
 * the run's own account (`run:<id>`, and its repeat trackers `run:<id>:…`) lives in a ledger of this
 * process only, because nothing else can ever charge it; every other account (ancestor runs, tenant,
 * agent and key budgets) is the shared store's, so budgets stay exact across calls and replicas.
 *
 * A reservation is all or nothing over both: the local lines first (they are the run's, which come
 * first in every charge list, so the first line that does not fit is still the one named), then the
 * shared ones; a shared refusal releases the local hold. A request that touches only shared accounts
 * goes to the store unchanged (one trip, as before).
 */
export class SplitLedger implements LedgerStore {
  private readonly account: string;
  private readonly prefix: string;
  /**
   * Reservations held here: split ones map each charge to its index in the local part (>= 0) or in
   * the shared part (-1 - index); `LOCAL` marks one held by the local ledger alone.
   */
  private readonly splits = new Map<string, Int32Array | typeof LOCAL>();

  constructor(
    private readonly shared: LedgerStore,
    private readonly local: LedgerStore,
    runId: string,
  ) {
    this.account = `run:${runId}`;
    this.prefix = `${this.account}:`;
  }

  private isLocal(key: string): boolean {
    return key === this.account || key.startsWith(this.prefix);
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const { charges } = req;
    let locals = 0;
    for (let i = 0; i < charges.length; i++) if (this.isLocal(charges[i]!.key)) locals++;
    if (locals === 0) return this.shared.reserve(req);
    if (locals === charges.length) {
      const held = await this.local.reserve(req);
      if (held.ok) this.splits.set(req.id, LOCAL);
      return held;
    }
    const map = new Int32Array(charges.length);
    const mine: Charge[] = [];
    const theirs: Charge[] = [];
    for (let i = 0; i < charges.length; i++) {
      const c = charges[i]!;
      if (this.isLocal(c.key)) {
        map[i] = mine.length;
        mine.push(c);
      } else {
        map[i] = -1 - theirs.length;
        theirs.push(c);
      }
    }
    const held = await this.local.reserve({ id: req.id, charges: mine, expiresAt: req.expiresAt, now: req.now });
    if (!held.ok) return held;
    let result: ReserveResult;
    try {
      result = await this.shared.reserve({ id: req.id, charges: theirs, expiresAt: req.expiresAt, now: req.now });
    } catch (error) {
      await this.local.release(req.id);
      throw error;
    }
    if (!result.ok) {
      await this.local.release(req.id);
      return result;
    }
    this.splits.set(req.id, map);
    return result;
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    const map = this.splits.get(req.id);
    if (map === undefined) return this.shared.settle(req);
    this.splits.delete(req.id);
    if (map === LOCAL) return this.local.settle(req);
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < map.length; i++) (map[i]! >= 0 ? mine : theirs).push(req.actual[i]!);
    // The shared ledger first: the spend that other calls and replicas see is what must not be lost.
    const shared = await this.shared.settle({ id: req.id, actual: theirs, now: req.now });
    const local = await this.local.settle({ id: req.id, actual: mine, now: req.now });
    if (!shared.ok) return shared;
    if (!local.ok) return local;
    const lines = new Array<SettledLine>(map.length);
    for (let i = 0; i < map.length; i++) {
      const at = map[i]!;
      lines[i] = at >= 0 ? local.lines[at]! : shared.lines[-1 - at]!;
    }
    return { ok: true, lines };
  }

  async release(id: string): Promise<void> {
    const held = this.splits.get(id);
    this.splits.delete(id);
    if (held !== undefined) await this.local.release(id);
    if (held !== LOCAL) await this.shared.release(id);
  }

  async balances(lines: Array<{ key: string; dim: string }>, now: number): Promise<Balance[]> {
    let locals = 0;
    for (const line of lines) if (this.isLocal(line.key)) locals++;
    if (locals === 0) return this.shared.balances(lines, now);
    if (locals === lines.length) return this.local.balances(lines, now);
    const mine = lines.filter((l) => this.isLocal(l.key));
    const theirs = lines.filter((l) => !this.isLocal(l.key));
    const [a, b] = await Promise.all([this.local.balances(mine, now), this.shared.balances(theirs, now)]);
    let i = 0;
    let j = 0;
    return lines.map((l) => (this.isLocal(l.key) ? a[i++]! : b[j++]!));
  }

  trackRepeat(key: string, fingerprint: string): Promise<number> {
    return this.isLocal(key) ? this.local.trackRepeat(key, fingerprint) : this.shared.trackRepeat(key, fingerprint);
  }
}
