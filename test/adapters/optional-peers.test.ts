import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WITHOUT_FRAMEWORKS = fileURLToPath(new URL('./fixtures/without-frameworks.mjs', import.meta.url));

/** A fresh Node process (through tsx) in which no framework package can be resolved. */
function runWithoutFrameworks(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', WITHOUT_FRAMEWORKS, '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the frameworks are optional peers', () => {
  it('importing fmguard loads none of them, and the SDK works', async () => {
    const script = `
      const { createGuard } = await import('./src/index.ts');
      const guard = createGuard({ config: {
        store: { kind: 'memory' },
        providers: { sim: { kind: 'simulated' } },
        models: { m: { provider: 'sim', inputPerMTok: 1, outputPerMTok: 1 } },
        tenants: { t: {} },
        agents: { a: { tenant: 't', allow: { models: ['*'] } } },
      } });
      const run = await guard.startRun({ agent: 'a' });
      const { usage } = await run.callModel({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      await guard.close();
      console.log('ok', usage.outputTokens > 0);
    `;
    const result = await runWithoutFrameworks(script);
    expect(result.stderr).not.toContain('framework-import');
    expect(result.stdout.trim()).toBe('ok true');
    expect(result.code).toBe(0);
  });

  it.each([
    ['./src/adapters/ai-sdk/index.ts', 'ai'],
    ['./src/adapters/openai-agents/index.ts', '@openai/agents'],
    ['./src/adapters/langchain/index.ts', '@langchain/core'],
    ['./src/adapters/otel/index.ts', '@opentelemetry/api'],
  ])('%s needs its framework (%s), which the blocked process does not have', async (entry, framework) => {
    const result = await runWithoutFrameworks(`await import(${JSON.stringify(entry)});`);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`framework-import ${framework}`);
  });

  it('package.json declares each framework an optional peer and each adapter a subpath export', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
      exports: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      dependencies: Record<string, string>;
    };
    for (const peer of ['ai', '@openai/agents', 'langchain', '@langchain/core', '@opentelemetry/api']) {
      expect(pkg.peerDependencies[peer]).toBeDefined();
      expect(pkg.peerDependenciesMeta[peer]?.optional).toBe(true);
      expect(pkg.dependencies[peer]).toBeUndefined();
    }
    for (const subpath of ['./ai-sdk', './openai-agents', './langchain', './mcp-client', './otel']) expect(pkg.exports[subpath]).toBeDefined();
  });
});
