import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { describeConfig } from '../../src/config/mask.ts';
import { ConfigError } from '../../src/config/problems.ts';
import { runCli } from '../cli/helpers.ts';

const KEY = 'an-audit-key-of-forty-characters-0123456';
const base = { providers: { sim: { kind: 'simulated' } }, tenants: { acme: {} } };
const dir = mkdtempSync(join(tmpdir(), 'fmguard-audit-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(input: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig({ ...base, ...input }, { env });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('audit config', () => {
  it('refuses a Redis store that does not name where audit goes, and accepts one that does', () => {
    const redis = { store: { kind: 'redis', url: 'redis://127.0.0.1:6379' } };
    expect(problems(redis)).toEqual([expect.stringMatching(/^audit.sink: the redis store keeps no audit log/)]);
    expect(problems({ ...redis, audit: { sink: 'none' } })).toEqual([]);
    expect(problems({ ...redis, audit: { sink: 'postgres', url: 'postgresql://db/audit' } })).toEqual([]);
  });

  it('says so through fmguard config check', async () => {
    const file = join(dir, 'redis.yaml');
    writeFileSync(file, JSON.stringify({ ...base, store: { kind: 'redis', url: 'redis://127.0.0.1:6379' } }));
    const run = await runCli(['config', 'check', file], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.err).toMatch(/audit.sink: the redis store keeps no audit log/);
  });

  it('needs a key of 32 characters or more, from the config or FMGUARD_AUDIT_KEY, for anchors and retention', () => {
    const anchor = { audit: { anchor: { path: 'anchors.jsonl' } } };
    expect(problems(anchor)).toEqual([expect.stringMatching(/^audit.anchor: .*FMGUARD_AUDIT_KEY/)]);
    expect(problems(anchor, { FMGUARD_AUDIT_KEY: KEY })).toEqual([]);
    expect(problems({ audit: { key: 'short', retention: { maxAge: '30d' } } })).toEqual([expect.stringMatching(/^audit.key: .*at least 32/)]);
    const parsed = parseConfig({ ...base, ...anchor }, { env: { FMGUARD_AUDIT_KEY: KEY } });
    expect(parsed.audit.key).toBe(KEY);
    // Resolved into the config, and masked wherever the config is shown.
    expect(JSON.stringify(describeConfig(parsed))).not.toContain(KEY);
  });

  it('refuses retention on a sink that cannot prune, and a spool on a local sink', () => {
    expect(problems({ audit: { sink: 'jsonl', key: KEY, retention: { maxAge: '30d' } } })).toEqual([expect.stringMatching(/^audit.retention: /)]);
    expect(problems({ audit: { sink: 'sqlite', spool: { maxEvents: 10 } } })).toEqual([expect.stringMatching(/^audit.spool: /)]);
    expect(problems({ audit: { onSpoolFull: 'sometimes' } })).toEqual([expect.stringMatching(/^audit.onSpoolFull: expected "fail-closed" or "drop"/)]);
  });
});
