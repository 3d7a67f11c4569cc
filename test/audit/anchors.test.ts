import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainEvent } from '../../src/audit/chain.ts';
import { signHead } from '../../src/audit/anchor.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import type { ChainHead, StoredEvent } from '../../src/store/audit.ts';
import { ask, BOT_KEY, closeAll, gatewayConfig, startGateway } from '../gateway/helpers.ts';
import { runCli } from '../cli/helpers.ts';

const KEY = 'k'.repeat(16) + randomUUID().replace(/-/g, '');
const PG_URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const SCHEMA = `fmguard_anchor_${process.pid}_${randomUUID().slice(0, 8)}`;
const ADMIN = 'admin-token-for-anchor-tests-0001';

let dir: string;
let admin: pg.Pool;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fmguard-anchor-'));
  admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
});
afterAll(async () => {
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

/** Its stdout; a failure's stderr too. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const { code, out, err } = await runCli(args, { cwd: dir, env: { ...process.env, FMGUARD_AUDIT_KEY: KEY, ...env } });
  return { code, out: code === 0 ? out : out + err };
}

/** A config file, and a gateway on it that serves a few calls, anchors its head, and stops. */
async function logWithAnchors(name: string, audit: Record<string, unknown>, store: Record<string, unknown>) {
  const file = join(dir, `${name}.yaml`);
  const anchors = join(dir, `${name}-anchors.jsonl`);
  const raw = gatewayConfig(
    {},
    { store: store as never, server: { adminToken: ADMIN }, audit: { ...audit, anchor: { path: anchors, everyMs: 60_000 } } as never },
  );
  writeFileSync(file, JSON.stringify(raw));
  const gw = await startGateway({ config: loadConfigFile(file, { env: { ...process.env, FMGUARD_AUDIT_KEY: KEY } }) as never });
  for (let i = 0; i < 5; i++) expect((await gw.post(ask(`hello ${i}`), { authorization: `Bearer ${BOT_KEY}` })).status).toBe(200);
  // The head, signed, over the admin API: what an operator copies elsewhere.
  const res = await fetch(`${gw.url}/admin/audit/head`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const head = (await res.json()) as { head: { seq: number; hash: string; sig: string }; signed: boolean };
  expect(head).toMatchObject({ signed: true, head: { type: 'head' } });
  expect(head.head.seq).toBeGreaterThanOrEqual(10); // at least two events per call
  await gw.close(); // anchors the last head on the way out
  const lines = readFileSync(anchors, 'utf8').trim().split('\n');
  expect(JSON.parse(lines[lines.length - 1]!)).toMatchObject({ type: 'head', seq: head.head.seq, hash: head.head.hash });
  return { file, anchors, n: head.head.seq };
}

/** Re-chain every event after an edit, as an attacker who knows the hashing would. */
function rewrite(events: StoredEvent[], edit: (e: StoredEvent) => StoredEvent): StoredEvent[] {
  let head: ChainHead | undefined;
  return events.map((event) => {
    const next = chainEvent(edit(event), head);
    head = { seq: next.seq, hash: next.hash };
    return next;
  });
}

const cheaper = (e: StoredEvent): StoredEvent => (e.type === 'call.allowed' ? { ...e, costUsd: 0 } : e);

describe('anchors on SQLite', () => {
  it('detect a cut tail and a full rewrite that plain verify passes', async () => {
    const state = join(dir, 'sqlite-state.db');
    const { file, anchors, n } = await logWithAnchors('sqlite', {}, { kind: 'sqlite', path: state });
    expect(await cli(['audit', 'verify', '-c', file, '--anchor', anchors])).toMatchObject({
      code: 0,
      out: expect.stringMatching(new RegExp(`^OK: ${n} events`)),
    });

    // Attack 1: cut the last three events and move the head record back with them.
    const copy1 = join(dir, 'cut.db');
    writeFileSync(copy1, readFileSync(state));
    const cutConfig = join(dir, 'cut.yaml');
    writeFileSync(cutConfig, readFileSync(file, 'utf8').replace(JSON.stringify(state), JSON.stringify(copy1)));
    {
      const db = new Database(copy1);
      db.prepare('DELETE FROM audit_events WHERE seq > ?').run(n - 3);
      const last = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as ChainHead;
      db.prepare('UPDATE audit_head SET seq = ?, hash = ?').run(last.seq, last.hash);
      db.close();
    }
    expect(await cli(['audit', 'verify', '-c', cutConfig])).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^OK: ${n - 3} events`)) });
    const cut = await cli(['audit', 'verify', '-c', cutConfig, '--anchor', anchors]);
    expect(cut.code).toBe(1);
    expect(cut.out).toMatch(new RegExp(`TAMPERED: event #${n - 2} removed`));

    // Attack 2: rewrite every event (the costs zeroed) with recomputed hashes and a matching head.
    const copy2 = join(dir, 'rewrite.db');
    writeFileSync(copy2, readFileSync(state));
    const rewriteConfig = join(dir, 'rewrite.yaml');
    writeFileSync(rewriteConfig, readFileSync(file, 'utf8').replace(JSON.stringify(state), JSON.stringify(copy2)));
    {
      const db = new Database(copy2);
      const events = (db.prepare('SELECT body FROM audit_events ORDER BY seq').all() as Array<{ body: string }>).map((r) => JSON.parse(r.body) as StoredEvent);
      const forged = rewrite(events, cheaper);
      const update = db.prepare('UPDATE audit_events SET body = ?, hash = ?, prev_hash = ? WHERE seq = ?');
      for (const e of forged) update.run(JSON.stringify(e), e.hash, e.prevHash, e.seq);
      db.prepare('UPDATE audit_head SET seq = ?, hash = ?').run(forged.at(-1)!.seq, forged.at(-1)!.hash);
      db.close();
    }
    expect(await cli(['audit', 'verify', '-c', rewriteConfig])).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^OK: ${n} events`)) });
    const rewritten = await cli(['audit', 'verify', '-c', rewriteConfig, '--anchor', anchors]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.out).toMatch(new RegExp(`TAMPERED: event #${n} changed .*differs from the anchor`));

    // And an anchor line forged for the rewritten head without the key is named as such.
    const forgedAnchors = join(dir, 'forged-anchors.jsonl');
    writeFileSync(forgedAnchors, readFileSync(anchors));
    const db = new Database(copy2, { readonly: true });
    const head = db.prepare('SELECT seq, hash FROM audit_head').get() as ChainHead;
    db.close();
    appendFileSync(forgedAnchors, `${JSON.stringify(signHead('not-the-key-not-the-key-not-the-key', '', head, Date.now()))}\n`);
    const forged = await cli(['audit', 'verify', '-c', rewriteConfig, '--anchor', forgedAnchors]);
    expect(forged.code).toBe(1);
    expect(forged.out).toMatch(/TAMPERED: .* unsigned .*not signed with this key/);
    // Without the key, anchors cannot be checked at all.
    expect((await cli(['audit', 'verify', '-c', rewriteConfig, '--anchor', anchors], { FMGUARD_AUDIT_KEY: '' })).code).not.toBe(0);
  });
});

describe('anchors on Postgres', () => {
  it('detect a cut tail and a full rewrite of a replica chain that plain verify passes', async () => {
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${SCHEMA}`);
    const { file, anchors, n } = await logWithAnchors(
      'pg',
      { sink: 'postgres', url: url.toString(), replica: 'anchored', spool: { path: join(dir, 'pg-spool.db') } },
      { kind: 'memory' },
    );
    const table = `"${SCHEMA}".fmguard_audit_events`;
    const heads = `"${SCHEMA}".fmguard_audit_events_heads`;
    expect(await cli(['audit', 'verify', '-c', file, '--anchor', anchors])).toMatchObject({
      code: 0,
      out: expect.stringMatching(new RegExp(`^OK: ${n} events`)),
    });

    const { rows } = await admin.query<{ body: string }>(`SELECT body FROM ${table} WHERE replica = 'anchored' ORDER BY seq`);
    const original = rows.map((r) => JSON.parse(r.body) as StoredEvent);
    const restore = async () => {
      await admin.query(`DELETE FROM ${table} WHERE replica = 'anchored'`);
      for (const e of original) {
        await admin.query(
          `INSERT INTO ${table} (replica, seq, time, type, run, agent, tenant, code, writer, wseq, prev_hash, hash, body)
          VALUES ('anchored', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            e.seq,
            e.time,
            e.type,
            e.run ?? null,
            e.agent ?? null,
            e.tenant ?? null,
            e.code ?? null,
            e.writer ?? null,
            e.wseq ?? null,
            e.prevHash,
            e.hash,
            JSON.stringify(e),
          ],
        );
      }
      await admin.query(`UPDATE ${heads} SET seq = $1, hash = $2 WHERE replica = 'anchored'`, [original.at(-1)!.seq, original.at(-1)!.hash]);
    };

    // Attack 1: cut the tail and the head row with it.
    await admin.query(`DELETE FROM ${table} WHERE replica = 'anchored' AND seq > $1`, [n - 3]);
    await admin.query(`UPDATE ${heads} SET seq = $1, hash = $2 WHERE replica = 'anchored'`, [n - 3, original[n - 4]!.hash]);
    expect(await cli(['audit', 'verify', '-c', file])).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^OK: ${n - 3} events`)) });
    const cut = await cli(['audit', 'verify', '-c', file, '--anchor', anchors]);
    expect(cut.code).toBe(1);
    expect(cut.out).toMatch(new RegExp(`TAMPERED: event #${n - 2} removed .*replica anchored`));
    await restore();

    // Attack 2: rewrite the whole chain with recomputed hashes.
    const forged = rewrite(original, cheaper);
    for (const e of forged) {
      await admin.query(`UPDATE ${table} SET body = $1, hash = $2, prev_hash = $3 WHERE replica = 'anchored' AND seq = $4`, [
        JSON.stringify(e),
        e.hash,
        e.prevHash,
        e.seq,
      ]);
    }
    await admin.query(`UPDATE ${heads} SET hash = $1 WHERE replica = 'anchored'`, [forged.at(-1)!.hash]);
    expect(await cli(['audit', 'verify', '-c', file])).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^OK: ${n} events`)) });
    const rewritten = await cli(['audit', 'verify', '-c', file, '--anchor', anchors]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.out).toMatch(new RegExp(`TAMPERED: event #${n} changed .*differs from the anchor`));
  });
});
