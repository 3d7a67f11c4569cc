/**
 * npm run bench — every `bench:*` script of package.json, one after another in the order listed
 * there (each in its own npm process, so none shares an event loop or a warm JIT with another).
 * A failing benchmark does not stop the others; the exit code says whether all passed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { REPO } from './fmguard-cli.ts';

const scripts = Object.keys((JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts).filter((name) => name.startsWith('bench:'));
const failed: string[] = [];
for (const name of scripts) {
  process.stderr.write(`\n=== npm run ${name} ===\n`);
  const t0 = performance.now();
  const out = spawnSync('npm', ['run', '--silent', name], { cwd: REPO, stdio: 'inherit' });
  process.stderr.write(`=== ${name}: ${out.status === 0 ? 'done' : `FAILED (${out.status ?? out.signal})`} in ${((performance.now() - t0) / 1000).toFixed(0)} s ===\n`);
  if (out.status !== 0) failed.push(name);
}
process.stderr.write(`\n${scripts.length - failed.length} of ${scripts.length} benchmarks done${failed.length ? `; failed: ${failed.join(', ')}` : ''}. Results: bench/RESULTS.md\n`);
process.exitCode = failed.length ? 1 : 0;
