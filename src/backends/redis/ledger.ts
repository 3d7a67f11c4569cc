import { checkActual, checkCharges, checkDelta, OK, pendingBefore, SETTLE_UNKNOWN } from '../rules.ts';
import type { Balance, LedgerStore, ReserveRequest, ReserveResult, SettledLine, SettleRequest, SettleResult } from '../../store/store.ts';
import type { Gate } from './connection.ts';
import type { FailPolicy } from './fail-open.ts';
import { adjustScript, balancesScript, releaseScript, repeatScript, reserveScript, settleScript } from './lua/ledger.ts';

/** How long a reservation key outlives its expiry and retention before Redis deletes it itself. */
export const RESERVATION_GRACE_MS = 3_600_000;

const isAmount = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * Ledger in Redis: every method is one Lua script, so each is atomic against every replica. Same
 * semantics as the memory ledger: a duplicate id (active, or expired and remembered) is a TypeError;
 * settling an expired reservation records the usage; the hold of a reservation nobody settles is
 * released by the first reserve or balances call at or after its expiresAt.
 */
export class RedisLedger implements LedgerStore {
  constructor(
    private readonly gate: Gate,
    private readonly prefix: string,
    private readonly retentionMs: number,
    private readonly policy: FailPolicy,
  ) {}

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const args = this.reserveArgs(req);
    const reply = await this.policy.guard(
      'ledger',
      () => this.gate.run('reserve', (redis) => reserveScript.run(redis, args)) as Promise<ReserveReply>,
      (): ReserveReply => ['ok'],
    );
    return this.reserveResult(req, reply);
  }

  /** @internal The reserve script's arguments (checked), also for the compound script. */
  reserveArgs(req: ReserveRequest): string[] {
    const { id, charges, now } = req;
    checkCharges(charges);
    checkTime('expiresAt', req.expiresAt);
    checkTime('now', now);
    const args: string[] = [this.prefix, String(now), this.cutoff(now), id, String(req.expiresAt), String(charges.length)];
    for (const c of charges) args.push(c.key, c.dim, String(c.amount), c.limit === undefined ? '' : String(c.limit));
    // A backstop, not the mechanism: the key outlives its expiry by the retention for a late settle,
    // and an hour more so a sweep (the next reserve or balances call) has released its hold first.
    // Relative (PEXPIRE): callers' times need not be Redis's clock.
    const ttl = Math.max(req.expiresAt - now, 0) + this.retentionMs + RESERVATION_GRACE_MS;
    args.push(Number.isFinite(ttl) ? String(Math.ceil(ttl)) : '');
    return args;
  }

  /** @internal */
  reserveResult(req: ReserveRequest, reply: ReserveReply): ReserveResult {
    const { id, charges } = req;
    if (reply[0] === 'ok') return OK;
    if (reply[0] === 'dup') throw new TypeError(`reservation id already in use: ${id}`);
    const i = (reply[1] as number) - 1;
    const c = charges[i];
    const refusal = {
      key: c.key,
      dim: c.dim,
      code: c.code,
      limit: c.limit as number,
      used: Number(reply[2]),
      reserved: Number(reply[3]),
      requested: c.amount + pendingBefore(charges, i),
    };
    return { ok: false, refusal };
  }

  async settle(req: SettleRequest): Promise<SettleResult> {
    const args = this.settleArgs(req);
    const reply = await this.policy.guard(
      'ledger',
      () => this.gate.run('settle', (redis) => settleScript.run(redis, args)) as Promise<Array<string | number>>,
      () => ['unknown'],
    );
    return settleResult(req, reply);
  }

  /** @internal */
  settleArgs(req: SettleRequest): string[] {
    const valid = Array.isArray(req.actual) && req.actual.every(isAmount);
    const args = [this.prefix, req.id, valid ? '1' : '0', String(req.actual?.length ?? 0)];
    if (valid) for (const a of req.actual) args.push(String(a));
    return args;
  }

  async release(id: string): Promise<void> {
    await this.policy.guard(
      'ledger',
      () => this.gate.run('release', (redis) => releaseScript.run(redis, [this.prefix, id])),
      () => 0,
    );
  }

  async balances(lines: Array<{ key: string; dim: string }>, now: number): Promise<Balance[]> {
    checkTime('now', now);
    const args = [this.prefix, String(now), this.cutoff(now)];
    for (const { key, dim } of lines) args.push(key, dim);
    const reply = await this.policy.guard(
      'ledger',
      () => this.gate.run('balances', (redis) => balancesScript.run(redis, args)) as Promise<string[]>,
      () => lines.flatMap(() => ['0', '0']),
    );
    const out = new Array<Balance>(lines.length);
    for (let i = 0; i < lines.length; i++) out[i] = { used: Number(reply[2 * i]), reserved: Number(reply[2 * i + 1]) };
    return out;
  }

  async adjust(key: string, dim: string, delta: number): Promise<{ before: number; after: number }> {
    checkDelta(delta);
    // An operator's write: never answered by the fail-open policy, a failure is reported.
    const reply = (await this.gate.run('adjust', (redis) => adjustScript.run(redis, [this.prefix, key, dim, String(delta)]))) as string[];
    return { before: Number(reply[0]), after: Number(reply[1]) };
  }

  async trackRepeat(key: string, fingerprint: string): Promise<number> {
    return this.policy.guard(
      'ledger',
      () => this.gate.run('trackRepeat', (redis) => repeatScript.run(redis, [this.prefix, key, fingerprint])) as Promise<number>,
      () => 1,
    );
  }

  /** Expired reservations before this are forgotten (a late settle then reports unknown). */
  private cutoff(now: number): string {
    return String(now - this.retentionMs);
  }
}

export type ReserveReply = [string, number?, string?, string?];

/** @internal The settle script's reply as a result. */
export function settleResult(req: SettleRequest, reply: Array<string | number>): SettleResult {
  if (reply[0] === 'unknown') return SETTLE_UNKNOWN;
  if (reply[0] === 'bad') {
    checkActual(req.actual, reply[1] as number);
    throw new TypeError(`settle: invalid actual amounts for ${req.id}`);
  }
  const lines: SettledLine[] = [];
  for (let i = 1, j = 0; i < reply.length; i += 4, j++) {
    const after = Number(reply[i + 3]);
    const line: SettledLine = { key: String(reply[i]), dim: String(reply[i + 1]), before: after - req.actual[j], after };
    if (reply[i + 2] !== '') line.limit = Number(reply[i + 2]);
    lines.push(line);
  }
  return { ok: true, lines };
}

/** A NaN time cannot be a sorted-set score; the memory store would keep it forever, Redis refuses it. */
function checkTime(name: string, value: number): void {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${name} must be a number, got ${value}`);
}
