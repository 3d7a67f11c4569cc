import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'fmguard-live-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (cwd: string, ...args: string[]) => runCli(args, { cwd });

describe('fmguard models', { timeout: 120_000 }, () => {
  it('shows each model price and its source; refuses a model without a price', async () => {
    const file = join(dir, 'fmguard.yaml');
    writeFileSync(
      file,
      `store: { kind: memory }
providers: { oai: { kind: openai, baseUrl: "http://127.0.0.1:1/v1" }, sim: { kind: simulated } }
models:
  gpt-4o-mini: { provider: oai }
  cheap-4o: { provider: oai, upstreamModel: gpt-4o-mini, outputPerMTok: 0.5 }
  sim-small: { provider: sim, inputPerMTok: 1, outputPerMTok: 2 }
`,
    );
    const table = await cli(dir, 'models', '-c', file);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^MODEL\s+PROVIDER\s+INPUT \$\/MTok\s+OUTPUT \$\/MTok\s+CACHED \$\/MTok\s+PRICE SOURCE/);
    expect(table.out).toMatch(/gpt-4o-mini\s+oai\s+0\.15\s+0\.6\s+0\.075\s+catalogue/);
    expect(table.out).toMatch(/cheap-4o\s+oai\s+0\.15\s+0\.5\s+0\.075\s+config\+catalogue/);
    expect(table.out).toMatch(/sim-small\s+sim\s+1\s+2\s+1\s+config/);
    const json = JSON.parse((await cli(dir, 'models', '-c', file, '--json')).out);
    expect(json.models[0]).toEqual({
      model: 'gpt-4o-mini',
      provider: 'oai',
      inputPerMTok: 0.15,
      outputPerMTok: 0.6,
      cachedInputPerMTok: 0.075,
      source: 'catalogue',
    });

    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      `store: { kind: memory }\nproviders: { oai: { kind: openai, baseUrl: "http://127.0.0.1:1/v1" } }\nmodels: { in-house-9: { provider: oai } }\n`,
    );
    for (const args of [
      ['models', '-c', bad],
      ['config', 'check', bad],
      ['serve', '-c', bad, '-p', '0'],
    ]) {
      const refused = await cli(dir, ...args);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('models.in-house-9: no price');
    }
  });
});

describe('fmguard budgets reset|adjust', { timeout: 120_000 }, () => {
  it("adjusts and resets the current window's spend in the store, audited; the guard then refuses or admits on it", async () => {
    const { createGuard } = await import('../../src/wiring/guard.ts');
    const { createSimModel } = await import('../../src/providers/simulated/sim-model.ts');
    const file = join(dir, 'budgets.yaml');
    writeFileSync(
      file,
      `store: { kind: sqlite, path: budgets.db }
providers: { sim: { kind: simulated } }
models: { sim-small: { provider: sim, inputPerMTok: 0.15, outputPerMTok: 0.6 } }
tenants: { acme: { budgets: [{ period: month, maxCostUsd: 100 }] } }
agents:
  bot: { tenant: acme, keys: [sk-budget-test-0001], budgets: [{ period: day, maxCostUsd: 5 }], allow: { models: ['*'] } }
`,
    );
    const up = await cli(dir, 'budgets', 'adjust', 'agent:bot', '5', '-c', file, '--reason', 'invoice correction');
    expect(up.err).toBe('');
    expect(up.out).toMatch(/^agent:bot day \d{4}-\d{2}-\d{2}: spent \$0 -> \$5$/m);
    const { loadConfigFile } = await import('../../src/config/load.ts');
    const call = async () => {
      const guard = createGuard({ config: loadConfigFile(file), providers: { sim: createSimModel() } });
      try {
        const run = await guard.startRun({ agent: 'bot' });
        await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }] });
        return 'ok';
      } catch (error) {
        return (error as { code: string }).code;
      } finally {
        await guard.close();
      }
    };
    expect(await call()).toBe('budget.exhausted');
    const down = JSON.parse((await cli(dir, 'budgets', 'adjust', 'agent:bot', '-c', file, '--json', '--', '-1.5')).out);
    expect(down.budgets).toEqual([expect.objectContaining({ scope: 'agent:bot', period: 'day', beforeUsd: 5, afterUsd: 3.5 })]);
    const reset = await cli(dir, 'budgets', 'reset', 'agent:bot', '-c', file);
    expect(reset.out).toMatch(/agent:bot day .*: spent \$3\.5 -> \$0/);
    expect(await call()).toBe('ok');
    const tenant = await cli(dir, 'budgets', 'adjust', 'tenant:acme', '2', '-c', file, '--period', 'month');
    expect(tenant.out).toMatch(/^tenant:acme month \d{4}-\d{2}: spent \$[\d.e-]+ -> \$2\.\d+/m);

    expect((await cli(dir, 'budgets', 'reset', 'agent:nobody', '-c', file)).err).toContain('no agent "nobody" in the config');
    expect((await cli(dir, 'budgets', 'adjust', 'agent:bot', 'lots', '-c', file)).code).not.toBe(0);

    const audit = await cli(dir, 'audit', 'query', '-c', file, '--type', 'admin.action', '--json');
    const events = JSON.parse(audit.out);
    expect(events.map((e: { action: string; resource: string }) => `${e.action} ${e.resource}`)).toEqual([
      'budget.adjust agent:bot',
      'budget.adjust agent:bot',
      'budget.reset agent:bot',
      'budget.adjust tenant:acme',
    ]);
    expect(events[0].details).toMatchObject({ by: 'cli', reason: 'invoice correction', beforeUsd: 0, afterUsd: 5, deltaUsd: 5 });
  });
});
