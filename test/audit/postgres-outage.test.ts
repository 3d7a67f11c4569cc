/**
 * A Postgres outage under load, through a real gateway: the audit sink reaches the shared Postgres
 * through a TCP proxy on a loopback port that the test cuts and restores (the service itself is never
 * stopped). Events wait in the local spool, /readyz says degraded, and after the link returns every
 * event is in Postgres in order and verify is clean; a restart in the middle loses nothing. With the
 * spool at its bound under fail-closed, calls are refused and none passes unaudited.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPostgresAuditSink } from '../../src/backends/postgres/audit.ts';
import { ask, BOT_KEY, closeAll, gatewayConfig, startGateway, type TestGateway } from '../gateway/helpers.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const PG_URL = process.env.FMGUARD_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const PG_PORT = Number(new URL(PG_URL).port || 5432);
const SCHEMA = `fmguard_outage_${process.pid}_${randomUUID().slice(0, 8)}`;

let admin: pg.Pool;
let proxy: TcpProxy;
let dir: string;

beforeAll(async () => {
  admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
  proxy = await startTcpProxy(PG_PORT);
  dir = mkdtempSync(join(tmpdir(), 'fmguard-outage-'));
});
afterEach(async () => {
  await closeAll();
  proxy.restore();
});
afterAll(async () => {
  await proxy.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

/** The sink's URL through the proxy; every table lands in this run's schema. */
function proxiedUrl(): string {
  const url = new URL(PG_URL);
  url.port = String(proxy.port);
  url.searchParams.set('options', `-c search_path=${SCHEMA}`);
  return url.toString();
}

function config(table: string, audit: Record<string, unknown>) {
  // Each test its own schema-qualified table, by search path and replica name.
  return gatewayConfig({}, { audit: { sink: 'postgres', url: proxiedUrl(), replica: table, flushMs: 5, ...audit } as never });
}

async function chat(gw: TestGateway): Promise<{ status: number; run: string | null; code?: string }> {
  const res = await gw.post(ask('hello'), { authorization: `Bearer ${BOT_KEY}` });
  const body = (await res.json()) as { error?: { code?: string } };
  // The audit log keeps the run's scoped id (`<name>@<agent>`); the header shows the name.
  return { status: res.status, run: `${res.headers.get('x-fmguard-run')}@bot`, code: body.error?.code };
}

/** `n` requests, `width` at a time. */
async function load(gw: TestGateway, n: number, width = 8) {
  const results: Array<Awaited<ReturnType<typeof chat>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        next++;
        results.push(await chat(gw));
      }
    }),
  );
  return results;
}

