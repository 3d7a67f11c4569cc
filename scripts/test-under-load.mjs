#!/usr/bin/env node
// `npm run test:stress -- [runs] [busy processes]`: the whole suite `runs` times in a row (default 5)
// while `busy` processes (default: one per core) spin, as a loaded CI machine would. Prints each run's
// result and wall time; exits 1 if any run failed. Issue 20: the suite must stay green under load.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

const runs = Number(process.argv[2] ?? 5);
const busy = Number(process.argv[3] ?? availableParallelism());
const spinners = Array.from({ length: busy }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
const stop = () => spinners.forEach((p) => p.kill('SIGKILL'));
process.on('exit', stop);
process.on('SIGINT', () => process.exit(130));

const results = [];
for (let i = 1; i <= runs; i++) {
  const started = Date.now();
  const run = spawnSync('npx', ['vitest', 'run'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ run: i, ok: run.status === 0, seconds });
  console.log(`\n== test:stress run ${i}/${runs} with ${busy} busy processes: ${run.status === 0 ? 'passed' : 'FAILED'} in ${seconds} s\n`);
}
stop();
console.log(results.map((r) => `run ${r.run}: ${r.ok ? 'passed' : 'FAILED'} (${r.seconds} s)`).join('\n'));
process.exit(results.every((r) => r.ok) ? 0 : 1);
