import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/audit-log.ts';
import { createJsonlAuditSink } from '../../src/backends/jsonl/audit.ts';
import { createRedactor, isSecretKey, REDACTED, redact, redactString } from '../../src/audit/redact.ts';
import { createSqliteAuditSink } from '../../src/backends/sqlite/audit.ts';

const OPENAI_KEY = 'sk-proj-Abc123def456Ghi789jkl012MNO345pqr678';
const AGENT_KEY = 'fmg_support_7Hq2XoP9';

describe('redact', () => {
  it('masks secrets by key name but keeps token counts', () => {
    const out = redact({
      apiKey: 'abc',
      api_key: 'abc',
      'x-api-key': 'abc',
      OPENAI_API_KEY: 'abc',
      authorization: 'Bearer abc',
      Authorization: 'Basic abc',
      key: 'abc',
      password: 1234,
      userPassword: 'hunter2',
      client_secret: 'abc',
      accessToken: 'abc',
      token: 'abc',
      cookie: 'sid=1',
      inputTokens: 120,
      outputTokens: 30,
      maxTokens: 4096,
      max_tokens: 4096,
      maxToken: 4096,
      total_tokens: 150,
      tokenizer: 'cl100k',
      keyboard: 'us',
      monkey: 'george',
    }) as Record<string, unknown>;
    for (const k of [
      'apiKey',
      'api_key',
      'x-api-key',
      'OPENAI_API_KEY',
      'authorization',
      'Authorization',
      'key',
      'password',
      'userPassword',
      'client_secret',
      'accessToken',
      'token',
      'cookie',
    ]) {
      expect(out[k], k).toBe(REDACTED);
    }
    expect(out).toMatchObject({
      inputTokens: 120,
      outputTokens: 30,
      maxTokens: 4096,
      max_tokens: 4096,
      maxToken: 4096,
      total_tokens: 150,
      tokenizer: 'cl100k',
      keyboard: 'us',
      monkey: 'george',
    });
  });

  it('masks a secret-named object whole', () => {
    expect(redact({ credentials: { user: 'a', pass: 'b' }, headers: { Authorization: 'x', accept: 'json' } })).toEqual({
      credentials: REDACTED,
      headers: { Authorization: REDACTED, accept: 'json' },
    });
  });

  it('masks values that look like keys anywhere in a string', () => {
    expect(redactString(`calling with ${OPENAI_KEY} now`)).toBe(`calling with ${REDACTED} now`);
    expect(redactString('sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).toBe(REDACTED);
    expect(redactString('header: Bearer eyAbcdefghijklmnopqrstuvwxyz0123')).toBe(`header: Bearer ${REDACTED}`);
    expect(redactString('AKIAIOSFODNN7EXAMPLE')).toBe(REDACTED);
    expect(redactString('a task-list, a disk-image, sk-learn')).toBe('a task-list, a disk-image, sk-learn');
  });

  it('masks known secret values wherever they appear', () => {
    const r = createRedactor({ secrets: [AGENT_KEY] });
    expect(r({ note: `key ${AGENT_KEY} used`, list: [AGENT_KEY] })).toEqual({ note: `key ${REDACTED} used`, list: [REDACTED] });
  });

  it('masks configured fields by bare name or dotted path, whatever the value', () => {
    const r = createRedactor({ fields: ['ssn', 'input.card_number', 'items.cvv', 'headers.*'] });
    const out = r({
      args: {
        ssn: 123456789,
        input: { card_number: '4111111111111111', amount: 20 },
        card_number: 'top-level: not the configured path',
        items: [{ cvv: 123, name: 'a' }],
        headers: { x: '1', y: '2' },
      },
    });
    expect(out).toEqual({
      args: {
        ssn: REDACTED,
        input: { card_number: REDACTED, amount: 20 },
        card_number: 'top-level: not the configured path',
        items: [{ cvv: REDACTED, name: 'a' }],
        headers: { x: REDACTED, y: REDACTED },
      },
    });
  });

  it('turns any value into plain JSON', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(redact({ d: new Date(0), n: NaN, b: 10n, u: undefined, f: () => 1, cyclic, m: new Map([['k2', 1]]) })).toEqual({
      d: '1970-01-01T00:00:00.000Z',
      n: null,
      b: '10',
      cyclic: { a: 1, self: '[Circular]' },
      m: { k2: 1 },
    });
  });

  it('decides weak names by value', () => {
    expect(isSecretKey('sessionToken', 'abc')).toBe(true);
    expect(isSecretKey('sessionToken', 5)).toBe(false);
    expect(isSecretKey('secret', 5)).toBe(true);
    expect(isSecretKey('inputTokens', 'abc')).toBe(false);
  });
});

describe('no secret reaches a stored log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fmguard-redact-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('in SQLite or JSON Lines', async () => {
    const dbPath = join(dir, 'state.db');
    const jsonlPath = join(dir, 'audit.jsonl');
    const sinks = [createSqliteAuditSink({ path: dbPath }), createJsonlAuditSink({ path: jsonlPath })];
    for (const sink of sinks) {
      const log = createAuditLog({ sink, redactFields: ['password', 'input.card_number'], secrets: [AGENT_KEY] });
      log.record({
        type: 'call.allowed',
        run: 'r1',
        agent: 'shop-bot',
        action: 'callTool',
        resource: 'shop.pay',
        usage: { inputTokens: 10, outputTokens: 5 },
        details: {
          args: { input: { card_number: '4111111111111111', amount: 20 }, password: 'hunter2' },
          upstream: { apiKey: OPENAI_KEY, headers: { authorization: `Bearer ${AGENT_KEY}` } },
          message: `provider said: invalid key ${OPENAI_KEY}`,
          principal: AGENT_KEY,
        },
      });
      await log.close();
    }
    const db = new Database(dbPath, { readonly: true });
    const stored = (db.prepare('SELECT body FROM audit_events').all() as Array<{ body: string }>).map((r) => r.body).join('\n');
    db.close();
    for (const text of [stored, readFileSync(jsonlPath, 'utf8')]) {
      for (const secret of [OPENAI_KEY, AGENT_KEY, '4111111111111111', 'hunter2']) expect(text).not.toContain(secret);
      expect(text).toContain('"amount":20');
      expect(text).toContain('"inputTokens":10');
    }
  });
});
