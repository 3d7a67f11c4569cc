import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/fmguard.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fmguard-live-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

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
