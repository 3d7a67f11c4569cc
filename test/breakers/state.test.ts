import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_POLICY } from '../../src/breakers/policy.ts';
import {
  admitCall,
  effectiveKind,
  forceClose,
  forceOpen,
  initialBreakerState,
  recordResult,
  releaseProbe,
  type BreakerState,
  type BreakerToken,
} from '../../src/breakers/state.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';

const policy = { ...DEFAULT_BREAKER_POLICY };

/** A tiny driver over the pure functions: state plus a fake clock. */
function harness() {
  const clock = new FakeClock();
  let state: BreakerState = initialBreakerState(clock.now());
  let n = 0;
  return {
    clock,
    get state() {
      return state;
    },
    admit() {
      const out = admitCall(state, clock.now(), policy, `p${++n}`);
      state = out.state;
      return out.admission;
    },
    result(token: BreakerToken, success: boolean) {
      state = recordResult(state, token, success, clock.now(), policy);
    },
    set(next: BreakerState) {
      state = next;
    },
  };
}

function tokenOf(a: ReturnType<ReturnType<typeof harness>['admit']>): BreakerToken {
  if (!a.ok) throw new Error('expected admission');
  return a.token;
}

function trip(h: ReturnType<typeof harness>) {
  for (let i = 0; i < policy.failureThreshold; i++) h.result(tokenOf(h.admit()), false);
}

describe('breaker state machine', () => {
  it('closed admits; 5 consecutive failures open it; a success in between resets the count', () => {
    const h = harness();
    for (let i = 0; i < 4; i++) h.result(tokenOf(h.admit()), false);
    h.result(tokenOf(h.admit()), true);
    for (let i = 0; i < 4; i++) h.result(tokenOf(h.admit()), false);
    expect(h.state).toMatchObject({ kind: 'closed', failures: 4 });
    h.result(tokenOf(h.admit()), false);
    expect(h.state).toMatchObject({ kind: 'open', cooldownMs: 30_000, probes: 3, by: 'auto', reason: '5 consecutive failures' });
  });

  it('open refuses at once with retry-after = cooldown left', async () => {
    const h = harness();
    trip(h);
    expect(h.admit()).toEqual({ ok: false, retryAfterMs: 30_000 });
    await h.clock.advance(12_345);
    expect(h.admit()).toEqual({ ok: false, retryAfterMs: 17_655 });
    expect(effectiveKind(h.state, h.clock.now())).toBe('open');
    await h.clock.advance(17_655);
    expect(effectiveKind(h.state, h.clock.now())).toBe('halfOpen');
  });

  it('half-open admits exactly N probes, no more while they are in flight; all succeeding closes it', async () => {
    const h = harness();
    trip(h);
    await h.clock.advance(30_000);
    const probes = [h.admit(), h.admit(), h.admit()];
    expect(probes.every((p) => p.ok && p.probe)).toBe(true);
    const refused = h.admit();
    expect(refused.ok).toBe(false);
    expect(h.state.kind).toBe('halfOpen');
    h.result(tokenOf(probes[0]), true);
    // A finished probe does not free a slot: N successes are needed, N at most admitted.
    expect(h.admit().ok).toBe(false);
    h.result(tokenOf(probes[1]), true);
    expect(h.state.kind).toBe('halfOpen');
    h.result(tokenOf(probes[2]), true);
    expect(h.state).toMatchObject({ kind: 'closed', failures: 0 });
    expect(h.admit()).toMatchObject({ ok: true, probe: false });
  });

  it('a probe failure reopens with the cooldown doubled, up to the cap; closing resets it', async () => {
    const h = harness();
    trip(h);
    const cooldowns: number[] = [];
    for (let i = 0; i < 6; i++) {
      await h.clock.advance((h.state as { cooldownMs: number }).cooldownMs);
      const probe = h.admit();
      h.result(tokenOf(probe), false);
      expect(h.state.kind).toBe('open');
      cooldowns.push((h.state as { cooldownMs: number }).cooldownMs);
      expect(h.admit()).toEqual({ ok: false, retryAfterMs: cooldowns[i] });
    }
    expect(cooldowns).toEqual([60_000, 120_000, 240_000, 300_000, 300_000, 300_000]);
    await h.clock.advance(300_000);
    const probes = [h.admit(), h.admit(), h.admit()];
    for (const p of probes) h.result(tokenOf(p), true);
    expect(h.state.kind).toBe('closed');
    trip(h);
    expect(h.state).toMatchObject({ kind: 'open', cooldownMs: 30_000 });
  });

  it('ignores results from an earlier phase', async () => {
    const h = harness();
    const old = tokenOf(h.admit());
    trip(h);
    await h.clock.advance(30_000);
    const probe = h.admit();
    h.result(old, false); // admitted while closed; finished after the breaker opened
    expect(h.state.kind).toBe('halfOpen');
    h.result(tokenOf(probe), true);
    expect(h.state).toMatchObject({ kind: 'halfOpen', successes: 1 });
  });

  it('frees a probe slot when released, or when its lease runs out', async () => {
    const h = harness();
    trip(h);
    await h.clock.advance(30_000);
    const probes = [h.admit(), h.admit(), h.admit()];
    expect(h.admit().ok).toBe(false);
    h.set(releaseProbe(h.state, tokenOf(probes[0])));
    expect(h.admit()).toMatchObject({ ok: true, probe: true });
    expect(h.admit().ok).toBe(false);
    await h.clock.advance(policy.probeLeaseMs);
    expect(h.admit()).toMatchObject({ ok: true, probe: true });
  });

  it('operator open holds without a cooldown until closed', () => {
    const h = harness();
    h.set(forceOpen(h.state, h.clock.now(), { cooldownMs: null, probes: 3, by: 'operator:ann', reason: 'maintenance' }));
    expect(h.admit()).toEqual({ ok: false, retryAfterMs: null });
    h.set(forceClose(h.state, h.clock.now()));
    expect(h.admit()).toMatchObject({ ok: true, probe: false });
  });

  it('state is plain JSON', () => {
    const h = harness();
    trip(h);
    expect(JSON.parse(JSON.stringify(h.state))).toEqual(h.state);
  });
});
