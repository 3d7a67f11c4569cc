import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { isStopCode } from '../../src/core/codes.ts';
import type { Gateway } from '../../src/gateway/index.ts';
import { createSimModel } from '../../src/providers/simulated/sim-model.ts';
import type { Guard } from '../../src/runtime/guard.ts';
import { createGateway } from '../../src/wiring/gateway.ts';
import { createGuard } from '../../src/wiring/guard.ts';
import { ADMIN_TOKEN, BOT_KEY, edgeConfig, OTHER_KEY } from '../edge/helpers.ts';
import { type FuzzRequest, generate } from './generator.ts';

const SEED = 20_261_203;
const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const CONCURRENCY = 16;
const FOREIGN_RUN = 'fuzz-foreign-run';

let guard: Guard;
let gateway: Gateway;
let url: URL;
const crashed: unknown[] = [];
const onCrash = (error: unknown) => crashed.push(error);

beforeAll(async () => {
  const base = edgeConfig();
  const config = {
    ...base,
    alarms: [
      {
        name: 'sim-errors',
        scope: 'provider:sim',
        metric: 'error_rate',
        period: '10s',
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparison: 'GreaterThanThreshold',
        threshold: 0,
        treatMissingData: 'notBreaching',
        actions: [],
      },
    ],
  } as ConfigInput;
  guard = createGuard({ config, providers: { sim: createSimModel() }, audit: false });
  gateway = createGateway({ guard, onError: (error) => crashed.push(error) });
  url = new URL((await gateway.listen(0, '127.0.0.1')).url);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // A run that belongs to the other agent: the fuzz names it as a foreign run.
  const res = await fetch(new URL('/v1/chat/completions', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${OTHER_KEY}`, 'content-type': 'application/json', 'x-fmguard-run': FOREIGN_RUN },
    body: JSON.stringify({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  await gateway.close(100);
  await guard.close();
});

interface Outcome {
  status: number;
  code?: string;
  json: boolean;
  error?: string;
}

function send(agent: Agent, r: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json = false;
        try {
          JSON.parse(text);
          json = true;
        } catch {}
        const code = res.headers['x-fmguard-code'];
        resolve({ status: res.statusCode ?? 0, code: typeof code === 'string' ? code : undefined, json });
      });
      res.on('error', (e) => resolve({ status: 0, json: false, error: e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, json: false, error: e.code ?? e.message }));
    req.end(r.body);
  });
}

describe('fuzz: hostile requests on every route (issue 11 item 13)', () => {
  it(`${COUNT} seeded requests: no 500, no crash, no breaker or alarm moved, every error a catalogue code`, async () => {
    const started = Date.now();
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const requests = generate(SEED, COUNT, {
      agentKey: BOT_KEY,
      otherKey: OTHER_KEY,
      adminToken: ADMIN_TOKEN,
      foreignRunId: FOREIGN_RUN,
      model: 'sim-small',
      mcpServer: 'demo',
    });
    const statuses = new Map<number, number>();
    const codes = new Map<string, number>();
    const bad: string[] = [];
    let sent = 0;
    let resets = 0;
    const worker = async () => {
      for (;;) {
        const next = requests.next();
        if (next.done) return;
        const r = next.value;
        sent++;
        let o = await send(agent, r);
        // A keep-alive socket the server closed as it was reused. There were ~364 of 10,000: every one
        // followed a GET or DELETE whose body Node's client sends unframed (no Content-Length, not
        // chunked), which the server parsed as a next request, refused, and closed on without saying so.
        // It now answers that 400 with `connection: close` (test/edge/keep-alive.test.ts), so none is
        // expected; counted, and resent on a fresh connection so the rest of the checks still run.
        if (o.status === 0) {
          resets++;
          o = await send(false as unknown as Agent, r);
        }
        statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
        if (o.code) codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
        const isError = o.status >= 400 || o.status === 0;
        const problem =
          o.status === 0
            ? `no answer (${o.error})`
            : o.status >= 500 && o.code !== 'store.unavailable' && o.code !== 'breaker.open' && o.code !== 'rate.limited'
              ? `status ${o.status} ${o.code}`
              : isError && !(o.code && isStopCode(o.code) && (o.json || r.method === 'HEAD'))
                ? `error without a catalogue body: ${o.status} ${o.code}`
                : undefined;
        if (problem && bad.length < 20) bad.push(`${problem} ← ${r.method} ${r.path.slice(0, 60)} [${r.kind}]`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `fuzz: ${sent} requests in ${seconds.toFixed(1)} s (${resets} keep-alive resets resent); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; codes ${JSON.stringify(Object.fromEntries([...codes].sort()))}`,
    );
    expect(sent).toBe(COUNT);
    expect(resets).toBe(0);
    if (bad.length > 0) console.log(bad.join('\n'));
    expect(bad).toEqual([]);
    expect(statuses.get(500) ?? 0).toBe(0);
    expect(crashed).toEqual([]);

    // Nothing shared moved: every breaker closed with no failure counted, no alarm in ALARM.
    const board = await fetch(new URL('/admin/live/breakers', url), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { breakers } = (await board.json()) as { breakers: Array<{ scope: string; kind: string; failures?: number }> };
    for (const b of breakers) expect({ scope: b.scope, kind: b.kind, failures: b.failures ?? 0 }).toEqual({ scope: b.scope, kind: 'closed', failures: 0 });
    await guard.metrics.flush();
    await guard.alarms?.evaluateAll();
    const alarms = await fetch(new URL('/admin/alarms', url), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { alarms: states } = (await alarms.json()) as { alarms: Array<{ name: string; state: string }> };
    expect(states.length).toBe(1);
    for (const a of states) expect(a.state).not.toBe('ALARM');
    // The gateway still serves.
    const ok = await fetch(new URL('/v1/chat/completions', url), {
      method: 'POST',
      headers: { authorization: `Bearer ${OTHER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-small', messages: [{ role: 'user', content: 'still there?' }] }),
    });
    expect(ok.status).toBe(200);
  }, 240_000);
});