async function readyz(gw: TestGateway) {
  const res = await fetch(`${gw.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function rowsOf(replica: string) {
  const { rows } = await admin.query<{ seq: string; writer: string | null; wseq: string | null; type: string; run: string | null }>(
    `SELECT seq, writer, wseq, type, run FROM "${SCHEMA}".fmguard_audit_events WHERE replica = $1 ORDER BY seq`,
    [replica],
  );
  return rows.map((r) => ({ seq: Number(r.seq), writer: r.writer, wseq: Number(r.wseq), type: r.type, run: r.run }));
}

async function verifyInPostgres(replica: string) {
  const sink = createPostgresAuditSink({ connectionString: PG_URL, replica, table: `${SCHEMA}.fmguard_audit_events` });
  try {
    return await sink.verify();
  } finally {
    await sink.close();
  }
}

describe('Postgres audit sink through an outage', () => {
  it('spools under load while Postgres is unreachable, says degraded, survives a restart, and drains every event in order', async () => {
    const spool = join(dir, 'outage-spool.db');
    const cfg = config('outage', { spool: { path: spool, maxEvents: 100_000 } });
    let gw = await startGateway({ config: cfg });

    const before = await load(gw, 30);
    await gw.guard.audit!.flush();
    expect((await readyz(gw)).body).toMatchObject({ status: 'ready', audit: { state: 'ok', waiting: 0 } });

    proxy.cut();
    const during = await load(gw, 120);
    await vi.waitFor(() => expect(gw.guard.audit!.state().state).toBe('degraded'));
    const probe = await readyz(gw);
    // Ready but degraded: calls are served and their events kept in the spool.
    expect(probe.status).toBe(200);
    expect(probe.body).toMatchObject({ status: 'degraded', audit: { state: 'degraded', dropped: 0 } });
    expect(probe.body.audit.waiting).toBeGreaterThan(0);
    expect(probe.body.audit.failingSince).toBeTypeOf('number');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/fmguard_audit_state\{state="degraded"\} 1/);

    // A restart while Postgres is still away: the spool keeps the events for the next process.
    await gw.close();
    gw = await startGateway({ config: cfg });
    const afterRestart = await load(gw, 40);
    expect(gw.guard.audit!.state().waiting).toBeGreaterThan(during.length);

    proxy.restore();
    await vi.waitFor(() => expect(gw.guard.audit!.state()).toMatchObject({ state: 'ok', waiting: 0 }), { timeout: 20_000, interval: 100 });
    expect((await readyz(gw)).body).toMatchObject({ status: 'ready', audit: { state: 'ok' } });
    await gw.close();

    const all = [...before, ...during, ...afterRestart];
    expect(all.every((r) => r.status === 200)).toBe(true);
    const rows = await rowsOf('outage');
    // Every served call has its event, once.
    const allowed = rows.filter((r) => r.type === 'call.allowed').map((r) => r.run);
    expect(new Set(allowed)).toEqual(new Set(all.map((r) => r.run)));
    expect(allowed).toHaveLength(all.length);
    // In order: one writer (the spool's, kept across the restart), numbered 1..n with no hole, in chain order.
    expect(new Set(rows.map((r) => r.writer)).size).toBe(1);
    expect(rows.map((r) => r.wseq)).toEqual(rows.map((_, i) => i + 1));
    expect(await verifyInPostgres('outage')).toMatchObject({ ok: true });
  });

  it('fail-closed at the spool bound: calls are refused with store.unavailable, /readyz is 503, and none passes unaudited', async () => {
    const cfg = config('full', { spool: { path: join(dir, 'full-spool.db'), maxEvents: 60 }, onSpoolFull: 'fail-closed' });
    const gw = await startGateway({ config: cfg });
    proxy.cut();
    const results = await load(gw, 80, 4);
    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(served.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.status === 503 && r.code === 'store.unavailable')).toBe(true);
    expect(gw.guard.audit!.state().state).toBe('refusing');
    const probe = await readyz(gw);
    expect(probe.status).toBe(503);
    expect(probe.body).toMatchObject({ error: { code: 'store.unavailable' } });

    proxy.restore();
    await vi.waitFor(() => expect(gw.guard.audit!.state()).toMatchObject({ state: 'ok', waiting: 0 }), { timeout: 20_000, interval: 100 });
    // Admitting again once drained.
    expect((await chat(gw)).status).toBe(200);
    await gw.guard.audit!.flush();
    const rows = await rowsOf('full');
    const audited = new Set(rows.filter((r) => r.type === 'call.allowed').map((r) => r.run));
    for (const r of served) expect(audited.has(r.run)).toBe(true);
    // The refusals caused by the bound were numbered, dropped, and declared by an audit.gap event.
    const result = await verifyInPostgres('full');
    expect(result.ok).toBe(true);
    expect(rows.some((r) => r.type === 'audit.gap')).toBe(true);
    expect((result.gaps ?? []).every((g) => g.declaredBy !== undefined)).toBe(true);
  });

  it('drop at the spool bound: calls go on, the overflow is dropped loudly and declared by an audit.gap event', async () => {
    const errors: string[] = [];
    const cfg = config('dropping', { spool: { path: join(dir, 'drop-spool.db'), maxEvents: 30 }, onSpoolFull: 'drop' });
    const gw = await startGateway({ config: cfg, guard: { onError: (e) => errors.push((e as Error).message) } });
    proxy.cut();
    const results = await load(gw, 40, 4);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(gw.guard.audit!.state().dropped).toBeGreaterThan(0);
    expect(errors.some((m) => /audit events of writer .* are being dropped/.test(m))).toBe(true);
    proxy.restore();
    await vi.waitFor(() => expect(gw.guard.audit!.state()).toMatchObject({ state: 'ok', waiting: 0 }), { timeout: 20_000, interval: 100 });
    const rows = await rowsOf('dropping');
    const gap = rows.find((r) => r.type === 'audit.gap');
    expect(gap).toBeDefined();
    const result = await verifyInPostgres('dropping');
    // Intact, with every hole declared: nothing was lost silently.
    expect(result.ok).toBe(true);
    // verify walks every replica's chain in the table; this one's writer is the spool's.
    const gaps = (result.gaps ?? []).filter((g) => g.writer === gap!.writer);
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps.every((g) => g.declaredBy === gap!.seq)).toBe(true);
    const dropped = gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
    expect(dropped).toBe(gw.guard.audit!.state().dropped);
  });
});
