import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createGuard, loadConfigFile } from '../../src/index.ts';
import { runCli } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir });

const configFile = join(dir, 'fmguard.yaml');
writeFileSync(
  configFile,
  `store: { kind: sqlite, path: state.db }
providers: { sim: { kind: simulated } }
models: { sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
toolServers: { demo: { kind: builtin } }
tenants: { acme: {} }
agents:
  bot:
    tenant: acme
    keys: [sk-cli-test-key-0001]
    allow: { models: [sim-*], tools: [demo.*] }
    approve: { tools: [demo.send_email] }
`,
);

describe('the fmguard command line', { timeout: 120_000 }, () => {
  it('config check prints the resolved config with secrets masked, or every error with its path', async () => {
    const ok = await cli('config', 'check', configFile);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('maxSteps: 50');
    expect(ok.out).toContain('****0001');
    expect(ok.out).not.toContain('sk-cli-test-key-0001');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'agents:\n  bot: { tenant: nobody, limits: { maxSteps: 0, maxCost: 1 } }\n');
    const failed = await cli('config', 'check', bad);
    expect(failed.code).toBe(1);
    expect(failed.err).toContain('agents.bot.limits.maxSteps: expected a positive integer');
    expect(failed.err).toContain('agents.bot.limits.maxCost: unknown key');
    expect(failed.err).not.toMatch(/\n\s+at /);
  });

  it('policy check reports file:line; policy compile prints the shorthand as Cedar', async () => {
    const compiled = await cli('policy', 'compile', configFile);
    expect(compiled.out).toContain('@id("agent:bot:allow:tools:demo.*")');
    expect(compiled.out).toContain('@approval("required")');
    const policyFile = join(dir, 'broken.cedar');
    writeFileSync(policyFile, '@id("x")\npermit (principal, action, resource)\nwhen { context.nothing == 1 };\n');
    const badConfig = join(dir, 'bad-policy.yaml');
    writeFileSync(
      badConfig,
      `providers: { sim: { kind: simulated } }\nmodels: { m: { provider: sim, inputPerMTok: 1, outputPerMTok: 1 } }\ntenants: { acme: {} }\nagents: { bot: { tenant: acme, policies: broken.cedar } }\n`,
    );
    const checked = await cli('policy', 'check', badConfig);
    expect(checked.code).toBe(1);
    expect(checked.out).toMatch(/broken\.cedar:3:\d+: error/);
  });

  it('approvals and kill switches work across processes through the SQLite store; audit verify catches tampering', { timeout: 180_000 }, async () => {
    const config = loadConfigFile(configFile);
    const guard = createGuard({ config });
    const run = await guard.startRun({ agent: 'bot' });
    const refused = await run
      .callTool({ tool: 'demo.send_email', args: { to: 'a@example.com' }, execute: () => 'sent' })
      .catch((e: { details: { approvalId: string } }) => e);
    const id = (refused as { details: { approvalId: string } }).details.approvalId;

    const listed = await cli('approvals', 'list', '-c', configFile);
    expect(listed.out).toContain(id);
    expect((await cli('approvals', 'approve', id, '-c', configFile, '--by', 'alice')).out).toContain('approved by alice');
    await expect(run.callTool({ tool: 'demo.send_email', args: { to: 'a@example.com' }, execute: () => 'sent' })).resolves.toMatchObject({ result: 'sent' });

    expect((await cli('kill', `run:${run.id}`, '-c', configFile, '--reason', 'from the cli')).code).toBe(0);
    // The guard polls the store for kills made by other processes.
    for (let i = 0; i < 400 && !run.signal.aborted; i++) await new Promise((r) => setTimeout(r, 50));
    expect(run.signal.aborted).toBe(true);
    expect((await cli('runs', 'list', '-c', configFile)).out).toContain('kill.switch');
    await guard.close();

    const verified = await cli('audit', 'verify', '-c', configFile);
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/^OK: \d+ events verified/);
    const query = await cli('audit', 'query', '-c', configFile, '--code', 'approval.required');
    expect(query.out).toContain('demo.send_email');

    const db = new Database(join(dir, 'state.db'));
    const table = (db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'audit%events%'").get() as { name: string }).name;
    db.prepare(
      `UPDATE ${table} SET body = replace(body, 'demo.send_email', 'demo.read_file') WHERE seq = (SELECT MIN(seq) FROM ${table} WHERE body LIKE '%demo.send_email%')`,
    ).run();
    db.close();
    const tampered = await cli('audit', 'verify', '-c', configFile);
    expect(tampered.code).toBe(1);
    expect(tampered.out).toMatch(/TAMPERED: event #\d+ changed/);
  });

  it('bad usage exits 2 with help, never a stack trace', async () => {
    const result = await cli('bogus');
    expect(result.code).toBe(2);
    expect(result.err).toContain("unknown command 'bogus'");
  });
});
