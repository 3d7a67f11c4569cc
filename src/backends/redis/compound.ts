import type { BucketSpec, CompoundOps, ReserveRequest, SettleRequest, SettleResult, TakeAndReserveResult } from '../../store/store.ts';
import type { Gate } from './connection.ts';
import type { FailPolicy } from './fail-open.ts';
import { type RedisLedger, type ReserveReply, settleResult } from './ledger.ts';
import { settleAndCreditScript, takeAndReserveScript } from './lua/compound.ts';
import { argsOf, takeResult } from './rates.ts';

/**
 * A call's Redis work before its upstream (rate tokens and the reservation over every level) and
 * after it (settlement and unused tokens back): one script, one round trip each, deciding exactly as
 * the parts' scripts do. Only when neither the ledger nor the rates fail open: a part that may
 * answer permissively while Redis is away keeps its own round trip (and its own fallback).
 */
export function redisCompoundOps(gate: Gate, prefix: string, ledger: RedisLedger, policy: FailPolicy): CompoundOps | undefined {
  if (policy.isOpen('ledger') || policy.isOpen('rates')) return undefined;
  return {
    async takeAndReserve(buckets: BucketSpec[], req: ReserveRequest): Promise<TakeAndReserveResult> {
      const a = argsOf(prefix, buckets, req.now);
      const b = ledger.reserveArgs(req);
      const reply = (await gate.run('takeAndReserve', (redis) => takeAndReserveScript.run(redis, [String(a.length), ...a, ...b]))) as Array<string | number>;
      if (reply[0] === 'rate') return { rate: takeResult(buckets, [0, reply[1] as number, reply[2] as string]) };
      return { rate: { ok: true }, reserve: ledger.reserveResult(req, reply as ReserveReply) };
    },
    async settleAndCredit(req: SettleRequest, credit: BucketSpec[]): Promise<SettleResult> {
      const a = credit.length > 0 ? argsOf(prefix, credit, req.now) : [];
      const b = ledger.settleArgs(req);
      const reply = (await gate.run('settleAndCredit', (redis) => settleAndCreditScript.run(redis, [String(a.length), ...a, ...b]))) as Array<string | number>;
      return settleResult(req, reply);
    },
  };
}
