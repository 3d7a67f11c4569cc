import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalStore } from '../../src/store/approvals.ts';
import { approve, checkApproval, deny, listApprovals, requireApproval, waitForDecision } from '../../src/approvals/gate.ts';
import { createAuditLog } from '../../src/audit/audit-log.ts';
import { createMemoryAuditSink } from '../../src/backends/memory/audit.ts';
import { GuardError } from '../../src/core/errors.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

export interface StoreFixture {
  store: ApprovalStore;
  /** A second handle on the same state (another connection / process), when the store has one. */
  other?: ApprovalStore;
  cleanup?: () => Promise<void>;
}

const TTL = 60_000;
const EMAIL = { to: 'a@example.com', subject: 'refund', body: 'Your refund of $20 is on its way.' };

/** The approvals section of the store contract: the behaviour every ApprovalStore must have. */
export function approvalStoreSuite(
  name: string,
  makeFixture: () => StoreFixture | Promise<StoreFixture>,
  { sharedState = false, clock: newClock = () => new FakeClock() }: { sharedState?: boolean; clock?: () => FakeClock } = {},
): void {
  describe(`store contract: ${name}: approvals`, () => {
    let fx: StoreFixture;
    let clock: FakeClock;
    beforeEach(async () => {
      fx = await makeFixture();
      clock = newClock();
    });
    afterEach(async () => {
      await fx.store.close();
      await fx.other?.close();
      await fx.cleanup?.();
    });

    const call = (overrides: Partial<Parameters<typeof checkApproval>[0]> = {}) =>
      checkApproval({
        store: fx.store,
        run: 'r1',
        agent: 'support-bot',
        tenant: 'acme',
        tool: 'demo.send_email',
        args: EMAIL,
        now: clock.now(),
        ttlMs: TTL,
        ...overrides,
      });

    const refusal = async (overrides: Partial<Parameters<typeof checkApproval>[0]> = {}) => {
      const result = await call(overrides);
      if (result.ok) throw new Error('expected a refusal');
      return result;
    };

    it('files a request on the first call and refuses with approval.required and its id', async () => {
      const first = await refusal();
      expect(first.error).toBeInstanceOf(GuardError);
      expect(first.error.code).toBe('approval.required');
      expect(first.error.details).toMatchObject({ approvalId: first.request.id, tool: 'demo.send_email', runId: 'r1' });
      expect(first.request).toMatchObject({ status: 'pending', run: 'r1', agent: 'support-bot', tenant: 'acme', args: EMAIL, expiresAt: clock.now() + TTL });
    });

    it('returns the same pending request for the identical call (no duplicates)', async () => {
      const first = await refusal();
      const again = await refusal({ args: { ...EMAIL } }); // equal arguments, new object, keys in another order
      expect(again.request.id).toBe(first.request.id);
      expect(await listApprovals({ store: fx.store, status: 'pending', now: clock.now() })).toHaveLength(1);
    });

    it('approve: the identical call passes once; a second identical call needs a new approval', async () => {
      const { request } = await refusal();
      const decided = await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now() });
      expect(decided).toMatchObject({ ok: true, request: { status: 'approved', decidedBy: 'alice' } });

      const pass = await call();
      expect(pass).toMatchObject({ ok: true, request: { id: request.id, status: 'consumed', consumedAt: clock.now() } });

      const second = await refusal();
      expect(second.error.code).toBe('approval.required');
      expect(second.request.id).not.toBe(request.id);
    });

    it('changed arguments are refused with a new request and leave the approval unused', async () => {
      const { request } = await refusal();
      await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now() });
      const changed = await refusal({ args: { ...EMAIL, to: 'attacker@evil.test' } });
      expect(changed.error.code).toBe('approval.required');
      expect(changed.request.id).not.toBe(request.id);
      expect(changed.request.fingerprint).not.toBe(request.fingerprint);
      expect(await call()).toMatchObject({ ok: true, request: { id: request.id } });
    });

    it('an approval belongs to its run and tool', async () => {
      const { request } = await refusal();
      await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now() });
      expect((await refusal({ run: 'r2' })).request.id).not.toBe(request.id);
      expect((await refusal({ tool: 'demo.send_sms' })).request.id).not.toBe(request.id);
    });

    it('deny gives approval.denied, and the identical call stays denied', async () => {
      const { request } = await refusal();
      const denied = await deny({ store: fx.store, id: request.id, by: 'bob', reason: 'not this customer', now: clock.now() });
      expect(denied).toMatchObject({ ok: true, request: { status: 'denied', decidedBy: 'bob', reason: 'not this customer' } });
      for (let i = 0; i < 2; i++) {
        const r = await refusal();
        expect(r.error.code).toBe('approval.denied');
        expect(r.error.details).toMatchObject({ approvalId: request.id, deniedBy: 'bob', reason: 'not this customer' });
        expect(r.error.message).toContain('not this customer');
      }
      expect((await refusal({ args: { ...EMAIL, body: 'other' } })).error.code).toBe('approval.required');
    });

    it('a pending request expires: approval.expired once, with a new request filed', async () => {
      const { request } = await refusal();
      clock.set(clock.now() + TTL);
      expect((await fx.store.get(request.id, clock.now()))?.status).toBe('expired');
      const expired = await refusal();
      expect(expired.error.code).toBe('approval.expired');
      expect(expired.error.details).toMatchObject({ expiredApprovalId: request.id, approvalId: expired.request.id });
      expect(expired.request).toMatchObject({ status: 'pending', expiresAt: clock.now() + TTL });
      const next = await refusal();
      expect(next.error.code).toBe('approval.required');
      expect(next.request.id).toBe(expired.request.id);
    });

    it('an approved but unused request expires too, and cannot be approved after expiry', async () => {
      const { request } = await refusal();
      await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now() });
      clock.set(clock.now() + TTL + 1);
      const expired = await refusal();
      expect(expired.error.code).toBe('approval.expired');
      expect(expired.error.message).toContain(`approval ${request.id} expired`);
      const late = await approve({ store: fx.store, id: expired.request.id, by: 'alice', now: clock.now() + TTL });
      expect(late).toMatchObject({ ok: false, reason: 'not-pending', request: { status: 'expired' } });
    });

    it('decides only pending requests', async () => {
      const { request } = await refusal();
      await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now() });
      expect(await deny({ store: fx.store, id: request.id, by: 'bob', now: clock.now() })).toMatchObject({
        ok: false,
        reason: 'not-pending',
        request: { status: 'approved' },
      });
      expect(await approve({ store: fx.store, id: 'apr_nope', by: 'alice', now: clock.now() })).toEqual({ ok: false, reason: 'unknown' });
    });

    it('lists newest first with the status each has now', async () => {
      const a = (await refusal({ args: { n: 1 } })).request;
      clock.set(clock.now() + 1000);
      const b = (await refusal({ args: { n: 2 }, run: 'r2' })).request;
      await deny({ store: fx.store, id: b.id, by: 'bob', now: clock.now() });
      const now = clock.now();
      expect((await listApprovals({ store: fx.store, now })).map((r) => r.id)).toEqual([b.id, a.id]);
      expect((await listApprovals({ store: fx.store, status: 'pending', now })).map((r) => r.id)).toEqual([a.id]);
      expect((await listApprovals({ store: fx.store, status: ['pending', 'denied'], limit: 1, now })).map((r) => r.id)).toEqual([b.id]);
      expect((await listApprovals({ store: fx.store, run: 'r2', now })).map((r) => r.id)).toEqual([b.id]);
      expect((await listApprovals({ store: fx.store, status: 'expired', now: a.expiresAt })).map((r) => r.id)).toEqual([a.id]);
    });

    it('waitForDecision resolves when approved', async () => {
      const { request } = await refusal();
      const waiting = waitForDecision({ store: fx.store, id: request.id, timeoutMs: 30_000, clock });
      await clock.advance(1000);
      await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now() });
      await expect(waiting).resolves.toMatchObject({ status: 'approved', request: { id: request.id } });
      expect(clock.pending).toBe(0);
    });

    it('waitForDecision resolves with denied and with expired', async () => {
      const { request } = await refusal();
      const waiting = waitForDecision({ store: fx.store, id: request.id, timeoutMs: 30_000, clock });
      await deny({ store: fx.store, id: request.id, by: 'bob', now: clock.now() });
      await expect(waiting).resolves.toMatchObject({ status: 'denied' });

      const other = (await refusal({ args: { n: 2 } })).request;
      const long = waitForDecision({ store: fx.store, id: other.id, timeoutMs: 10 * TTL, clock });
      await clock.advance(TTL);
      await expect(long).resolves.toMatchObject({ status: 'expired' });
      expect(clock.pending).toBe(0);
    });

    it('waitForDecision times out cleanly', async () => {
      const { request } = await refusal();
      let settled = false;
      const waiting = waitForDecision({ store: fx.store, id: request.id, timeoutMs: 2000, clock, pollMs: 500 }).finally(() => (settled = true));
      await clock.advance(1999);
      expect(settled).toBe(false);
      await clock.advance(1);
      await expect(waiting).resolves.toMatchObject({ status: 'timeout', request: { status: 'pending' } });
      expect(clock.pending).toBe(0);
    });

    it('waitForDecision stops on abort', async () => {
      const { request } = await refusal();
      const controller = new AbortController();
      const waiting = waitForDecision({ store: fx.store, id: request.id, timeoutMs: 30_000, clock, signal: controller.signal });
      await clock.advance(100);
      controller.abort(new Error('client went away'));
      await expect(waiting).rejects.toThrow('client went away');
      expect(clock.pending).toBe(0);
    });

    it('requireApproval waits for the decision and consumes the approval once', async () => {
      const opts = { store: fx.store, run: 'r1', agent: 'support-bot', tool: 'demo.send_email', args: EMAIL, ttlMs: TTL, clock, waitMs: 30_000 };
      const waiting = requireApproval(opts);
      await clock.advance(10);
      const [pending] = await listApprovals({ store: fx.store, status: 'pending', now: clock.now() });
      await approve({ store: fx.store, id: pending.id, by: 'alice', now: clock.now() });
      await expect(waiting).resolves.toMatchObject({ id: pending.id, status: 'consumed' });

      await expect(requireApproval({ ...opts, waitMs: 0 })).rejects.toMatchObject({ code: 'approval.required' });
      const timedOut = requireApproval({ ...opts, waitMs: 1000 });
      const caught = timedOut.catch((e: unknown) => e);
      await clock.advance(1000);
      expect(await caught).toMatchObject({ code: 'approval.required' });

      const denying = requireApproval(opts).catch((e: unknown) => e);
      await clock.advance(10);
      const [again] = await listApprovals({ store: fx.store, status: 'pending', now: clock.now() });
      await deny({ store: fx.store, id: again.id, by: 'bob', now: clock.now() });
      expect(await denying).toMatchObject({ code: 'approval.denied' });
    });

    it('records the lifecycle in the audit log', async () => {
      const sink = createMemoryAuditSink();
      const audit = createAuditLog({ sink });
      const { request } = await refusal();
      await approve({ store: fx.store, id: request.id, by: 'alice', now: clock.now(), audit });
      await call({ audit });
      await refusal({ audit });
      await audit.flush();
      expect(sink.events.map((e) => e.type)).toEqual(['approval.decided', 'approval.consumed', 'approval.requested']);
      expect(sink.events[0]).toMatchObject({ run: 'r1', resource: 'demo.send_email', details: { approvalId: request.id, status: 'approved', by: 'alice' } });
      expect(sink.events[2].details).toMatchObject({ args: EMAIL });
    });

    it('rejects a non-positive ttl', async () => {
      await expect(call({ ttlMs: 0 })).rejects.toThrow(TypeError);
    });

    describe.runIf(sharedState)('through a second handle on the same state', () => {
      it('consumes an approval exactly once and files one request per call', async () => {
        const [a, b] = await Promise.all([
          call(),
          checkApproval({ store: fx.other!, run: 'r1', agent: 'support-bot', tool: 'demo.send_email', args: EMAIL, now: clock.now(), ttlMs: TTL }),
        ]);
        expect(!a.ok && !b.ok && a.request.id === b.request.id).toBe(true);
        await approve({ store: fx.other!, id: a.request.id, by: 'alice', now: clock.now() });
        const results = await Promise.all([
          call(),
          checkApproval({ store: fx.other!, run: 'r1', agent: 'support-bot', tool: 'demo.send_email', args: EMAIL, now: clock.now(), ttlMs: TTL }),
        ]);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
      });

      it('a waiter sees a decision made elsewhere by polling', async () => {
        const { request } = await refusal();
        const waiting = waitForDecision({ store: fx.store, id: request.id, timeoutMs: 30_000, clock, pollMs: 250 });
        await clock.advance(100);
        await approve({ store: fx.other!, id: request.id, by: 'alice', now: clock.now() });
        await clock.advance(250);
        await expect(waiting).resolves.toMatchObject({ status: 'approved' });
      });
    });
  });
}
