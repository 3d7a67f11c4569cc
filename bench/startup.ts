/**
 * npm run bench:startup [-- --sizes 10,100,1000,10000] [-- --no-write] — startup cost with many agents.
 * For each size, a config whose agents each have allow/deny shorthand over a few models and tools
 * (most agents' shorthand has the same shape with other names, as in real fleets). Measures, median of
 * 3 (process.hrtime): the policy engine build as `createGuard` does it (`openPolicyEngine`: compile,
 * validate, warm every (agent, model) and (agent, tool) pair), `createGuard` itself on the memory store,
 * and the wall time of `fmguard config check` (a process) on the 1,000-agent file. Writes the section
 * "Startup with many agents (bench:startup)" of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load.ts';
import { createGuard } from '../src/wiring/guard.ts';
import { openPolicyEngine } from '../src/wiring/policy.ts';
import { fmguardCommand, REPO } from './fmguard-cli.ts';
import { manyAgentsConfig } from './many-agents.ts';
import { writeSection } from './results.ts';

const { values: opts } = parseArgs({
  options: { sizes: { type: 'string', default: '10,100,1000,10000' }, 'no-write': { type: 'boolean', default: false }, label: { type: 'string', default: '' } },
});
const SIZES = opts.sizes.split(',').map(Number);

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

{
  const rows: string[] = ['| agents | policy engine build ms (median of 3) | `createGuard` ms (median of 3) | runs |', '|---:|---:|---:|---|'];
  const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-startup-'));
  let checkLine = '';
  try {
    for (const n of SIZES) {
      const input = manyAgentsConfig(n);
      const config = parseConfig(input);
      const engine: number[] = [];
      const guard: number[] = [];
      for (let r = 0; r < 3; r++) {
        let start = process.hrtime.bigint();
        openPolicyEngine(config);
        engine.push(ms(start));
        start = process.hrtime.bigint();
        const g = createGuard({ config, audit: false, background: false });
        guard.push(ms(start));
        await g.close();
      }
      console.log(`${n} agents: engine ${engine.map(fmt).join(', ')} ms; createGuard ${guard.map(fmt).join(', ')} ms`);
      rows.push(`| ${n.toLocaleString('en-US')} | ${fmt(median(engine))} | ${fmt(median(guard))} | ${engine.map(fmt).join(' / ')} |`);
      if (n === 1000) {
        const file = join(dir, 'agents-1000.json');
        writeFileSync(file, JSON.stringify(input));
        const cmd = fmguardCommand('config', 'check', file);
        const walls: number[] = [];
        for (let r = 0; r < 3; r++) {
          const start = process.hrtime.bigint();
          const out = spawnSync(cmd.command, cmd.args, { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
          walls.push(ms(start));
          if (out.status !== 0) throw new Error(`fmguard config check failed (${out.status}): ${out.stderr}`);
        }
        console.log(`config check, 1,000 agents: ${walls.map(fmt).join(', ')} ms`);
        checkLine = `\`fmguard config check\` on the 1,000-agent file (a process: Node start, config load, the same checks \`serve\` runs, printing the resolved config): ${fmt(median(walls))} ms wall (median of 3: ${walls.map(fmt).join(' / ')}).`;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const body = [
    'Each agent has allow/deny shorthand over 2 models and 3–4 tools (5–6 generated Cedar policies, the same shapes with other names). "Policy engine build" is `openPolicyEngine` as `createGuard` runs it (compile, validate against the schema, prepare every configured (agent, model) and (agent, tool) pair). Target (issue 13): 1,000 agents start in under 1 s.',
    '',
    ...rows,
    '',
    checkLine,
    '',
    `Load average at the start of the run: ${loadavg()[0]!.toFixed(2)} (a shared 2-core machine).${opts.label ? ` ${opts.label}` : ''}`,
  ].join('\n');
  console.log(body);
  if (!opts['no-write']) writeSection('Startup with many agents (bench:startup)', body);
}
