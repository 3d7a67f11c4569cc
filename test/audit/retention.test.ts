import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { sign } from '../../src/audit/anchor.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import type { AuditCheckpoint } from '../../src/store/audit.ts';
import { FakeClock } from '../../src/testing/fake-clock.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { gatewayConfig } from '../gateway/helpers.ts';
import { runCli } from '../cli/helpers.ts';

const KEY = 'retention-key-retention-key-retention-key';
const dir = mkdtempSync(join(tmpdir(), 'fmguard-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verify(config: string, anchors: string) {
  const { code, out } = await runCli(['audit', 'verify', '-c', config, '--anchor', anchors], { cwd: dir, env: { ...process.env, FMGUARD_AUDIT_KEY: KEY } });
  return { code, out };
}

/** The same config on a copy of the state file, for an attack. */
function copyOf(file: string, state: string, name: string) {
  const copy = join(dir, `${name}.db`);
  copyFileSync(state, copy);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, readFileSync(file, 'utf8').replace(JSON.stringify(state), JSON.stringify(copy)));
  return { copy, config };
}

it('prunes by age behind a signed checkpoint; verify starts there and catches what is done to it', async () => {
  const state = join(dir, 'state.db');
  const anchors = join(dir, 'anchors.jsonl');
  const file = join(dir, 'fmguard.yaml');
  writeFileSync(
    file,
    JSON.stringify(gatewayConfig({}, { store: { kind: 'sqlite', path: state }, audit: { anchor: { path: anchors }, retention: { maxAge: '1h' } } } as never)),
  );
  const clock = new FakeClock();
  const guard = createGuard({ config: loadConfigFile(file, { env: { ...process.env, FMGUARD_AUDIT_KEY: KEY } }), clock });
  const call = async (i: number) =>
    (await guard.startRun({ agent: 'bot', id: `r-${i}` })).callModel({ model: 'sim-small', messages: [{ role: 'user', content: `${i}` }] });
  for (let i = 0; i < 20; i++) await call(i);
  await clock.advance(2 * 3_600_000); // the runs' wall time ends on the way: run.stopped events, old too
  await guard.audit!.flush();
  const old = (await guard.audit!.sink.head()).head!.seq;
  for (let i = 20; i < 30; i++) await call(i);
  await guard.audit!.flush();

  const [cut] = await guard.audit!.pruner!.pruneNow();
  expect(cut).toMatchObject({ pruned: old, checkpoint: { seq: old } });
  const total = (await guard.audit!.sink.head()).head!.seq;
  await guard.close();
  // The checkpoint went to the anchor file too, beside the last head.
  const lines = readFileSync(anchors, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; seq: number });
  expect(lines.map((l) => l.type)).toContain('checkpoint');

  const ok = await verify(file, anchors);
  expect(ok.code).toBe(0);
  expect(ok.out).toMatch(new RegExp(`^OK: ${total - old} events verified`));
  expect(ok.out).toMatch(new RegExp(`checkpoint: events up to #${old} were pruned`));

  // The checkpoint row removed: the first event left no longer starts anything.
  const noCheckpoint = copyOf(file, state, 'no-checkpoint');
  new Database(noCheckpoint.copy).exec('DELETE FROM audit_checkpoint');
  const a = await verify(noCheckpoint.config, anchors);
  expect(a.code).toBe(1);
  expect(a.out).toMatch(/TAMPERED: event #1 removed/);

  // Events cut just past the checkpoint, the checkpoint left as it was: a hole after it.
  const cutPast = copyOf(file, state, 'cut-past');
  new Database(cutPast.copy).prepare('DELETE FROM audit_events WHERE seq <= ?').run(old + 3);
  const b = await verify(cutPast.config, anchors);
  expect(b.code).toBe(1);
  expect(b.out).toMatch(new RegExp(`TAMPERED: event #${old + 1} removed`));

  // The same cut behind a new checkpoint signed with another key: named as not signed with this key.
  const forged = copyOf(file, state, 'forged');
  {
    const db = new Database(forged.copy);
    const last = db.prepare('SELECT seq, hash, body FROM audit_events WHERE seq = ?').get(old + 3) as { seq: number; hash: string; body: string };
    const checkpoint: Omit<AuditCheckpoint, 'sig'> = { chain: '', seq: last.seq, hash: last.hash, time: Date.now(), writers: {} };
    const writer = (JSON.parse(last.body) as { writer: string; wseq: number }).writer;
    checkpoint.writers[writer] = (JSON.parse(last.body) as { wseq: number }).wseq;
    db.prepare('DELETE FROM audit_events WHERE seq <= ?').run(old + 3);
    db.prepare('UPDATE audit_checkpoint SET body = ?').run(
      JSON.stringify({ ...checkpoint, sig: sign('some-other-key-some-other-key-some-other', checkpoint) }),
    );
    db.close();
  }
  const c = await verify(forged.config, anchors);
  expect(c.code).toBe(1);
  expect(c.out).toMatch(new RegExp(`TAMPERED: event #${old + 3} unsigned .*checkpoint`));
});
